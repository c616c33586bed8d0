"""Entry point for ``python -m gda_core``."""

import sys

from gda_core._compat.threads import prefer_short_spinning

prefer_short_spinning()  # before torch is imported (see gda_core/_compat/threads.py)

from gda_core.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
