"""Entry point for ``python -m gda_core``."""

import sys

from gda_core._compat.threads import prefer_passive_waiting

prefer_passive_waiting()  # before torch is imported (see gda_core/_compat/threads.py)

from gda_core.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
