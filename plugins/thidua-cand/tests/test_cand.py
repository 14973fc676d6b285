"""The cand plugin: cross-inspection medians, discipline caps, its checks, and its install."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import thidua_cand

from thidua_rules import evaluate, load_data, load_policy, render

REPO = Path(__file__).resolve().parents[3]
POLICY_FILE = REPO / "policies" / "cand-cum5-2023.toml"
DATA_FILE = REPO / "examples" / "cand-cum5-2023" / "units.toml"
CAND = [("cand", thidua_cand)]

POLICY = """\
[policy]
id = "t"
name = "T"
year = 2023
plugins = ["cand"]

[inputs]
head_discipline = { type = "enum", values = ["khong", "khien_trach", "canh_cao", "cach_chuc"] }
cross_score = { type = "decimal", plugin = "cand" }
cross_min = { type = "decimal", plugin = "cand" }
cross_max = { type = "decimal", plugin = "cand" }
cross_count = { type = "integer", plugin = "cand" }

[[criteria]]
id = "kiem_tra_cheo"
points = 100
method = "formula"
formula = "cross_score"

[[bands]]
id = "xuat_sac"
min = 95

[[bands]]
id = "tot"
min = 85

[[bands]]
id = "hoan_thanh"
min = 75

[[bands]]
id = "khong_hoan_thanh"
min = 0

[plugin.cand]
band_caps = { khien_trach = "tot", canh_cao = "hoan_thanh", cach_chuc = "khong_hoan_thanh" }
"""


def data(scores: str, discipline: dict[str, str] | None = None) -> str:
    discipline = discipline or {}
    units = "".join(
        f'\n[[units]]\nid = "{u}"\nname = "{u.upper()}"\nhead_discipline = "{discipline.get(u, "khong")}"\n'
        for u in ("a", "b", "c", "d"))
    return f'[cluster]\nid = "k"\nname = "K"\nyear = 2023\n{units}\n[plugin_data.cand.cross_scores]\n{scores}'


ALL_96 = """\
a = { b = 96, c = 96, d = 96 }
b = { a = 96, c = 96, d = 96 }
c = { a = 96, c = 96, d = 96, b = 96 }
d = { a = 96, b = 96, c = 96 }
"""


def thidua(*args: str) -> str:
    """Run the installed command line (``python -m thidua_rules``) and return its output."""
    done = subprocess.run([sys.executable, "-m", "thidua_rules", *args], capture_output=True,
                          text=True, encoding="utf-8", check=True)
    return done.stdout


def test_shipped_policy_evaluates_to_the_documented_table():
    """The shipped CAND example ranks and bands the four provincial police units as documented."""
    policy = load_policy(POLICY_FILE, display="policies/cand-cum5-2023.toml")
    result = evaluate(policy, load_data(DATA_FILE, policy, display="units.toml"))
    assert render(result, "table").splitlines()[1:] == [
        "rank  unit           total  band        proposed",
        "----  -------------  -----  ----------  ----------------",
        "   1  ca-nghe-an     98.00  tot         don_vi_tien_tien",
        "   2  ca-thanh-hoa   97.50  xuat_sac    co_thi_dua_bca",
        "   3  ca-quang-binh  96.50  hoan_thanh  -",
        "   4  ca-ha-tinh     91.00  tot         don_vi_tien_tien",
    ]


def test_installed_entry_point_and_inline_registration_give_the_same_bytes(thidua_evaluate):
    """The plugin loaded from its entry point and registered inline produce identical JSON."""
    policy_text, data_text = POLICY_FILE.read_text("utf-8"), DATA_FILE.read_text("utf-8")
    installed = thidua_evaluate(policy_text, data_text, format="json")
    inline = thidua_evaluate(policy_text, data_text, plugins=CAND, format="json")
    assert installed == inline


def test_median_of_the_other_units_with_spread_and_self_score_excluded(thidua_evaluate):
    """The median is exact (mean of the middle two for an even count) and a self-score is ignored."""
    scores = """\
