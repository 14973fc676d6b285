"""`thidua diff`: the rules two policies differ in and the units whose outcome moves because of them."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from thidua_rules.cli import main
from thidua_rules.policydiff import policy_changes, rule_of

from .conftest import EXAMPLE_DATA, EXAMPLE_POLICY, ROOT

GOLDEN = ROOT / "tests" / "golden" / "diff"
#: policies/cum8-2022.toml with criterion chi_tieu at 30 points (not 35) and band xuat_sac at 97 (not 95)
VARIANT = GOLDEN / "cum8-2022-variant.toml"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["diff", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(("fmt", "name"), [("json", "expected.json"), ("markdown", "expected.md"),
                                           ("text", "expected.txt")], ids=["json", "markdown", "text"])
def test_variant_diff_golden(capsys, golden, fmt, name):
    """The diff of the shipped policy and its variant, in each format, is exactly the golden file."""
    code, out, err = run(capsys, EXAMPLE_POLICY, VARIANT, EXAMPLE_DATA, "--format", fmt)
    assert (code, err) == (0, "")
    golden.check(GOLDEN / name, out)


def test_diff_of_a_policy_with_itself_is_empty(capsys):
    """A policy compared with itself: no rule, unit or leadership change, and no text line."""
    code, out, _ = run(capsys, EXAMPLE_POLICY, EXAMPLE_POLICY, EXAMPLE_DATA, "--format", "json")
    doc = json.loads(out)
    assert code == 0
    assert (doc["policy"], doc["units"], doc["leadership"]) == ([], [], [])
    assert doc["old"] == doc["new"]
    assert run(capsys, EXAMPLE_POLICY, EXAMPLE_POLICY, EXAMPLE_DATA) == (0, "", "")
    code, out, _ = run(capsys, EXAMPLE_POLICY, EXAMPLE_POLICY, EXAMPLE_DATA, "--format", "markdown")
    assert out.endswith("\nKhông có thay đổi.\n")


def test_the_variant_names_both_changed_rules(capsys):
    """Each unit lists the changed rules behind its change; a band rule only where the band moved."""
    _, out, _ = run(capsys, EXAMPLE_POLICY, VARIANT, EXAMPLE_DATA, "--format", "json")
    doc = json.loads(out)
    assert [(c["path"], c["old"], c["new"]) for c in doc["policy"]] == [
        ("bands(id=xuat_sac).min", "95", "97"), ("criteria(id=chi_tieu).points", "35", "30")]
    rules = {u["id"]: u["rules"] for u in doc["units"]}
    assert rules["cuc-cntt"] == ["criteria(id=chi_tieu)"]  # 97.00 is still xuat_sac
    assert rules["vien-khcn"] == ["bands(id=xuat_sac)", "criteria(id=chi_tieu)"]


def test_output_file_takes_the_format_from_its_extension(capsys, tmp_path):
    """-o x.md writes the Markdown report atomically; an unknown extension is one line, exit 2."""
    target = tmp_path / "diff.md"
    assert run(capsys, EXAMPLE_POLICY, VARIANT, EXAMPLE_DATA, "-o", target) == (0, "", "")
    assert target.read_text(encoding="utf-8") == (GOLDEN / "expected.md").read_text(encoding="utf-8")
    code, out, err = run(capsys, EXAMPLE_POLICY, VARIANT, EXAMPLE_DATA, "-o", tmp_path / "diff.xyz")
    assert (code, out) == (2, "")
    assert err == f"{tmp_path / 'diff.xyz'}: cannot tell the output format from the extension '.xyz'; " \
                  "give --format (json, markdown, text)\n"


def test_a_bad_policy_is_one_line_and_exit_2(capsys, tmp_path):
    """A broken new policy is reported as evaluate reports it; nothing is printed on stdout."""
    bad = tmp_path / "bad.toml"
    bad.write_text("[policy\n", encoding="utf-8")
    code, out, err = run(capsys, EXAMPLE_POLICY, bad, EXAMPLE_DATA)
    assert (code, out) == (2, "")
    assert err == f"{bad}:1:8: TOML syntax: Expected ']' at the end of a table declaration\n"


def test_numbers_compare_by_value_and_ids_survive_reordering():
    """35 and 35.0 are the same points; entries are matched by id, and a new order is one change."""
    old = {"criteria": [{"id": "a", "points": 35}, {"id": "b", "points": 1}],
           "bands": [{"id": "x", "min": 9}, {"id": "y", "min": 0}]}
    new = {"criteria": [{"id": "b", "points": Decimal("1.00")}, {"id": "a", "points": Decimal("35.0")}],
           "bands": [{"id": "y", "min": 0}, {"id": "x", "min": 9}, {"id": "z", "min": 5}]}
    changes = policy_changes(old, new)
    assert [(c["path"], c["change"]) for c in changes] == [
        ("bands", "order"), ("bands(id=z)", "added"), ("criteria", "order")]
    assert changes[0]["old"] == ["x", "y"] and changes[0]["new"] == ["y", "x"]


def test_rule_of_a_change():
    """A change belongs to its entry (criteria(id=x)) or to its section (ranking)."""
    assert rule_of("criteria(id=chi_tieu).points") == "criteria(id=chi_tieu)"
    assert rule_of("ranking.order") == "ranking"
    assert rule_of("bands") == "bands"


def test_people_titles_are_matched_by_id_and_their_members_listed(capsys, tmp_path):
    """With --members: a stricter individual title is one rule change and the members who lose it."""
    import shutil

    for side in ("old", "new"):
        (tmp_path / side / "catalogue").mkdir(parents=True)
        for name in ("cum8-2022.toml", "cum8-2022-members.toml", "catalogue/law2022-people.toml"):
            shutil.copy(ROOT / "policies" / name, tmp_path / side / name)
    catalogue = tmp_path / "new" / "catalogue" / "law2022-people.toml"
    text = catalogue.read_text(encoding="utf-8")
    stricter = text.replace("when = \"rating in ['xuat_sac', 'tot'] and discipline == 'none'\"",
                            "when = \"rating == 'xuat_sac' and discipline == 'none'\"", 1)
    assert stricter != text
    catalogue.write_text(stricter, encoding="utf-8")
    code, out, err = run(capsys, tmp_path / "old" / "cum8-2022-members.toml", tmp_path / "new" / "cum8-2022-members.toml",
                         ROOT / "examples" / "cum8-2022" / "units-members.toml",
                         "--members", ROOT / "examples" / "cum8-2022" / "members.csv", "--format", "json")
    assert (code, err) == (0, "")
    doc = json.loads(out)
    [change] = doc["policy"]
    assert (change["path"], change["change"]) == ("people.titles(id=chien_si_tien_tien).when", "changed")
    assert doc["people"], "some members rated 'tot' lose chien_si_tien_tien"
    assert all(p["rules"] == ["people.titles(id=chien_si_tien_tien)"] for p in doc["people"])
    # Some lose the title; others keep it but lose a higher one, because the CSTĐCS quota is a
    # share of the unit's CSTT (ND91 Art. 9 k3) and that base shrank.
    assert any("chien_si_tien_tien" in p["proposed"]["old"] and "chien_si_tien_tien" not in p["proposed"]["new"]
               for p in doc["people"])


def test_a_format_that_contradicts_the_extension_is_refused(capsys, tmp_path):
    """--format json -o diff.md is one line, exit 2, before any evaluation; nothing is written."""
    target = tmp_path / "diff.md"
    code, out, err = run(capsys, EXAMPLE_POLICY, VARIANT, EXAMPLE_DATA, "--format", "json", "-o", target)
    assert (code, out) == (2, "")
    assert err == f"{target}: --format json does not match the extension '.md' (markdown); give --format " \
                  "markdown or a name ending in .json\n"
    assert not target.exists()


def test_an_added_title_lists_only_the_units_it_decides_for(capsys, tmp_path):
    """A new title is one 'added' change; a unit failing it is not listed, the one proposed is."""
    text = EXAMPLE_POLICY.read_text(encoding="utf-8")
    text = text.replace('order = ["total", "group.chuyen_mon", "criterion.chi_tieu"]',
                        'order = ["total", "criterion.chi_tieu", "group.chuyen_mon"]')
    new = tmp_path / "new.toml"
    new.write_text(text + '\n[[titles]]\nid = "giay_khen"\nname = "Giấy khen"\nwhen = "band == \'tot\'"\n',
                   encoding="utf-8")
    code, out, _ = run(capsys, EXAMPLE_POLICY, new, EXAMPLE_DATA)
    assert code == 0
    assert out.splitlines() == [
        'policy ranking.order: changed: ["total", "group.chuyen_mon", "criterion.chi_tieu"] -> '
        '["total", "criterion.chi_tieu", "group.chuyen_mon"]',
        "policy titles(id=giay_khen): added: — -> { id = \"giay_khen\", name = \"Giấy khen\", when = \"band == 'tot'\" }",
        "unit cum8/cuc-vt-cy: proposed don_vi_tien_tien -> don_vi_tien_tien, giay_khen; giay_khen — -> proposed; "
        "rules titles(id=giay_khen)",
    ]


def test_json_diff_is_the_same_under_another_hash_seed():
    """The JSON diff in a subprocess with another PYTHONHASHSEED is byte for byte the golden file."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run([sys.executable, "-m", "thidua_rules", "diff", str(EXAMPLE_POLICY), str(VARIANT),
                           str(EXAMPLE_DATA), "--format", "json"], capture_output=True, env=env, check=False)
    assert (done.returncode, done.stderr) == (0, b"")
    assert done.stdout == (GOLDEN / "expected.json").read_bytes()
