"""Scoring layers: self-score claims, cross-inspection and council changes with reasons, reconciliation."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from thidua_rules import evaluate, load_data, load_policy, parse_data, render
from thidua_rules.errors import PolicyError
from thidua_rules.report.explain import explain_unit

from .conftest import ROOT

GOLDEN = ROOT / "tests" / "golden" / "layers"
POLICY = GOLDEN / "policy.toml"
DATA = ROOT / "examples" / "cum8-2022" / "units-layers.toml"
PLAIN_DATA = ROOT / "examples" / "cum8-2022" / "units.toml"


@pytest.fixture(scope="module")
def policy():
    return load_policy(POLICY)


@pytest.fixture(scope="module")
def result(policy):
    return evaluate(policy, load_data(DATA, policy, display="examples/cum8-2022/units-layers.toml"))


def _units(result) -> dict:
    return {u["id"]: u for u in json.loads(render(result, "json"))["units"]}


def _layers(result, unit: str, criterion: str) -> list:
    return next(c for c in _units(result)[unit]["explanation"]["criteria"] if c["id"] == criterion)["layers"]


@pytest.mark.parametrize("fmt", ["json", "markdown"])
def test_layers_golden_output(result, golden, fmt):
    """The layered example's JSON and Markdown are byte-for-byte the reviewed golden files."""
    golden.check(GOLDEN / f"expected.{'md' if fmt == 'markdown' else fmt}", render(result, fmt))


def test_layers_english_markdown_golden(result, golden):
    """``--lang en``: the layer lines and the undecided score in English too (the catalogue's
    ``layer_*`` and ``score_undecided``), numbers as the result writes them."""
    text = render(result, "markdown", "en")
    golden.check(GOLDEN / "expected.en.md", text)
    assert "Điểm tính theo số liệu" not in text and "chênh lệch" not in text


@pytest.mark.parametrize("lang", ["en", "vi"])
@pytest.mark.parametrize("unit", ["cuc-qlxddt", "cuc-khtc"])
def test_layers_explain_golden(result, golden, unit, lang):
    """``thidua explain`` lists each layer under its criterion, in either language."""
    suffix = "" if lang == "en" else ".vi"
    golden.check(GOLDEN / f"explain-{unit}{suffix}.txt", explain_unit(result, unit, lang))


def test_claim_is_shown_with_its_difference_and_changes_nothing(result):
    """The self-score 35 of cuc-vt-cy's phoi_hop_cum is 5 above the computed 10, which stays."""
    layers = _layers(result, "cuc-vt-cy", "phoi_hop_cum")
    assert [(s["layer"], s["applied"], s["score"]) for s in layers] == [
        ("computed", "computed", "10.00"), ("tu_cham", "claim", "15.00")]
    assert layers[1]["difference"] == "5.00"
    crit = next(c for c in _units(result)["cuc-vt-cy"]["explanation"]["criteria"] if c["id"] == "phoi_hop_cum")
    assert crit["score"] == "10.00"


def test_cross_inspection_within_takes_the_exact_mean(result):
    """31 and 32 differ by 1 <= 2: the criterion scores their mean 31.50, and the total follows."""
    layers = _layers(result, "cuc-vt-cy", "chi_tieu")
    assert layers[-1]["applied"] == "mean" and layers[-1]["score"] == "31.50" and layers[-1]["spread"] == "1.00"
    assert [e["used"] for e in layers[-1]["scores"]] == [True, True]
    assert _units(result)["cuc-vt-cy"]["total"] == "90.50"  # 90.82 - 31.82 + 31.50


def test_scorers_beyond_within_take_the_third_score(result):
    """4 and 7 differ by 3 > 2: the third scorer's 5 decides."""
    step = _layers(result, "cuc-qlxddt", "tham_muu")[-1]
    assert (step["applied"], step["score"]) == ("third", "5.00")
    assert [(e["scorer"], e["used"]) for e in step["scores"]] == [
        ("cuc-cntt", False), ("cuc-tbkv", False), ("vien-khcn", True)]


def test_council_change_moves_the_ranking(result):
    """The cluster council's 15 for vien-khcn's dot_xuat lifts it from 96.50 to 99.50, second place."""
    unit = _units(result)["vien-khcn"]
    assert (unit["rank"], unit["total"]) == (2, "99.50")


