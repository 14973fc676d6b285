"""The command line: formats, atomic output files, explain, validate, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from thidua_rules import render
from thidua_rules.cli import main

from .conftest import EXAMPLE_DATA, EXAMPLE_POLICY, ROOT

GOLDEN = ROOT / "tests" / "golden" / "cum8-2022"


def test_explain_prints_every_point_and_decision(capsys, golden):
    """`thidua explain` for cuc-tbkv is the reviewed golden text."""
    assert main(["explain", str(EXAMPLE_POLICY), str(EXAMPLE_DATA), "cuc-tbkv"]) == 0
    golden.check(GOLDEN / "explain-cuc-tbkv.txt", capsys.readouterr().out)


def test_validate_reports_counts(capsys):
    """`thidua validate` names the policy and what it found, on stdout, exit 0."""
    assert main(["validate", str(EXAMPLE_POLICY), str(EXAMPLE_DATA)]) == 0
    assert capsys.readouterr().out == "ok: bca-cum8 (6 criteria, 5 titles; data: 1 cluster(s), 6 unit(s))\n"


@pytest.mark.parametrize("fmt", ["json", "toml", "markdown", "table"])
def test_output_file_equals_stdout(tmp_path, capsys, example_result, fmt):
    """-o writes exactly what stdout would show, and nothing else is left in the folder."""
    out = tmp_path / "result.out"
    assert main(["evaluate", str(EXAMPLE_POLICY), str(EXAMPLE_DATA), "--format", fmt, "-o", str(out)]) == 0
    assert out.read_bytes() == render(example_result, fmt).encode("utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["result.out"]


def test_failed_run_keeps_the_previous_output_file(tmp_path):
    """A run that fails leaves an existing output file untouched (no partial file)."""
    out = tmp_path / "result.json"
    out.write_text("previous\n", encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text("[policy\n", encoding="utf-8")
    assert main(["evaluate", str(bad), str(EXAMPLE_DATA), "--format", "json", "-o", str(out)]) == 2
    assert out.read_text(encoding="utf-8") == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml", "result.json"]


def test_json_output_is_valid_utf8_with_sorted_keys(example_result):
    """The JSON has sorted keys at every level and keeps Vietnamese text unescaped."""
    text = render(example_result, "json")
    doc = json.loads(text)
    assert text == json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=2) + "\n"
    assert "Cục Công nghệ thông tin" in text


def test_python_dash_m_and_usage_errors_exit_2():
    """`python -m thidua_rules` runs the CLI; a usage error exits 2 without a traceback."""
    done = subprocess.run([sys.executable, "-m", "thidua_rules", "evaluate"], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr == "thidua: evaluate: missing arguments POLICY, DATA (usage: thidua evaluate POLICY DATA [options])\n"
    ok = subprocess.run([sys.executable, "-m", "thidua_rules", "validate", str(EXAMPLE_POLICY)],
                        capture_output=True, text=True)
    assert (ok.returncode, ok.stdout) == (0, "ok: bca-cum8 (6 criteria, 5 titles)\n")


def test_readme_shows_the_real_output_of_the_first_command(example_result):
    """The README's sample output is exactly what `thidua evaluate` prints for the example."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("The first prints:\n\n```\n") + len("The first prints:\n\n```\n")
    shown = readme[start : readme.index("```", start)]
    assert shown == render(example_result, "table").rstrip("\n") + "\n"


def test_explain_in_vietnamese(capsys, golden):
    """`thidua explain --lang vi`: the layout words, statuses and check names from the catalogue,
    the result's numbers in Vietnamese with their digits (``98,00``), ids beside the names."""
    assert main(["explain", str(EXAMPLE_POLICY), str(EXAMPLE_DATA), "cuc-tbkv", "--lang", "vi"]) == 0
    golden.check(GOLDEN / "explain-cuc-tbkv.vi.txt", capsys.readouterr().out)


def test_explain_a_member(capsys, golden):
    """`thidua explain` with a member's id shows each of their titles, checks and the values seen."""
    args = ["explain", str(ROOT / "policies" / "cum8-2022-members.toml"),
            str(ROOT / "examples" / "cum8-2022" / "units-members.toml"), "cuc-cntt-002",
            "--members", str(ROOT / "examples" / "cum8-2022" / "members.csv")]
    assert main(args) == 0
    golden.check(GOLDEN / "explain-person-cuc-cntt-002.txt", capsys.readouterr().out)
    assert main([*args, "--lang", "vi"]) == 0
    golden.check(GOLDEN / "explain-person-cuc-cntt-002.vi.txt", capsys.readouterr().out)


def test_an_unwritable_output_is_one_line_and_exit_2(tmp_path, capsys):
    """-o into a folder that does not exist fails with one line naming the path, no traceback."""
    target = tmp_path / "missing" / "out.json"
    assert main(["evaluate", str(EXAMPLE_POLICY), str(EXAMPLE_DATA), "-f", "json", "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.endswith(": No such file or directory\n") and err.count("\n") == 1
    assert not (tmp_path / "missing").exists()
