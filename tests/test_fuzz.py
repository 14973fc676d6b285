"""Seeded random damage to the example files never gets past the CLI as a traceback."""

from __future__ import annotations

import contextlib
import io
import random

import pytest

from thidua_rules.cli import main

from .conftest import EXAMPLE_DATA, EXAMPLE_POLICY

VALUES = ["0", "-1", '"x"', "true", "[1, 2]", "{ a = 1 }", "1.5", "99999999999999999999", '"tot"', "[]",
          '"band == 1"', '"1/0"', '""', '"members / 0"', "1e999"]


def damage(lines: list[str], rng: random.Random) -> str:
    """Delete a line, give a key a value of another type, or swap two lines (one to three times)."""
    lines = list(lines)
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(lines))
        roll = rng.random()
        if roll < 0.3:
            del lines[i]
        elif roll < 0.8 and "=" in lines[i]:
            lines[i] = lines[i].split("=")[0] + "= " + rng.choice(VALUES)
        else:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(4))
def test_damaged_inputs_exit_0_or_2_without_a_traceback(tmp_path, seed):
    """Every damaged policy/data pair either evaluates (exit 0) or is reported (exit 2)."""
    rng = random.Random(seed)
    policy_lines = EXAMPLE_POLICY.read_text(encoding="utf-8").splitlines()
    data_lines = EXAMPLE_DATA.read_text(encoding="utf-8").splitlines()
    policy, data = tmp_path / "p.toml", tmp_path / "d.toml"
    for n in range(25):
        policy.write_text(damage(policy_lines, rng) if n % 2 else "\n".join(policy_lines) + "\n", encoding="utf-8")
        data.write_text(damage(data_lines, rng), encoding="utf-8")
        for args in (["evaluate", str(policy), str(data), "-f", "json"],
                     ["explain", str(policy), str(data), "cuc-cntt"]):
            err = io.StringIO()
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
                code = main(args)
            assert code in (0, 2), (n, args, err.getvalue())
            assert "Traceback" not in err.getvalue()
