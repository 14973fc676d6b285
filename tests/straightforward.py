"""Every fast path of the engine switched to its straightforward counterpart at once.

The fast pieces are each tested against their own straightforward code (``test_kernel``,
``test_expression_codegen``, ``test_fastpath``, ``test_unitline_speed``, ``test_loader_speed``,
``test_stream_cells``; titles and ranking against the reference engine, ``test_conformance``); :func:`straightforward_paths` puts all of those
straightforward codes together, so that a whole run — CSV in, JSON lines out — can be compared
byte for byte with the fast one (``tests/test_identity.py`` on small data in CI,
``benchmarks/check_identity.py`` on 100k units). It patches module attributes of this process
only: use it with ``jobs=1``, and load the policy inside it (expressions are compiled to Python
at their first call, so a policy loaded outside keeps its generated functions).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest


def fresh_plans(monkeypatch) -> None:
    """Plans asked for under the patch are built under it and forgotten after it: each policy's
    :class:`~thidua_rules.plans.Program` keeps them apart, under a key of this patch's own, from
    the plans it made before (and will use again after)."""
    from thidua_rules import plans

    own, original = object(), plans.Program.plan

    def plan(self, kind, policy, build):
        return original(self, (own, kind), policy, build)

    monkeypatch.setattr(plans.Program, "plan", plan)


@contextmanager
def straightforward_paths() -> Iterator[None]:
    """Inside: scoring by the loops (no kernel), expressions as closure trees, every unit and field
    through the loader's checks with the plain digest, CSV rows read by ``csv_rows``, and unit
    records as encoded documents. (Titles and ranking have no twin here: the conformance suite
    compares them with the reference engine, ``reference.decide_titles`` and ``rank_units``.)"""
    from thidua_rules import scoring, stream
    from thidua_rules.expressions import compiler
    from thidua_rules.loader import digest

    from .test_fastpath import _straightforward_loading

    with pytest.MonkeyPatch.context() as m:
        fresh_plans(m)  # the per-policy plans made again under the patches, then forgotten
        _straightforward_loading(m)
        m.setattr(scoring, "build_kernel", lambda *args, **kwargs: None)
        m.setattr(compiler, "MAX_GENERATED", -1)  # no text is short enough: the closure trees
        m.setattr(stream, "canonical_cluster_text", digest.canonical_cluster_json)
        m.setattr(stream.CsvCells, "usable", property(lambda self: False))
        yield