def test_unreconciled_scores_go_to_the_council_and_keep_the_score(result):
    """12 and 14 differ by 2 > 1 under otherwise = "council": 15 is kept and a council item is listed."""
    step = _layers(result, "cuc-khtc", "phoi_hop_cum")[-1]
    assert (step["applied"], step["score"]) == ("council", "15.00")
    council = result.clusters[0].council
    assert [(c.kind, c.title, c.units) for c in council if c.kind == "score_undecided"] == [
        ("score_undecided", "phoi_hop_cum", ("cuc-khtc",))]


def test_mean_is_rounded_half_up_to_the_precision(policy):
    """A mean of 31.01 and 31.02 (31.015) is 31.02, half-up at 2 decimals."""
    data = PLAIN_DATA.read_bytes() + (
        b'\n[[scores]]\nlayer = "kiem_tra_cheo"\nunit = "cuc-vt-cy"\ncriterion = "chi_tieu"\n'
        b'scorer = "a"\nscore = 31.01\nreason = "x"\n'
        b'\n[[scores]]\nlayer = "kiem_tra_cheo"\nunit = "cuc-vt-cy"\ncriterion = "chi_tieu"\n'
        b'scorer = "b"\nscore = 31.02\nreason = "y"\n')
    result = evaluate(policy, parse_data(data, policy, file="data.toml"))
    assert _layers(result, "cuc-vt-cy", "chi_tieu")[-1]["score"] == "31.02"
    score = next(u for u in result.clusters[0].units if u.id == "cuc-vt-cy").score
    assert score.criterion_rows[0][2] == Decimal("31.02")


def test_data_without_scores_gives_the_same_result_under_a_layered_policy(policy):
    """Layers declared but no [[scores]]: the result is the plain policy's, apart from the policy's identity."""
    plain_policy = load_policy(ROOT / "policies" / "cum8-2022.toml")
    plain = json.loads(render(evaluate(plain_policy, load_data(PLAIN_DATA, plain_policy)), "json"))
    layered = json.loads(render(evaluate(policy, load_data(PLAIN_DATA, policy)), "json"))
    del plain["provenance"], layered["provenance"]
    assert plain == layered


def test_a_missing_reason_is_a_data_error(policy):
    """A change layer's score differing from the current score without a reason names unit, criterion, layer."""
    data = PLAIN_DATA.read_bytes() + (
        b'\n[[scores]]\nlayer = "hoi_dong"\nunit = "cuc-cntt"\ncriterion = "tham_muu"\nscorer = "a"\nscore = 9\n')
    with pytest.raises(PolicyError) as info:
        evaluate(policy, parse_data(data, policy, file="data.toml"))
    assert info.value.lines() == [
        "data.toml: scores[0](unit=cuc-cntt): missing 'reason': layer 'hoi_dong' changes criterion 'tham_muu' "
        "of 'cuc-cntt' from 10.00 to 9.00; say why the score differs"]


def test_policy_layer_rules_are_checked(tmp_path: Path):
    """Bad [[scoring.layers]] entries are reported one line each, all at once."""
    text = POLICY.read_text(encoding="utf-8").replace('''[[scoring.layers]]
id = "tu_cham"''', '''[[scoring.layers]]
id = "computed"

[[scoring.layers]]
id = "tu_cham_2"
kind = "clam"

[[scoring.layers]]
id = "tu_cham_3"
kind = "claim"
reconcile = { within = 1, otherwise = "council" }

[[scoring.layers]]
id = "kiem_tra_2"
reconcile = { within = -1, use = "avg", otherwise = "thrid" }

[[scoring.layers]]
id = "tu_cham"''')
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path, display="policy.toml")
    assert info.value.lines() == [
        "policy.toml: scoring.layers[0](id=computed).id: 'computed' is the engine's own score (the base layer); "
        "give the layer another id",
        "policy.toml: scoring.layers[1](id=tu_cham_2).kind: unknown layer kind 'clam' (did you mean 'claim'?); "
        "use 'change' or 'claim'",
        "policy.toml: scoring.layers[2](id=tu_cham_3).reconcile: a claim layer changes no score: it takes one "
        "score per unit and criterion and no 'reconcile' rule",
        "policy.toml: scoring.layers[3](id=kiem_tra_2).reconcile.within: expected a number >= 0, got -1",
        "policy.toml: scoring.layers[3](id=kiem_tra_2).reconcile.use: unknown rule 'avg'; use one of "
        "'mean', 'min', 'max'",
        "policy.toml: scoring.layers[3](id=kiem_tra_2).reconcile.otherwise: unknown rule 'thrid' (did you mean "
        "'third'?); use one of 'third', 'council'",
    ]


