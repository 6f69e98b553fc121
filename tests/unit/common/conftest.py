from __future__ import annotations

import sys
from pathlib import Path

# enricher_posts: valid and poison envelopes, shared with the enricher's tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures" / "enricher"))
