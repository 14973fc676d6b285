"""Mutated shipped policies, data and test files keep the CLI contract (tests/fuzz/harness.py).

Deterministic: hypothesis derandomized, no example database. ``THIDUA_FUZZ_EXAMPLES`` sets the
examples per target (CI default below); tests/fuzz/README.md describes longer runs.
"""

from __future__ import annotations

import hashlib
import os

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from .cases import write_case
from .known import known_finding
from .mutate import DataChooser
from .targets import TARGETS, Command, Target, run_mutated

EXAMPLES = int(os.environ.get("THIDUA_FUZZ_EXAMPLES", "20"))
# THIDUA_FUZZ_RANDOM=1 leaves the fixed sequence (then --hypothesis-seed=N picks one).
FUZZ = settings(max_examples=EXAMPLES, derandomize=os.environ.get("THIDUA_FUZZ_RANDOM") != "1", database=None, deadline=None, print_blob=False,
                suppress_health_check=list(HealthCheck))


def check(target: Target, data: st.DataObject, tree, failures) -> None:
    mutated, found = run_mutated(tree, target, DataChooser(data))
    unexpected = []
    for violation in found:
        name = known_finding(violation)
        if name is None:
            unexpected.append(violation)
        else:
            event(f"known finding: {name}")
    if unexpected:
        digest = hashlib.sha256(mutated).hexdigest()[:12]
        folder = failures / f"{target.id.replace('/', '-')}-{digest}"
        write_case(folder, target, mutated, Command(unexpected[0].run.argv), unexpected)
        raise AssertionError("\n\n".join(v.describe() for v in unexpected)
                             + f"\n\nreproduction (a regression-case folder): {folder}")


@pytest.mark.parametrize("target", TARGETS["policy"], ids=lambda t: t.id)
@FUZZ
@given(data=st.data())
def test_mutated_policy(target, data, tree, failures):
    """A policy with a key deleted, renamed or misspelt, a value of another type, an extreme number,
    deep nesting or damaged bytes gives exit 0 or 2, one bounded line per problem, nothing written."""
    check(target, data, tree, failures)


@pytest.mark.parametrize("target", TARGETS["data"], ids=lambda t: t.id)
@FUZZ
@given(data=st.data())
def test_mutated_data(target, data, tree, failures):
    """Mutated unit data (TOML, JSON, CSV, JSON lines; in memory and streamed) and members files
    keep the contract."""
    check(target, data, tree, failures)


@pytest.mark.parametrize("target", TARGETS["tests"], ids=lambda t: t.id)
@FUZZ
@given(data=st.data())
def test_mutated_test_file(target, data, tree, failures):
    """Mutated *.tests.toml files: `thidua test` passes (0), fails cases (1) or reports the file (2)."""
    check(target, data, tree, failures)
