import sys

from pulse_indexer.cli import main

sys.exit(main())
