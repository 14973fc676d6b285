"""Input files as people really make them: deep nesting, byte-order marks, code pages and
workbooks, repeated keys and columns, header problems said once, labels as headers, Excel's
blank rows, and streamed files that change while they are read (issue #10). Each gives its
exact line, exit 2 and nothing written."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from thidua_rules.cli import main
from thidua_rules.errors import PolicyError
from thidua_rules.loader.data import parse_data
from thidua_rules.loader.rows import SHOWN_REPEATS, cap_repeats
from thidua_rules.stream import evaluate_stream

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "cum8-2022.toml"
UNITS = ROOT / "examples" / "cum8-2022" / "units.toml"
sys.path.insert(0, str(ROOT / "benchmarks"))
import generate  # noqa: E402


def run(tmp_path: Path, monkeypatch, capsys, *args: str) -> str:
    """``thidua ARGS`` in ``tmp_path``: exit 2, no stdout, no traceback, no file written; stderr."""
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    code = main(list(args))
    out = capsys.readouterr()
    assert (code, out.out) == (2, ""), out.err
    assert "Traceback" not in out.err
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    return out.err


def csv_text(units: int = 12) -> str:
    return generate.make_csv(units, seed=1).decode("utf-8")


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "policy.toml").write_bytes(POLICY.read_bytes())
    return tmp_path


# ---------------------------------------------------------------- 1. deep nesting

DEEP = 100


@pytest.mark.parametrize("depth", [DEEP, 100_000])
@pytest.mark.parametrize("kind", ["array", "inline table"])
def test_deep_toml_policy(folder, monkeypatch, capsys, depth, kind):
    value = "[" * depth + "]" * depth if kind == "array" else "{a = " * depth + "1" + "}" * depth
    (folder / "deep.toml").write_text(f'# a comment with [[[\ns = "[[[["\nx = {value}\n', encoding="utf-8")
    (folder / "units.csv").write_text(csv_text(), encoding="utf-8")
    assert run(folder, monkeypatch, capsys, "validate", "deep.toml", "units.csv") == \
        "deep.toml:3: arrays and tables nested deeper than 64 levels; flatten the data\n"


@pytest.mark.parametrize("depth", [DEEP, 100_000])
def test_deep_json_data(folder, monkeypatch, capsys, depth):
    (folder / "deep.json").write_text('{"note": "[[[{{",\n"clusters": ' + "[" * depth + "]" * depth + "}",
                                      encoding="utf-8")
    assert run(folder, monkeypatch, capsys, "validate", "policy.toml", "deep.json") == \
        "deep.json:2: arrays and tables nested deeper than 64 levels; flatten the data\n"


@pytest.mark.parametrize("depth", [DEEP, 100_000])
def test_deep_jsonl_data_in_memory_and_streamed(folder, monkeypatch, capsys, depth):
    (folder / "deep.jsonl").write_text('{"cluster": "c"}\n{"x": ' + "[" * depth + "]" * depth + "}\n",
                                       encoding="utf-8")
    line = "deep.jsonl:2: arrays and tables nested deeper than 64 levels; flatten the data\n"
    assert run(folder, monkeypatch, capsys, "validate", "policy.toml", "deep.jsonl") == line
    assert run(folder, monkeypatch, capsys, "evaluate", "policy.toml", "deep.jsonl", "--format", "jsonl",
               "-o", "out.jsonl") == line


def test_deep_members_file(folder, monkeypatch, capsys):
    (folder / "units.toml").write_bytes(UNITS.read_bytes())
    (folder / "members.json").write_text('{"members": [' + "[" * DEEP + "]" * DEEP + "]}", encoding="utf-8")
    assert run(folder, monkeypatch, capsys, "validate", "policy.toml", "units.toml",
               "--members", "members.json") == \
        "members.json:1: arrays and tables nested deeper than 64 levels; flatten the data\n"


def test_deep_tests_file(folder, monkeypatch, capsys):
    (folder / "policy.tests.toml").write_text("[[tests]]\nname = " + "[" * 1000 + "]" * 1000 + "\n",
                                              encoding="utf-8")
    err = run(folder, monkeypatch, capsys, "test", "policy.tests.toml")
    assert err == "policy.tests.toml:2: arrays and tables nested deeper than 64 levels; flatten the data\n"


# ---------------------------------------------------------------- 2. one JSON-lines reader


def test_jsonl_not_utf8_in_memory_and_streamed(folder, monkeypatch, capsys):
    (folder / "units.jsonl").write_bytes(b'{"cluster": "c", "id": "a"}\n{"cluster": "c", "name": "\xe9"}\n')
    line = "units.jsonl:2: not UTF-8 text: save the file as UTF-8\n"
    assert run(folder, monkeypatch, capsys, "validate", "policy.toml", "units.jsonl") == line
    assert run(folder, monkeypatch, capsys, "evaluate", "policy.toml", "units.jsonl", "--format", "jsonl",
               "-o", "out.jsonl") == line


def test_jsonl_splits_lines_at_line_feeds_only(example_policy):
    """A JSON string may hold U+2028 (a line separator to ``str.splitlines``, not to JSON)."""
    row = '{"cluster": "c", "id": "a", "name": "x\u2028y"}\n'
    with pytest.raises(PolicyError) as raised:
        parse_data(row.encode("utf-8"), example_policy, file="u.jsonl", format="jsonl")
    assert not any("JSON syntax" in line for line in raised.value.lines())


# ---------------------------------------------------------------- 3. byte-order marks

BOM = b"\xef\xbb\xbf"


def test_bom_in_toml_policy_and_data(folder, monkeypatch, capsys):
    (folder / "policy.toml").write_bytes(BOM + POLICY.read_bytes())
    (folder / "units.toml").write_bytes(BOM + UNITS.read_bytes())
    assert main(["validate", str(folder / "policy.toml"), str(folder / "units.toml")]) == 0
    assert capsys.readouterr().out.startswith("ok: bca-cum8")


def test_bom_in_json_data_and_members(folder, capsys):
    (folder / "units.json").write_bytes(BOM + b'{"cluster": {"id": "c"}, "units": [{"id": "a"}]}')
    (folder / "members.json").write_bytes(BOM + b'{"members": []}')
    (folder / "units.jsonl").write_bytes(BOM + b'{"cluster": "c", "id": "a"}\n')
    for name in ("units.json", "units.jsonl"):
        assert main(["validate", str(folder / "policy.toml"), str(folder / name),
                     "--members", str(folder / "members.json")]) == 2
        err = capsys.readouterr().err
        assert "UTF-8" not in err and "JSON syntax" not in err and "missing field 'members'" in err, err


def test_bom_in_tests_file(folder, monkeypatch, capsys):
    (folder / "policy.tests.toml").write_bytes(BOM + b'[[tests]]\nname = 1\n')
    err = run(folder, monkeypatch, capsys, "test", "policy.tests.toml")
    assert err == "policy.tests.toml: tests: unknown key 'tests'\npolicy.tests.toml: missing key 'cases'\n"


# ---------------------------------------------------------------- 4. code pages and workbooks


@pytest.mark.parametrize("encoding", ["cp1258", "cp1252"])
def test_csv_in_a_code_page(folder, monkeypatch, capsys, encoding):
    (folder / "units.csv").write_bytes(csv_text().replace("Đơn vị", "Cà Mau").encode(encoding))
    line = "units.csv:2: not UTF-8 text: save as CSV UTF-8 (Comma delimited) in Excel\n"
    assert run(folder, monkeypatch, capsys, "validate", "policy.toml", "units.csv") == line
    assert run(folder, monkeypatch, capsys, "evaluate", "policy.toml", "units.csv", "--format", "jsonl",
               "-o", "out.jsonl") == line


def test_code_page_far_in_a_streamed_csv(folder, monkeypatch, capsys):
    text = csv_text(3000)
    lines = text.splitlines(keepends=True)
    lines[2500] = lines[2500].replace("Đơn vị", "\xc9on vi")
    (folder / "units.csv").write_bytes("".join(lines[:2500]).encode() + lines[2500].encode("cp1252")
                                       + "".join(lines[2501:]).encode())
    line = "units.csv:2501: not UTF-8 text: save as CSV UTF-8 (Comma delimited) in Excel\n"
    assert run(folder, monkeypatch, capsys, "validate", "policy.toml", "units.csv") == line
    assert run(folder, monkeypatch, capsys, "evaluate", "policy.toml", "units.csv", "--format", "jsonl",
               "-o", "out.jsonl") == line


def test_utf16_csv_and_toml(folder, monkeypatch, capsys):
    (folder / "units.csv").write_bytes(csv_text().encode("utf-16"))
    assert run(folder, monkeypatch, capsys, "validate", "policy.toml", "units.csv") == \
        "units.csv: UTF-16 text, not UTF-8: save as CSV UTF-8 (Comma delimited) in Excel\n"
    (folder / "p16.toml").write_bytes(POLICY.read_text(encoding="utf-8").encode("utf-16"))
    assert run(folder, monkeypatch, capsys, "validate", "p16.toml", "units.csv") == \
        "p16.toml: UTF-16 text, not UTF-8: save the file as UTF-8\n"


def test_not_utf8_toml(folder, monkeypatch, capsys):
    (folder / "units.toml").write_bytes(UNITS.read_text(encoding="utf-8").encode("cp1258", errors="replace"))
    err = run(folder, monkeypatch, capsys, "validate", "policy.toml", "units.toml")
    assert err.endswith(": not UTF-8 text: save the file as UTF-8\n") and err.startswith("units.toml:"), err


WORKBOOKS = {"xlsx": b"PK\x03\x04\x14\x00\x06\x00", "xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00"}


@pytest.mark.parametrize("kind", sorted(WORKBOOKS))
def test_workbook_named_csv(folder, monkeypatch, capsys, kind):
    (folder / "units.csv").write_bytes(WORKBOOKS[kind] + b"\x00" * 40)
    line = ("units.csv: this is an Excel workbook (or another zip or OLE file), not text: "
            "save the sheet as CSV UTF-8\n")
    assert run(folder, monkeypatch, capsys, "validate", "policy.toml", "units.csv") == line
    assert run(folder, monkeypatch, capsys, "evaluate", "policy.toml", "units.csv", "--format", "jsonl",
               "-o", "out.jsonl") == line


@pytest.mark.parametrize("suffix", ["xlsx", "xls", "ods"])
def test_workbook_given_as_data(folder, monkeypatch, capsys, suffix):
    """An .xlsx workbook is read (a broken one is one line); .xls and .ods are not, with the fix."""
    (folder / f"units.{suffix}").write_bytes(WORKBOOKS["xls" if suffix == "xls" else "xlsx"])
    expected = ("units.xlsx: not a readable .xlsx workbook (BadZipFile): save it from Excel (or LibreOffice) as an "
                "Excel workbook (.xlsx)\n") if suffix == "xlsx" else \
        (f"units.{suffix}: this workbook format is not read: save it as an Excel workbook (.xlsx), or save the "
         "sheet as CSV UTF-8 (Comma delimited), and give that file\n")
    assert run(folder, monkeypatch, capsys, "validate", "policy.toml", f"units.{suffix}") == expected


def test_workbook_given_as_policy(folder, monkeypatch, capsys):
    (folder / "units.csv").write_text(csv_text(), encoding="utf-8")
    (folder / "book.toml").write_bytes(WORKBOOKS["xlsx"])
    assert run(folder, monkeypatch, capsys, "validate", "book.toml", "units.csv") == \
        "book.toml: this is a zip or Office file, not TOML text\n"


# ---------------------------------------------------------------- 5. repeated keys and columns


def test_json_key_given_twice(folder, monkeypatch, capsys):
    (folder / "units.json").write_text('{"cluster": {"id": "c", "id": "d"}, "units": []}', encoding="utf-8")
    assert run(folder, monkeypatch, capsys, "validate", "policy.toml", "units.json") == \
        'units.json: key "id" given twice in one JSON object; keep one\n'
    (folder / "units.jsonl").write_text('{"cluster": "c", "id": "a"}\n{"id": "b", "cluster": "c", "id": "x"}\n',
                                        encoding="utf-8")
    line = 'units.jsonl:2: key "id" given twice in one JSON object; keep one\n'
    assert run(folder, monkeypatch, capsys, "validate", "policy.toml", "units.jsonl") == line
    assert run(folder, monkeypatch, capsys, "evaluate", "policy.toml", "units.jsonl", "--format", "jsonl",
               "-o", "out.jsonl") == line


def test_csv_column_given_twice(folder, monkeypatch, capsys):
    header, *rows = csv_text().splitlines()
    (folder / "units.csv").write_text("\n".join([header + ",members,id", *(r + ",1,x" for r in rows)]) + "\n",
                                      encoding="utf-8")
    lines = ("units.csv:1: column 'id' appears 2 times (columns 2 and 19); keep one\n"
             "units.csv:1: column 'members' appears 2 times (columns 11 and 18); keep one\n")
    assert run(folder, monkeypatch, capsys, "validate", "policy.toml", "units.csv") == lines
    assert run(folder, monkeypatch, capsys, "evaluate", "policy.toml", "units.csv", "--format", "jsonl",
               "-o", "out.jsonl") == lines


def test_members_csv_column_given_twice(folder, monkeypatch, capsys):
    (folder / "units.toml").write_bytes(UNITS.read_bytes())
    (folder / "members.csv").write_text("unit,id,id\ncuc-cntt,a,b\n", encoding="utf-8")
    assert run(folder, monkeypatch, capsys, "validate", "policy.toml", "units.toml", "--members",
               "members.csv") == "members.csv:1: column 'id' appears 2 times (columns 2 and 3); keep one\n"


# ---------------------------------------------------------------- 6. header problems once, repeats capped


def _both(folder, monkeypatch, capsys, text: str) -> str:
    (folder / "units.csv").write_text(text, encoding="utf-8")
    err = run(folder, monkeypatch, capsys, "validate", "policy.toml", "units.csv")
    assert run(folder, monkeypatch, capsys, "evaluate", "policy.toml", "units.csv", "--format", "jsonl",
               "-o", "out.jsonl") == err
    return err


def test_misspelt_header_once_for_10000_rows(folder, monkeypatch, capsys):
    text = csv_text(10_000).replace(",members,", ",membres,", 1)
    assert _both(folder, monkeypatch, capsys, text) == (
        "units.csv:1: unknown column 'membres' (did you mean 'members'?)\n"
        "units.csv:1: missing column 'members' (Tổng số CBCS)\n")


def test_missing_id_and_cluster_columns_once(folder, monkeypatch, capsys):
    header, *rows = csv_text(50).splitlines()
    text = "\n".join(",".join(r.split(",")[2:]) for r in [header, *rows]) + "\n"
    assert _both(folder, monkeypatch, capsys, text) == (
        "units.csv:1: missing column 'id' (the unit's id)\n"
        "units.csv:1: missing column 'cluster' (the id of the unit's cluster)\n")


def test_repeated_row_problem_is_capped(folder, monkeypatch, capsys):
    header, *rows = csv_text(3000).splitlines()
    at = header.split(",").index("members")
    bad = []
    for row in rows:
        cells = row.split(",")
        cells[at] = "-1"
        bad.append(",".join(cells))
    err = _both(folder, monkeypatch, capsys, "\n".join([header, *bad]) + "\n")
    ids = [r.split(",")[1] for r in rows[:SHOWN_REPEATS]]
    assert err == "".join(f"units.csv:{n + 2}: units(id={ids[n]}).members: expected a number >= 1, got -1\n"
                          for n in range(SHOWN_REPEATS)) + \
        "units.csv: … and 2,995 more rows: expected a number >= 1, got -1\n"


def test_cap_keeps_order_and_other_problems():
    from thidua_rules.errors import Issue

    items = [Issue(file="u.csv", line=n, path=f"units(id=u{n})", message="missing field 'x'") for n in range(8)]
    items.insert(2, Issue(file="u.csv", line=99, path="units(id=z)", message="other"))
    assert [i.format() for i in cap_repeats(items)] == [
        "u.csv:0: units(id=u0): missing field 'x'", "u.csv:1: units(id=u1): missing field 'x'",
        "u.csv:99: units(id=z): other", "u.csv:2: units(id=u2): missing field 'x'",
        "u.csv:3: units(id=u3): missing field 'x'", "u.csv:4: units(id=u4): missing field 'x'",
        "u.csv: … and 3 more rows: missing field 'x'"]


def test_labels_as_headers_are_recognised(folder, example_policy):
    """A header of the labels people see (trimmed, NFC or NFD) reads as the ids: the same units."""
    import unicodedata

    text = csv_text()
    header, rest = text.split("\n", 1)
    labels = {f.id: f.label for f in example_policy.inputs}
    cells = [f'" {unicodedata.normalize("NFD", labels[c])} "' if c in labels else c for c in header.split(",")]
    by_label = parse_data((",".join(cells) + "\n" + rest).encode("utf-8"), example_policy, file="u.csv",
                          format="csv")
    by_id = parse_data(text.encode("utf-8"), example_policy, file="u.csv", format="csv")
    assert by_label.sha256 == by_id.sha256 and by_label.clusters == by_id.clusters
    path = folder / "labels.csv"
    path.write_text(",".join(cells) + "\n" + rest, encoding="utf-8")
    plain = folder / "ids.csv"
    plain.write_text(text, encoding="utf-8")
    assert [evaluate_stream(example_policy, p, io.StringIO()).data_sha256 for p in (path, plain)] == \
        [by_id.sha256] * 2


# ---------------------------------------------------------------- 7. Excel's blank rows


def test_rows_of_empty_cells_are_blank_rows(folder, example_policy):
    text = csv_text()
    header, *rows = text.splitlines()
    empty = "," * header.count(",")
    blanked = "\n".join([header, empty, *rows[:5], empty, ",,", *rows[5:], empty, empty]) + "\n"
    got = parse_data(blanked.encode(), example_policy, file="u.csv", format="csv")
    assert got.sha256 == parse_data(text.encode(), example_policy, file="u.csv", format="csv").sha256
    path = folder / "u.csv"
    path.write_text(blanked, encoding="utf-8")
    assert evaluate_stream(example_policy, path, io.StringIO()).data_sha256 == got.sha256


# ---------------------------------------------------------------- 8. streamed files that change


def test_cut_off_last_row(folder, monkeypatch, capsys):
    text = csv_text().rstrip("\n")
    cut = text[: text.rindex(",", 0, len(text) - 20)]
    assert _both(folder, monkeypatch, capsys, cut) == \
        "units.csv:13: the last row has 9 of 17 cells and no line end: the file looks cut off; copy or save it again\n"


def test_a_full_last_row_without_line_end_is_fine(folder, example_policy):
    parse_data(csv_text().rstrip("\n").encode(), example_policy, file="u.csv", format="csv")


class _Shrinking(io.StringIO):
    """An output that cuts (or replaces) the streamed input after the first cluster is written."""

    def __init__(self, path: Path, action: str) -> None:
        super().__init__()
        self.path, self.action, self.done = path, action, False

    def write(self, text: str) -> int:
        if not self.done and '"record":"cluster"' in text.replace(" ", ""):
            self.done = True
            data = self.path.read_bytes()
            if self.action == "cut":
                os.truncate(self.path, len(data) // 2)
            elif self.action == "grow":
                with open(self.path, "ab") as handle:
                    handle.write(data.splitlines(keepends=True)[-1])
            elif self.action == "rewrite":  # the same size, written again in place
                time.sleep(0.01)
                with open(self.path, "r+b") as handle:
                    handle.write(data)
            else:
                os.replace(self.path, self.path.with_suffix(".old"))
                self.path.write_bytes(data)
        return super().write(text)


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
@pytest.mark.parametrize("action", ["cut", "grow", "rewrite", "replace"])
def test_input_changed_while_streamed(tmp_path, example_policy, kind, action, monkeypatch):
    from thidua_rules import stream

    monkeypatch.setattr(stream, "BATCH_UNITS", 1)  # a task per cluster: written before the end is read
    path = tmp_path / f"units.{kind}"
    text = generate.make_csv(4000, seed=1)
    if kind == "jsonl":
        import csv
        import json

        rows = list(csv.DictReader(io.StringIO(text.decode("utf-8"))))
        text = "".join(json.dumps({k: int(v) if v.isdigit() else v for k, v in r.items() if v},
                                  ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    path.write_bytes(text)
    size = len(text)
    out = _Shrinking(path, action)
    with pytest.raises(PolicyError) as raised:
        evaluate_stream(example_policy, path, out, display=f"units.{kind}")
    lines = raised.value.lines()
    if action == "replace":
        assert lines == [(f"units.{kind}: the file was replaced or removed while it was read; "
                          "run again on the finished file")]
    else:
        now = path.stat().st_size
        assert (now == size) == (action == "rewrite")
        assert lines == [(f"units.{kind}: the file changed while it was read ({size:,} bytes at the start, "
                          f"{now:,} at the end); run again on the finished file")]


def test_input_cut_while_streamed_to_a_file_writes_nothing(folder, monkeypatch, capsys):
    """Through the CLI: exit 2, one line, no output file."""
    from thidua_rules import stream

    path = folder / "units.csv"
    path.write_text(csv_text(4000), encoding="utf-8")
    size = path.stat().st_size
    real = stream.run_task

    def cutting(policy, file, text_values, task):
        if task.index == 0:
            os.truncate(path, size // 2)  # mid-row: the rows read end in a cut row
        return real(policy, file, text_values, task)

    monkeypatch.setattr(stream, "run_task", cutting)
    err = run(folder, monkeypatch, capsys, "evaluate", "policy.toml", "units.csv", "--format", "jsonl",
              "-o", "out.jsonl")
    assert err == (f"units.csv: the file changed while it was read ({size:,} bytes at the start, "
                   f"{size // 2:,} at the end); run again on the finished file\n")



def test_a_pipe_streams_without_a_change_reported(folder):
    """A pipe has no size or identity to compare: streamed from standard input, it is not a file
    that changed; its output is the file's."""
    text = csv_text().encode("utf-8")
    (folder / "units.csv").write_bytes(text)
    command = [sys.executable, "-m", "thidua_rules", "evaluate", "policy.toml"]
    piped = subprocess.run([*command, "/dev/stdin", "--data-format", "csv", "--format", "jsonl"], input=text,
                           capture_output=True, cwd=folder, check=False)
    read = subprocess.run([*command, "units.csv", "--format", "jsonl"], capture_output=True, cwd=folder,
                          check=False)
    assert (piped.returncode, piped.stderr) == (0, b"")
    assert piped.stdout.replace(b"/dev/stdin", b"units.csv") == read.stdout


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_device_is_refused_before_it_is_streamed(folder, monkeypatch, capsys):
    """A device given as streamed data (``/dev/zero`` would be read for ever: a CSV line that
    never ends) is one line, as the in-memory loader words it; nothing is written."""
    err = run(folder, monkeypatch, capsys, "evaluate", "policy.toml", "/dev/zero", "--data-format", "csv",
              "--format", "jsonl", "-o", "out.jsonl")
    assert err == "/dev/zero: is a character device, not a regular file: give a file's path\n"
    assert not (folder / "out.jsonl").exists()
