"""Shared fixtures: paths to the shipped example, and golden-file comparison with --update-golden."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_POLICY = ROOT / "policies" / "cum8-2022.toml"
EXAMPLE_DATA = ROOT / "examples" / "cum8-2022" / "units.toml"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite golden files from current output")


class Golden:
    """Compare text with a golden file; with --update-golden, write it instead (and still fail)."""

    def __init__(self, update: bool) -> None:
        self.update = update

    def check(self, path: Path, text: str) -> None:
        if self.update or not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            existed = path.exists() and path.read_text(encoding="utf-8") == text
            path.write_text(text, encoding="utf-8", newline="\n")
            if not existed:
                pytest.fail(f"golden file {path.relative_to(ROOT)} written; review the diff and rerun")
        assert text == path.read_text(encoding="utf-8")


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    return Golden(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def example_policy():
    from thidua_rules import load_policy

    return load_policy(EXAMPLE_POLICY, display="policies/cum8-2022.toml")


@pytest.fixture(scope="session")
def example_result(example_policy):
    from thidua_rules import evaluate, load_data

    data = load_data(EXAMPLE_DATA, example_policy, display="examples/cum8-2022/units.toml")
    return evaluate(example_policy, data)
