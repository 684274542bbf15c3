"""`python -m api` runs the `sidelines` command line."""

import sys

from api.cli import main

sys.exit(main())
