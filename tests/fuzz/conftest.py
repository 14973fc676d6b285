"""The copy of the shipped inputs that every fuzz example mutates (one per session, restored after each)."""

from __future__ import annotations

import pytest

from .harness import copy_tree


@pytest.fixture(scope="session")
def tree(tmp_path_factory):
    return copy_tree(tmp_path_factory.mktemp("fuzz-tree"))


@pytest.fixture(scope="session")
def failures(tmp_path_factory):
    """Where failing examples are written as regression-case folders."""
    return tmp_path_factory.mktemp("fuzz-failures")