a = { b = 90, c = 93.5, d = 97, a = 100 }
b = { a = 80, c = 85, d = 99 }
c = { a = 91, b = 92, d = 94, c = 10 }
d = { a = 70, b = 71, c = 72 }
"""
    doc = thidua_evaluate(POLICY, data(scores), plugins=CAND, format="document")
    a = next(u for u in doc["units"] if u["id"] == "a")
    assert a["explanation"]["derived"] == [
        {"input": "cross_score", "plugin": "cand", "value": "93.5"},
        {"input": "cross_min", "plugin": "cand", "value": "90"},
        {"input": "cross_max", "plugin": "cand", "value": "97"},
        {"input": "cross_count", "plugin": "cand", "value": "3"},
    ]
    assert [(u["id"], u["total"]) for u in doc["units"]] == [
        ("a", "93.50"), ("c", "92.00"), ("b", "85.00"), ("d", "71.00")]
    even = thidua_evaluate(POLICY, data(ALL_96.replace("a = { b = 96, c = 96, d = 96 }",
                                                       "a = { b = 90, c = 95 }")), plugins=CAND)
    assert even.unit("a").score.env["cross_score"] == Decimal("92.5")


def test_discipline_caps_the_band(thidua_evaluate):
    """Khiển trách caps at tot, cảnh cáo at hoan_thanh, cách chức forces khong_hoan_thanh."""
    discipline = {"a": "khong", "b": "khien_trach", "c": "canh_cao", "d": "cach_chuc"}
    doc = thidua_evaluate(POLICY, data(ALL_96, discipline), plugins=CAND, format="document")
    assert {u["id"]: (u["total"], u["band"]) for u in doc["units"]} == {
        "a": ("96.00", "xuat_sac"), "b": ("96.00", "tot"), "c": ("96.00", "hoan_thanh"),
        "d": ("96.00", "khong_hoan_thanh")}
    c = next(u for u in doc["units"] if u["id"] == "c")
    assert c["explanation"]["band"]["caps"] == [
        {"ceiling": "hoan_thanh", "plugin": "cand", "reason": "head disciplined (cảnh cáo): at most 'hoan_thanh'",
         "code": "cand.head_disciplined", "params": {"discipline": "canh_cao", "label": "cảnh cáo",
                                                     "ceiling": "hoan_thanh"}}]


def test_cap_reason_speaks_the_readers_language(thidua_evaluate):
    """The cap's code has texts in both languages (``register_messages``): the Vietnamese report
    names the band and the rule, the English one keeps the result's reason."""
    discipline = {"a": "khong", "b": "khien_trach", "c": "canh_cao", "d": "cach_chuc"}
    policy = POLICY.replace('id = "hoan_thanh"\n', 'id = "hoan_thanh"\nname = "Hoàn thành nhiệm vụ"\n')
    vi = thidua_evaluate(policy, data(ALL_96, discipline), plugins=CAND, format="markdown")
    assert ("  - Giới hạn xếp loại (plugin cand): thủ trưởng đơn vị bị kỷ luật (cảnh cáo): xếp loại không cao "
            "hơn “Hoàn thành nhiệm vụ” (Cần Thơ QĐ 2579/QĐ-UBND 2025 Điều 6 khoản 4–5)") in vi.splitlines()
    assert "head disciplined" not in vi
    en = render(thidua_evaluate(policy, data(ALL_96, discipline), plugins=CAND), "markdown", "en")
    assert "head disciplined (cảnh cáo): at most 'hoan_thanh'" not in vi and "at most 'Hoàn thành nhiệm vụ'" in en


def test_policy_section_problems_all_at_once(thidua_errors):
    """Every problem in [plugin.cand] and its derived inputs is one line at its key path."""
    policy = POLICY.replace('cross_count = { type = "integer", plugin = "cand" }',
                            'cross_mean = { type = "decimal", plugin = "cand" }').replace(
        'band_caps = { khien_trach = "tot", canh_cao = "hoan_thanh",',
        'weights = 1\nband_caps = { ky_luat = "tot", canh_cao = "good",')
    assert thidua_errors(policy, data(ALL_96), plugins=CAND) == [
        "policy.toml: plugin.cand.weights: unknown key 'weights'; expected band_caps or discipline_input",
        "policy.toml: plugin.cand: input 'cross_mean' is declared with plugin = 'cand', but cand derives "
        "only cross_count, cross_max, cross_min, cross_score",
        "policy.toml: plugin.cand.band_caps.canh_cao: unknown band 'good'; expected one of xuat_sac, tot, "
        "hoan_thanh, khong_hoan_thanh",
        "policy.toml: plugin.cand.band_caps.ky_luat: 'ky_luat' is not a value of 'head_discipline'; "
        "expected one of khong, khien_trach, canh_cao, cach_chuc",
    ]


def test_cross_score_data_problems_all_at_once(thidua_errors):
    """Unknown units, bad scores and a unit scored by no other unit are reported together."""
    scores = """\
a = { b = 90, x = 93 }
b = { a = -1 }
c = { c = 95 }
d = { a = "high" }
z = { a = 1 }
"""
    assert thidua_errors(POLICY, data(scores), plugins=CAND) == [
        "data.toml: plugin_data.cand.cross_scores.a.x: unknown unit 'x'",
        "data.toml: plugin_data.cand.cross_scores.b.a: expected a score >= 0, got -1",
        "data.toml: plugin_data.cand.cross_scores.d.a: expected a number, got str",
        "data.toml: plugin_data.cand.cross_scores.z: unknown unit 'z'",
        "data.toml: plugin_data.cand.cross_scores: no score for unit 'c' from another unit",
    ]


def test_thidua_plugins_lists_cand_with_its_version():
    """`thidua plugins --json` lists the installed cand plugin with its distribution, version and hooks."""
    rows = {row["name"]: row for row in json.loads(thidua("plugins", "--json"))}
    assert rows["cand"] == {"distribution": "thidua-cand", "version": "0.1.0", "name": "cand", "hooks": [
        "cap_band", "derive_inputs", "register_messages", "validate_plugin_data", "validate_policy_section"]}


def test_result_provenance_names_the_installed_version():
    """A result of the shipped CAND policy records the plugin's distribution and version."""
    policy = load_policy(POLICY_FILE)
    doc = json.loads(render(evaluate(policy, load_data(DATA_FILE, policy)), "json"))
    assert doc["provenance"]["plugins"][0] == {"distribution": "thidua-cand", "hooks": [
        "cap_band", "derive_inputs", "register_messages", "validate_plugin_data", "validate_policy_section"],
        "name": "cand", "version": "0.1.0"}


def test_output_bytes_do_not_depend_on_the_hash_seed():
    """The shipped CAND policy gives the same JSON bytes under two different PYTHONHASHSEEDs."""
    import os

    outputs = []
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-m", "thidua_rules", "evaluate", str(POLICY_FILE),
                               str(DATA_FILE), "-f", "json"], capture_output=True, env=env, check=True)
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
