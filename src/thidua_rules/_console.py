"""The ``thidua`` command's entry point, kept apart from :mod:`thidua_rules.cli` so that a Ctrl-C
while the command is still importing is reported like one during the run: one line, exit 130."""

from __future__ import annotations

import sys

EXIT_INTERRUPTED = 130


def run() -> int:
    try:
        from .cli import console

        return console()
    except KeyboardInterrupt:  # before cli.main's own handlers are in place (or after they left)
        sys.stderr.write("thidua: interrupted\n")
        return EXIT_INTERRUPTED
