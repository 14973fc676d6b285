"""The shipped example (Cụm thi đua số 8, 2022) gives exactly the outcome worked by hand."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import tomli_w

from thidua_rules import evaluate, load_data, parse_data, render

from .conftest import EXAMPLE_DATA, EXAMPLE_POLICY, ROOT

SHARED = ROOT.parent / "shared" / "examples" / "cum8-2022"
GOLDEN = ROOT / "tests" / "golden" / "cum8-2022"

# The table of ../shared/examples/cum8-2022/README.md.
EXPECTED = [
    (1, "cuc-cntt", "102.00", "xuat_sac", ["co_thi_dua_chinh_phu", "bang_khen_bo_truong"]),
    (2, "cuc-khtc", "98.00", "xuat_sac", ["co_thi_dua_bca"]),
    (3, "cuc-tbkv", "98.00", "xuat_sac", ["don_vi_quyet_thang", "bang_khen_bo_truong"]),
    (4, "vien-khcn", "96.50", "xuat_sac", ["don_vi_tien_tien", "bang_khen_bo_truong"]),
    (5, "cuc-vt-cy", "90.82", "tot", ["don_vi_tien_tien"]),
    (6, "cuc-qlxddt", "80.50", "hoan_thanh", []),
]


def _doc(result) -> dict:
    return json.loads(render(result, "json"))


def test_example_outcome_matches_the_hand_worked_table(example_result):
    """Ranks, totals, bands and proposals are those of the example's README."""
    doc = _doc(example_result)
    rows = [(u["rank"], u["id"], u["total"], u["band"], u["proposed"]) for u in doc["units"]]
    assert rows == EXPECTED


def test_example_leadership_rotates_to_vien_khcn_and_cuc_vt_cy(example_result):
    """The unit after cuc-cntt leads in 2023; the rotation wraps round for the deputy."""
    lead = _doc(example_result)["leadership"]
    assert [(x["cluster"], x["year"], x["leader"], x["deputy"]) for x in lead] == [
        ("cum8", 2023, "vien-khcn", "cuc-vt-cy")
    ]


def test_example_explains_the_tie_between_khtc_and_tbkv(example_result):
    """cuc-khtc and cuc-tbkv tie on total and are separated by group chuyen_mon, 60 against 57."""
    units = {u["id"]: u for u in _doc(example_result)["units"]}
    below = units["cuc-khtc"]["explanation"]["ranking"]["below"]
    assert below == {"unit": "cuc-tbkv", "key": "group.chuyen_mon", "this": "60.00", "other": "57.00"}


def test_example_explains_the_failed_vote(example_result):
    """cuc-tbkv misses the ministry flag on 4 of 6 votes against the 80 % threshold."""
    units = {u["id"]: u for u in _doc(example_result)["units"]}
    flag = next(t for t in units["cuc-tbkv"]["explanation"]["titles"] if t["id"] == "co_thi_dua_bca")
    assert flag["status"] == "failed"
    assert flag["checks"][-1] == {
        "check": "votes", "passed": False, "reason": "4 of 6 votes, below 0.8 × 6",
        "code": "vote_below_threshold", "params": {"yes": 4, "voters": 6, "share": "0.8", "needed": "4.8"},
        "seen": {"yes": 4, "voters": 6, "share": "0.8", "needed": "4.8"},
    }


def test_example_explains_vien_khcn_missing_quyet_thang(example_result):
    """79 of 80 members completed their tasks, so vien-khcn is not Đơn vị quyết thắng."""
    units = {u["id"]: u for u in _doc(example_result)["units"]}
    title = next(t for t in units["vien-khcn"]["explanation"]["titles"] if t["id"] == "don_vi_quyet_thang")
    assert title["checks"][-1] == {
        "check": "when", "passed": False, "reason": "'members_completed == members' is false",
        "code": "condition_false", "params": {"condition": "members_completed == members"},
        "seen": {"members": "80", "members_completed": "79"},
    }


@pytest.mark.parametrize("fmt", ["json", "markdown", "toml", "table"])
def test_example_golden_output(example_result, golden, fmt):
    """Every output format of the example is byte-for-byte the reviewed golden file."""
    suffix = {"json": "json", "markdown": "md", "toml": "toml", "table": "txt"}[fmt]
    golden.check(GOLDEN / f"expected.{suffix}", render(example_result, fmt))


@pytest.mark.skipif(not SHARED.exists(), reason="../shared is not beside this checkout")
@pytest.mark.parametrize(("shipped", "contract"), [
    (EXAMPLE_POLICY, "policy.toml"), (EXAMPLE_DATA, "units.toml"),
])
def test_shipped_example_is_the_unchanged_contract(shipped, contract):
    """policies/ and examples/ hold the users' contract files byte for byte."""
    assert Path(shipped).read_bytes() == (SHARED / contract).read_bytes()


def _shuffled_data(seed: int) -> bytes:
    import tomllib
    from decimal import Decimal

    raw = tomllib.loads(EXAMPLE_DATA.read_text(encoding="utf-8"), parse_float=Decimal)
    rng = random.Random(seed)
    for key in ("units", "votes", "history"):
        rng.shuffle(raw[key])
    for unit in raw["units"]:
        items = list(unit.items())
        rng.shuffle(items)
        unit.clear()
        unit.update(items)
    return tomli_w.dumps(raw).encode("utf-8")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shuffled_units_votes_and_history_give_identical_bytes(example_policy, example_result, seed):
    """Input order never reaches the output: shuffled data gives the same JSON bytes."""
    data = parse_data(_shuffled_data(seed), example_policy, file="examples/cum8-2022/units.toml")
    assert render(evaluate(example_policy, data), "json") == render(example_result, "json")


@pytest.mark.parametrize("hashseed", ["0", "12345"])
def test_output_does_not_depend_on_pythonhashseed(tmp_path, example_result, hashseed):
    """A subprocess with another PYTHONHASHSEED writes the same JSON bytes."""
    out = tmp_path / "out.json"
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    subprocess.run([sys.executable, "-m", "thidua_rules", "evaluate", str(EXAMPLE_POLICY), str(EXAMPLE_DATA),
                    "--format", "json", "-o", str(out)], check=True, env=env)
    assert out.read_text(encoding="utf-8") == render(example_result, "json")


def test_example_as_csv_and_json_gives_the_same_result(tmp_path, example_policy, example_result):
    """The same units as JSON give byte-identical output (votes and history come along)."""
    import tomllib
    from decimal import Decimal

    raw = tomllib.loads(EXAMPLE_DATA.read_text(encoding="utf-8"), parse_float=Decimal)
    as_json = json.dumps(raw, default=str, ensure_ascii=False).encode("utf-8")
    data = parse_data(as_json, example_policy, file="units.json", format="json")
    assert render(evaluate(example_policy, data), "json") == render(example_result, "json")


def test_load_data_accepts_the_example(example_policy):
    """The example data file loads unchanged: one cluster, six units, two ballots, six history rows."""
    data = load_data(EXAMPLE_DATA, example_policy)
    (cluster,) = data.clusters
    assert (cluster.id, len(cluster.units), len(cluster.ballots), len(cluster.history)) == ("cum8", 6, 2, 6)
