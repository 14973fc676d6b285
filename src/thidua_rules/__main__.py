"""`python -m thidua_rules` runs the CLI."""

from __future__ import annotations

import sys

from ._console import run

sys.exit(run())
