"""`thidua whatif`: golden answers on the shipped example, the reasons for what cannot be reached,
errors, and a property test that every change it prints flips the decision it names."""

from __future__ import annotations

import copy
import json
import tomllib
from decimal import Decimal
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thidua_rules import evaluate, parse_data
from thidua_rules.cli import main
from thidua_rules.whatif import WON, what_if

from .conftest import EXAMPLE_DATA, EXAMPLE_POLICY, ROOT

GOLDEN = ROOT / "tests" / "golden" / "cum8-2022"


@pytest.mark.parametrize(("unit", "fmt", "ext"), [
    ("cuc-tbkv", "text", "txt"), ("cuc-qlxddt", "text", "txt"), ("vien-khcn", "text", "txt"),
    ("cuc-tbkv", "json", "json"), ("cuc-qlxddt", "json", "json"), ("cuc-qlxddt", "markdown", "md"),
], ids=lambda v: str(v))
def test_whatif_golden(capsys, golden, unit, fmt, ext):
    """`thidua whatif` on the shipped example is the reviewed golden text."""
    assert main(["whatif", str(EXAMPLE_POLICY), str(EXAMPLE_DATA), unit, "--format", fmt]) == 0
    golden.check(GOLDEN / f"whatif-{unit}.{ext}", capsys.readouterr().out)


