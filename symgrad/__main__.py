"""``python -m symgrad``."""

import sys

from symgrad.cli.main import main

sys.exit(main())