def test_layered_result_is_deterministic(policy):
    """The same inputs give byte-identical JSON twice, and the data's digest counts the scores."""
    first = render(evaluate(policy, load_data(DATA, policy)), "json")
    second = render(evaluate(policy, load_data(DATA, policy)), "json")
    assert first == second
    assert load_data(DATA, policy).sha256 != load_data(PLAIN_DATA, policy).sha256


def test_missing_reasons_of_every_cluster_are_reported_at_once(policy):
    """Two clusters each with a change lacking its reason: both lines, in cluster order."""
    import tomllib

    raw = tomllib.loads(DATA.read_text(encoding="utf-8"), parse_float=str)

    def cluster(suffix: str, drop_reason: int) -> dict:
        text = json.dumps({**raw["cluster"], **{k: raw[k] for k in ("units", "scores")}}, ensure_ascii=False)
        for unit in raw["units"]:
            text = text.replace(f'"{unit["id"]}"', f'"{unit["id"]}{suffix}"')
        body = json.loads(text)
        body["id"] = f"cum8{suffix}"
        del body["leader"], body["deputy"]
        body["scores"][drop_reason]["reason"] = ""
        return body

    data = json.dumps({"clusters": [cluster("", 4), cluster("-b", 3)]}, ensure_ascii=False).encode()
    with pytest.raises(PolicyError) as info:
        evaluate(policy, parse_data(data, policy, file="data.json", format="json"))
    assert info.value.lines() == [
        "data.json: clusters[0](id=cum8).scores[4](unit=cuc-vt-cy): missing 'reason': layer 'kiem_tra_cheo' "
        "changes criterion 'chi_tieu' of 'cuc-vt-cy' from 31.82 to 32.00; say why the score differs",
        "data.json: clusters[1](id=cum8-b).scores[3](unit=cuc-vt-cy-b): missing 'reason': layer 'kiem_tra_cheo' "
        "changes criterion 'chi_tieu' of 'cuc-vt-cy-b' from 31.82 to 31.00; say why the score differs",
    ]


def test_json_lines_hold_the_same_layers_as_the_document(result):
    """Each unit record of --format jsonl is the JSON document's unit, layers included."""
    lines = [json.loads(line) for line in render(result, "jsonl").splitlines()]
    records = {r["id"]: {k: v for k, v in r.items() if k != "record"} for r in lines if r.get("record") == "unit"}
    assert records == _units(result)


def test_layers_sheet_of_the_workbook(result, golden):
    """``--format xlsx`` of a layered policy has a ``layers`` sheet after ``scores``: one row per
    score of each layer (scorer, reason, used) with the layer's result and the final score, read
    back by openpyxl as in the golden file; the policies without layers keep their four sheets."""
    from thidua_rules.report.xlsx import to_xlsx

    from .test_spreadsheets import _dump

    data = to_xlsx(result)
    text = _dump(data)
    assert [line for line in text.splitlines() if line.startswith("== ")][:3] == [
        "== scores (freeze A2)", "== layers (freeze A2)", "== ranking (freeze A2)"]
    golden.check(GOLDEN / "expected-xlsx.txt", text)
def test_layers_html_golden(result, golden):
    """The HTML report lists each criterion's layers (self-score → cross-inspection → the council's
    change, with scorers and reasons) under the unit's table, and the undecided score among the
    council items by the criterion's name; byte for byte the reviewed golden page."""
    page = render(result, "html")
    golden.check(GOLDEN / "expected.html", page)
    assert page.count('<ul class="layers">') == 5
    assert ("<li>Kiểm tra chéo: <code>cuc-cntt</code> 4,00 (lý do: 2 văn bản tham mưu ban hành năm 2021, "
            "không tính vào năm 2022); <code>cuc-tbkv</code> 7,00; <code>vien-khcn</code> (người chấm thứ ba) "
            "5,00 (lý do: 1 văn bản ban hành năm 2021; 4 văn bản được tính) → chênh lệch 3,00, quá 2: "
            "lấy điểm của người chấm thứ ba 5,00</li>") in page
    assert "<li><strong>Điểm tiêu chí Tham gia hoạt động chung của Cụm</strong>: Cục Kế hoạch và tài chính — " in page