def test_whatif_unknown_unit_is_one_line(capsys):
    """An unknown unit is one error line with a did-you-mean, exit 2, nothing on stdout."""
    assert main(["whatif", str(EXAMPLE_POLICY), str(EXAMPLE_DATA), "cuc-tbk"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"{EXAMPLE_DATA}: unknown unit 'cuc-tbk' (did you mean 'cuc-tbkv'?)\n"


def test_whatif_takes_a_name(capsys):
    """The unit may be named as `explain` takes it (its name, accents and case folded)."""
    assert main(["whatif", str(EXAMPLE_POLICY), str(EXAMPLE_DATA), "cục trang bị và kho vận"]) == 0
    assert capsys.readouterr().out.startswith("what if: Cục Trang bị và kho vận (cuc-tbkv)")


def test_whatif_bad_format(capsys):
    """An unknown --format is argparse's one line, exit 2."""
    assert main(["whatif", str(EXAMPLE_POLICY), str(EXAMPLE_DATA), "cuc-tbkv", "--format", "xml"]) == 2
    assert capsys.readouterr().err.startswith("thidua: whatif: --format: unknown value 'xml'")


def test_whatif_budget_cut_is_said(capsys):
    """A search cut by --max-evaluations says so, in the summary and on each target not found."""
    assert main(["whatif", str(EXAMPLE_POLICY), str(EXAMPLE_DATA), "cuc-tbkv", "--max-evaluations", "3",
                 "-f", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["search"] == {"budget": 3, "cut": True, "evaluations": 3}
    rank = next(t for t in doc["targets"] if t["kind"] == "rank")
    assert rank["cut"] is True and rank["changes"] == []
    assert rank["unreachable"].startswith("not found before the search was cut after 3 evaluations")


def test_nothing_missed(example_policy, example_result):
    """The unit that won everything, ranked first in the top band, has no target and costs no evaluation."""
    data = _example_data(example_policy, _example_doc())
    answer = what_if(example_policy, data, example_result, "cuc-cntt")
    assert answer.targets == () and answer.evaluations == 0


def _example_doc() -> dict[str, Any]:
    return tomllib.loads(EXAMPLE_DATA.read_text(encoding="utf-8"))


def _example_data(policy, doc):
    return parse_data(tomli_w.dumps(doc).encode("utf-8"), policy, file="units.toml")


def test_discipline_and_deferral_are_not_reachable(example_policy):
    """A unit under a running discipline period, or deferred, gets no title by any change: said, not searched."""
    doc = _example_doc()
    doc["discipline"] = [{"unit": "cuc-vt-cy", "level": "khien_trach", "from": 2022, "until": 2022}]
    doc["deferrals"] = [{"unit": "cuc-qlxddt", "reason": "đang xác minh đơn", "titles": []}]
    data = _example_data(example_policy, doc)
    result = evaluate(example_policy, data)
    answer = what_if(example_policy, data, result, "cuc-vt-cy")
    titles = [t for t in answer.targets if t.kind == "title"]
    assert titles and all(t.unreachable.startswith("discipline: discipline (khien_trach) runs 2022–2022")
                          for t in titles)
    assert all(not t.changes for t in titles)
    deferred = what_if(example_policy, data, result, "cuc-qlxddt")
    assert all(t.unreachable.startswith("deferred") for t in deferred.targets if t.kind == "title")
    # The band and the rank stay reachable: the unit is still scored and ranked.
    band = next(t for t in deferred.targets if t.kind == "band")
    assert [c.name for c in band.changes] == ["joint_activities", "members", "members_advanced"]


def test_history_and_prerequisite_reasons(example_policy, example_result):
    """A streak that needs earlier years and a ladder title whose prerequisite is not won are named as such."""
    data = _example_data(example_policy, _example_doc())
    answer = what_if(example_policy, data, example_result, "cuc-qlxddt")
    by_id = {t.id: t for t in answer.targets if t.kind == "title"}
    assert by_id["bang_khen_bo_truong"].unreachable == (
        "it depends on the unit's history (consecutive_years(band == 'xuat_sac') = 0): earlier years "
        "cannot be changed")
    assert by_id["don_vi_quyet_thang"].unreachable.startswith("a prerequisite title is not won")


def test_points_needed_match_the_gap(example_policy, example_result):
    """Points needed for the next band are the exact gap where the item has room, else why not."""
    data = _example_data(example_policy, _example_doc())
    answer = what_if(example_policy, data, example_result, "cuc-qlxddt")
    band = next(t for t in answer.targets if t.kind == "band")
    assert band.gap == Decimal("4.50")
    needed = {p.id: p.needed for p in band.points}
    assert needed["phoi_hop_cum"] == Decimal("4.50") and needed["chat_luong_cbcs"] == Decimal("4.50")
    assert needed["chi_tieu"] is None and needed["dot_xuat"] is None  # 3.50 left; at its maximum


# ---------------------------------------------------------------- property: every change flips it

RATINGS = ["xuat_sac", "tot", "hoan_thanh", "khong_hoan_thanh"]


@st.composite
def clusters(draw: Any) -> dict[str, Any]:
    """A valid cluster of the example policy: 3 to 6 units, ballots for the two flags, some history."""
    size = draw(st.integers(3, 6))
    units = []
    for k in range(size):
        targets = draw(st.integers(5, 20))
        ad_hoc = draw(st.integers(1, 8))
        members = draw(st.integers(20, 200))
        completed = members - draw(st.sampled_from([0, 0, 1, 3]))
        units.append({
            "id": f"u{k}", "name": f"Đơn vị {k}",
            "targets_assigned": targets, "targets_done": draw(st.integers(targets * 3 // 4, targets)),
            "ad_hoc_assigned": ad_hoc, "ad_hoc_done": draw(st.integers(ad_hoc // 2, ad_hoc)),
            "advisory_adopted": draw(st.integers(0, 12)), "joint_activities": draw(st.integers(0, 4)),
            "party_rating": draw(st.sampled_from(RATINGS)),
            "members": members, "members_completed": completed,
            "members_advanced": draw(st.integers(members // 3, completed)),
            "emulation_fighters": draw(st.integers(0, members // 10)),
            "ad_hoc_commendations": draw(st.integers(0, 3)),
            "members_disciplined": draw(st.sampled_from([0, 0, 1, 2])),
            "inspection_findings": draw(st.sampled_from([0, 0, 1])),
        })
    ids = [u["id"] for u in units]
    votes = [{"title": title, "voters": size,
              "yes": {i: draw(st.integers(0, size)) for i in ids if draw(st.booleans())}}
             for title in ("co_thi_dua_bca", "co_thi_dua_chinh_phu")]
    history = [{"unit": i, "year": 2021, "band": draw(st.sampled_from(RATINGS)), "titles": []}
               for i in ids if draw(st.booleans())]
    doc: dict[str, Any] = {"cluster": {"id": "c1", "name": "Cụm", "year": 2022}, "units": units, "votes": votes}
    if history:
        doc["history"] = history
    return doc


def _apply(doc: dict[str, Any], unit: str, change: Any, field_types: dict[str, str]) -> dict[str, Any]:
    """The data document with one change written into it, as a user would edit the file."""
    changed = copy.deepcopy(doc)
    if change.kind == "votes":
        ballot = next(b for b in changed["votes"] if b["title"] == change.name)
        ballot["yes"][unit] = int(change.after)
        return changed
    row = next(u for u in changed["units"] if u["id"] == unit)
    kind = field_types[change.name]
    row[change.name] = (int(change.after) if kind == "integer" else change.after == "true" if kind == "boolean"
                        else Decimal(change.after) if kind == "decimal" else change.after)
    return changed


def _holds(policy, result, unit: str, target: Any, base: Any) -> bool:
    after = result.unit(unit)
    if target.kind == "title":
        return next(t.status for t in after.titles if t.title == target.id) in WON
    if target.kind == "rank":
        return after.rank < base.rank
    bands = [b.id for b in policy.bands]
    return (bands.index(after.band) if after.band in bands else len(bands)) <= bands.index(target.id)


@settings(max_examples=15, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(doc=clusters(), pick=st.integers(0, 5))
def test_every_change_flips_what_it_names(example_policy, doc, pick):
    """Written into the data and evaluated from scratch, each change whatif prints flips its target;
    a change found by the step-by-step scan is the smallest: one step less does not flip it."""
    policy = example_policy
    data = _example_data(policy, doc)
    result = evaluate(policy, data)
    unit = doc["units"][pick % len(doc["units"])]["id"]
    base = result.unit(unit)
    answer = what_if(policy, data, result, unit, budget=600)
    types = {f.id: f.type for f in policy.inputs}
    for target in answer.targets:
        assert not _holds(policy, result, unit, target, base)
        for change in target.changes:
            flipped = evaluate(policy, _example_data(policy, _apply(doc, unit, change, types)))
            assert _holds(policy, flipped, unit, target, base), (target.id, change)
            if change.kind == "input" and change.found_by in ("scan", "bisect") and types[change.name] == "integer":
                before, after = int(change.before), int(change.after)
                if abs(after - before) > 1:
                    one_less = after - (1 if after > before else -1)
                    smaller = attrs_evolve(change, after=str(one_less))
                    less = evaluate(policy, _example_data(policy, _apply(doc, unit, smaller, types)))
                    assert not _holds(policy, less, unit, target, base), (target.id, change)


def attrs_evolve(change: Any, **kw: Any) -> Any:
    import attrs

    return attrs.evolve(change, **kw)


CANTHO_POLICY = ROOT / "policies" / "cantho-dan-van.toml"
CANTHO_DATA = ROOT / "examples" / "cantho-2025" / "units.toml"
CANTHO_UNITS = [line.split('"')[1] for line in CANTHO_DATA.read_text(encoding="utf-8").splitlines()
                if line.startswith('id = "') and "phuong-xa" not in line]


@pytest.fixture(scope="module")
def cantho():
    from thidua_rules import load_policy

    policy = load_policy(CANTHO_POLICY)
    doc = tomllib.loads(CANTHO_DATA.read_text(encoding="utf-8"), parse_float=Decimal)
    data = _example_data(policy, doc)
    return policy, doc, data, evaluate(policy, data)


@pytest.mark.parametrize("unit", CANTHO_UNITS)
def test_cantho_changes_flip_what_they_name(cantho, unit):
    """On a policy with booleans, enums, a decimal input, gates, banded bonuses and cross-field
    checks, each change written into the data flips its target, and the data still loads."""
    policy, doc, data, result = cantho
    base = result.unit(unit)
    answer = what_if(policy, data, result, unit)
    types = {f.id: f.type for f in policy.inputs}
    for target in answer.targets:
        for change in target.changes:
            changed = _apply(doc, unit, change, types)
            flipped = evaluate(policy, _example_data(policy, changed))
            assert _holds(policy, flipped, unit, target, base), (target.id, change)


def test_full_quota_is_not_reachable(tmp_path):
    """A unit that passes every check of a title whose quota better-ranked units fill is told so."""
    from thidua_rules import load_data, load_policy

    text = EXAMPLE_POLICY.read_text(encoding="utf-8").replace(
        'quota = { share = 0.5, rounding = "floor" }', "quota = { count = 1 }")
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    policy = load_policy(path)
    data = load_data(EXAMPLE_DATA, policy)
    answer = what_if(policy, data, evaluate(policy, data), "cuc-khtc")
    flag = next(t for t in answer.targets if t.id == "co_thi_dua_bca")
    assert (flag.now, flag.why) == ("over_quota", "quota full: place 2 of limit 1, the places taken by "
                                    "better-ranked units")
    assert flag.votes == "the ballot passes: 5 yes of 6 (yes >= 0.8 × 6 = 4.8)"
    assert flag.changes == ()
    assert flag.unreachable == "the quota is full (limit 1) and no single change puts the unit in it"


@pytest.mark.parametrize(("value", "message"), [
    ("0", "expected a number of evaluations >= 1, got 0"),
    ("x", "expected a number of evaluations, got 'x'"),
])
def test_max_evaluations_must_be_a_count(capsys, value, message):
    """--max-evaluations takes a whole number >= 1; anything else is one line, exit 2."""
    assert main(["whatif", str(EXAMPLE_POLICY), str(EXAMPLE_DATA), "cuc-tbkv", "--max-evaluations", value]) == 2
    assert capsys.readouterr().err == (f"thidua: whatif: --max-evaluations: {message} "
                                       "(usage: thidua whatif POLICY DATA UNIT [options])\n")


def test_whatif_is_the_same_under_another_hash_seed():
    """Another PYTHONHASHSEED, in another process, gives the golden bytes."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    run = subprocess.run([sys.executable, "-m", "thidua_rules", "whatif", str(EXAMPLE_POLICY), str(EXAMPLE_DATA),
                          "cuc-qlxddt", "--format", "json"], capture_output=True, env=env, check=True)
    assert run.stdout.decode("utf-8") == (GOLDEN / "whatif-cuc-qlxddt.json").read_text(encoding="utf-8")


def test_names_cannot_add_lines_or_markup(example_policy):
    """A unit name with a line break, a heading and a link stays one escaped line in text and Markdown."""
    from thidua_rules.report.whatif import render_whatif

    doc = _example_doc()
    doc["units"][1]["name"] = "Cục\n# [x](http://e.vn)\x1b[31m"
    data = _example_data(example_policy, doc)
    answer = what_if(example_policy, data, evaluate(example_policy, data), "cuc-qlxddt")
    text = render_whatif(answer, "text")
    assert text.splitlines()[0] == "what if: Cục\\n# [x](http://e.vn)\\x1b[31m (cuc-qlxddt), cluster cum8"
    markdown = render_whatif(answer, "markdown")
    assert markdown.splitlines()[0] == (
        "# What if: Cục\\\\n\\# \\[x\\](http://e.vn)\\\\x1b\\[31m (`cuc-qlxddt`)")  # \\n shows as \n
