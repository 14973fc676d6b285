"""``thidua documents POLICY DATA -o FOLDER [--templates DIR]`` and ``thidua evaluate --format docx``."""

from __future__ import annotations

import argparse
from typing import IO, Any

from ..engine import Result
from ..model import Dataset, Policy


def run_documents(args: argparse.Namespace, policy: Policy, data: Dataset, result: Result, out: IO[str]) -> int:
    """Render every document first (a template error leaves nothing written), then write them."""
    from ..report.writers import atomic_output
    from . import render_documents, render_score_sheet, write_documents

    templates: Any = getattr(args, "templates", None)
    lang = getattr(args, "lang", "vi")
    if args.command == "evaluate":  # --format docx: the score sheet, to -o FILE
        sheet = render_score_sheet(policy, data, result, shown=args.data, templates=templates, lang=lang)
        with atomic_output(args.output, binary=True) as handle:
            handle.write(sheet)
        return 0
    files = render_documents(policy, data, result, templates=templates, lang=lang)
    for path in write_documents(args.output, files):
        out.write(f"wrote {path}\n")
    return 0
