"""`python -m pipeline ...` is the `fremskudt` command line."""

import sys

from pipeline.cli import main

sys.exit(main())
