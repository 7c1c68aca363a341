"""`python -m diymod.check --url ...`: the operator's check without a Django setup."""

from __future__ import annotations

import sys

from diymod.check.cli import main

if __name__ == "__main__":
    sys.exit(main())
