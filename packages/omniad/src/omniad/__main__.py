"""``python -m omniad``."""

import sys

from omniad.cli import main

sys.exit(main())
