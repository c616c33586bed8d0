"""Entry point for ``python -m gda_core``."""

import sys

from gda_core.cli import main

if __name__ == "__main__":
    sys.exit(main())
