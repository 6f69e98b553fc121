import sys

from pulse_enricher.cli import main

sys.exit(main())
