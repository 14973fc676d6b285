"""Spreadsheets: .xlsx data workbooks, a data TOML naming CSV files ([files]), `thidua template`
and `--format xlsx` (docs/spreadsheets.md)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from thidua_rules.cli import main

openpyxl = pytest.importorskip("openpyxl")

from thidua_rules.loader.xlsx import cell_text  # noqa: E402 - after the openpyxl check

ROOT = Path(__file__).resolve().parent.parent
POLICY = "policies/cum8-2022.toml"
TOML_DATA = "examples/cum8-2022/units.toml"
XLSX_DATA = "examples/cum8-2022/units.xlsx"
CSV_DATA = "examples/cum8-2022/csv/data.toml"


def run(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.chdir(ROOT)
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def run_bytes(monkeypatch, tmp_path, *args: str) -> bytes:
    monkeypatch.chdir(ROOT)
    target = tmp_path / "out.bin"
    assert main([*args, "-o", str(target)]) == 0
    return target.read_bytes()


# ---------------------------------------------------------------- done-when: the same JSON


@pytest.mark.parametrize("data", [XLSX_DATA, CSV_DATA], ids=["xlsx", "csv-files"])
def test_example_as_workbook_and_csv_gives_the_toml_json(monkeypatch, capsys, data):
    """The example converted to a workbook, and to CSV files named by a data TOML, gives the JSON
    of units.toml byte for byte (the data digest is of the loaded content, so it is equal too)."""
    code, expected, _ = run(monkeypatch, capsys, "evaluate", POLICY, TOML_DATA, "--format", "json")
    assert code == 0
    code, out, err = run(monkeypatch, capsys, "evaluate", POLICY, data, "--format", "json")
    assert (code, err) == (0, "")
    assert out == expected
    assert out == (ROOT / "tests" / "golden" / "cum8-2022" / "expected.json").read_text(encoding="utf-8")


def test_shipped_conversions_are_what_the_script_writes():
    """examples/cum8-2022/units.xlsx and csv/ are scripts/make_example_xlsx.py's output, and the
    script writes the same bytes every time."""
    done = subprocess.run([sys.executable, "scripts/make_example_xlsx.py", "--check"], cwd=ROOT,
                          capture_output=True, text=True)
    assert (done.returncode, done.stderr) == (0, "")


# ---------------------------------------------------------------- the template


def test_template_is_deterministic_and_labelled(monkeypatch, tmp_path):
    """`thidua template` writes the same bytes twice; the units sheet has the ids in a hidden row
    1, the labels in row 2, a list for the enum input and bounds for the integers."""
    first = run_bytes(monkeypatch, tmp_path, "template", POLICY)
    assert run_bytes(monkeypatch, tmp_path, "template", POLICY) == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert b"1980-01-01T00:00:00Z" in archive.read("docProps/core.xml")
    book = openpyxl.load_workbook(io.BytesIO(first))
    assert book.sheetnames == ["cluster", "units", "votes", "history", "discipline", "deferrals"]
    units = book["units"]
    assert units.row_dimensions[1].hidden
    assert [c.value for c in units[1]][:4] == ["id", "name", "targets_assigned", "targets_done"]
    assert [c.value for c in units[2]][:4] == ["Mã đơn vị (id)", "Tên đơn vị", "Chỉ tiêu Bộ giao", "Chỉ tiêu hoàn thành"]
    rules = {str(v.sqref): (v.type, v.operator, v.formula1, v.formula2) for v in units.data_validations.dataValidation}
    assert rules["C3:C1002"] == ("whole", "greaterThanOrEqual", "1", None)
    assert rules["I3:I1002"] == ("list", None, '"xuat_sac,tot,hoan_thanh,khong_hoan_thanh"', None)
    assert [c.value for c in book["votes"][1]] == ["title", "round", "voters", "present", "unit", "yes", "written",
                                                     "note", "source"]
    assert book["cluster"]["B4"].value == 2022  # the policy's year, filled in


def test_filled_in_template_reads_back(monkeypatch, tmp_path, example_policy):
    """The template, filled in with openpyxl as a user would (numbers as numbers, ids as text),
    loads as the same dataset as the TOML file: same clusters, same digest."""
    import tomllib

    from thidua_rules import load_data
    from thidua_rules.template import template_workbook

    raw = tomllib.loads((ROOT / TOML_DATA).read_text(encoding="utf-8"))
    book = template_workbook(example_policy)
    cluster = book["cluster"]
    for row in range(2, cluster.max_row + 1):
        key = cluster.cell(row=row, column=1).value
        if key in raw["cluster"]:
            cluster.cell(row=row, column=2).value = raw["cluster"][key]
    units = book["units"]
    ids = [c.value for c in units[1]]
    for r, unit in enumerate(reversed(raw["units"]), start=3):  # in another order: nothing depends on it
        for key, value in unit.items():
            units.cell(row=r, column=ids.index(key) + 1).value = value
    votes = book["votes"]
    r = 2
    for ballot in raw["votes"]:
        for unit, yes in sorted(ballot["yes"].items()):
            for column, value in ((1, ballot["title"]), (3, ballot["voters"]), (5, unit), (6, yes)):
                votes.cell(row=r, column=column).value = value
            r += 1
    history = book["history"]
    for r, record in enumerate(raw["history"], start=2):
        history.cell(row=r, column=1).value = record["unit"]
        history.cell(row=r, column=2).value = record["year"]
        history.cell(row=r, column=3).value = record["band"]
        history.cell(row=r, column=4).value = ",".join(record["titles"])
    path = tmp_path / "filled.xlsx"
    book.save(path)
    from_sheet = load_data(path, example_policy)
    from_toml = load_data(ROOT / TOML_DATA, example_policy)
    assert from_sheet.clusters == from_toml.clusters
    assert from_sheet.sha256 == from_toml.sha256


# ---------------------------------------------------------------- --format xlsx


def _dump(data: bytes) -> str:
    """Every sheet's cells as openpyxl reads them back: value (repr) and number format."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    lines = []
    for sheet in book.worksheets:
        lines.append(f"== {sheet.title} (freeze {sheet.freeze_panes})")
        for row in sheet.iter_rows():
            cells = [f"{c.coordinate}={c.value!r}" + (f" [{c.number_format}]" if c.number_format != "General" else "")
                     for c in row if c.value is not None]
            lines.append("  ".join(cells))
    return "\n".join(lines) + "\n"


def test_xlsx_output_golden(monkeypatch, tmp_path, golden):
    """`--format xlsx` (and `-o result.xlsx` alone) writes the score, ranking, leadership and
    provenance sheets, read back by openpyxl as in the golden file; the same bytes twice and
    from the workbook data."""
    first = run_bytes(monkeypatch, tmp_path, "evaluate", POLICY, TOML_DATA, "--format", "xlsx")
    assert run_bytes(monkeypatch, tmp_path, "evaluate", POLICY, XLSX_DATA, "--format", "xlsx") == first
    target = tmp_path / "result.xlsx"
    assert main(["evaluate", POLICY, TOML_DATA, "-o", str(target)]) == 0
    assert target.read_bytes() == first
    golden.check(ROOT / "tests" / "golden" / "cum8-2022" / "expected-xlsx.txt", _dump(first))


def test_xlsx_output_is_independent_of_hash_seed(monkeypatch, tmp_path):
    """Another PYTHONHASHSEED, another process: the same workbook bytes."""
    first = run_bytes(monkeypatch, tmp_path, "evaluate", POLICY, TOML_DATA, "--format", "xlsx")
    target = tmp_path / "other.xlsx"
    subprocess.run([sys.executable, "-m", "thidua_rules", "evaluate", POLICY, CSV_DATA, "-o", str(target)],
                   cwd=ROOT, check=True, env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert target.read_bytes() == first


def test_xlsx_output_names_are_text_not_formulas(monkeypatch, tmp_path, capsys):
    """A unit named like a formula is written as text: the spreadsheet never runs it."""
    folder = tmp_path / "d"
    folder.mkdir()
    text = (ROOT / TOML_DATA).read_text(encoding="utf-8").replace(
        'name = "Cục Viễn thông và cơ yếu"', 'name = "=HYPERLINK(\\"http://x\\",\\"a\\")"')
    (folder / "units.toml").write_text(text, encoding="utf-8")
    data = run_bytes(monkeypatch, tmp_path, "evaluate", POLICY, str(folder / "units.toml"), "--format", "xlsx")
    book = openpyxl.load_workbook(io.BytesIO(data))
    cells = [c for row in book["ranking"].iter_rows() for c in row if c.value and str(c.value).startswith("=")]
    assert [(c.value, c.data_type) for c in cells] == [('=HYPERLINK("http://x","a")', "s")]


# ---------------------------------------------------------------- cell values


@pytest.mark.parametrize(("value", "fmt", "expected"), [
    (11, "General", ("11", "")),
    (11.0, "General", ("11", "")),
    (98.5, "General", ("98.5", "")),
    (0.1, "0.0", ("0.1", "")),
    (1e-7, "General", ("0.0000001", "")),
    (1e20, "General", ("100000000000000000000", "")),
    ("98,5", "@", ("98,5", "")),
    (True, "General", ("true", "")),
    (None, "General", ("", "")),
    (0.30000000000000004, "General",
     ("", "the cell holds 0.30000000000000004, more digits than Excel shows (a formula's binary rounding?): "
          "round it (=ROUND(…)) or type the value")),
    (98.456, "0.00", ("", "the cell shows 2 decimal places but holds 98.456: round the value, or show every "
                          "decimal (format the cell as General)")),
    (0.5, "0%", ("", "the cell is formatted as a percentage ('0%'), which does not show the value 0.5 as thidua "
                     "reads it: format the cell as General or Number")),
])
def test_cell_text(value, fmt, expected):
    """A cell's value is read exactly as the cell shows it, or refused with the fix."""
    assert cell_text(value, fmt) == expected


def test_cell_date_refused():
    """A date cell is not a number: refused with the fix."""
    import datetime

    assert cell_text(datetime.datetime(2022, 1, 1), "yyyy-mm-dd")[1].startswith("a date or time")


# ---------------------------------------------------------------- errors


def _bad_workbook(path: Path) -> None:
    book = openpyxl.load_workbook(ROOT / XLSX_DATA)
    units = book["units"]
    units["C3"] = "mười"              # text in a number column
    units["D4"] = "=1/0"              # a formula never computed (openpyxl saves no value)
    units["E5"].number_format = "0%"  # shown as a percentage (300%)
    units["I6"] = "tot lắm"           # not an allowed value
    units["Z3"] = 5                   # a cell right of the last column
    book["cluster"]["B5"] = "cuc-xx"  # leader: no such unit
    book["history"]["B3"] = 2022      # not an earlier year
    book["votes"]["F2"] = 9           # more yes-votes than voters
    book.create_sheet("ballots")
    book.save(path)


def test_workbook_errors_name_sheet_and_cell(monkeypatch, capsys, tmp_path):
    """Every problem of a workbook at once, each naming the sheet and cell, exit 2, nothing written."""
    _bad_workbook(tmp_path / "bad.xlsx")
    monkeypatch.chdir(tmp_path)
    code = main(["evaluate", str(ROOT / POLICY), "bad.xlsx", "-o", "out.json"])
    err = capsys.readouterr().err
    assert code == 2
    assert not (tmp_path / "out.json").exists()
    assert err.splitlines() == [
        "bad.xlsx: sheet 'units' cell Z3: a cell right of the last column (it has no header): give the column a "
        "header or clear the cell",
        "bad.xlsx: sheet 'units' cell D4: a formula with no saved value (the file was not saved by a spreadsheet "
        "program): open and save it, or type the value",
        "bad.xlsx: sheet 'units' cell E5: the cell is formatted as a percentage ('0%'), which does not show the "
        "value 3 as thidua reads it: format the cell as General or Number",
        "bad.xlsx: sheet 'ballots': unknown sheet (the ballots go in a sheet named 'votes'); the sheets are cluster, "
        "units, votes, history, discipline, deferrals, members: rename or remove it (nothing in it would be read)",
        'bad.xlsx: sheet \'units\' cell C3: units(id=cuc-vt-cy).targets_assigned: expected a whole number, got a '
        'string "mười"',
        "bad.xlsx: sheet 'units' cell I6: units(id=cuc-tbkv).party_rating: 'tot lắm' is not allowed (did you mean "
        "'tot'?); expected one of xuat_sac, tot, hoan_thanh, khong_hoan_thanh",
        "bad.xlsx: sheet 'cluster' cell B5: cluster.leader: unknown unit 'cuc-xx' (did you mean 'cuc-qlxddt'?)",
        "bad.xlsx: sheet 'votes' cell F2: votes[0](title=co_thi_dua_bca).yes.cuc-cntt: 9 yes-votes but only 6 voters",
        "bad.xlsx: sheet 'history' cell B3: history[1](unit=cuc-khtc).year: history is for earlier years, 2022 is "
        "not before 2022",
    ]


def test_workbook_without_its_sheets(monkeypatch, capsys, tmp_path):
    """A workbook without 'cluster' or 'units', or not a workbook: one line each with the fix."""
    book = openpyxl.Workbook()
    book.active.title = "units"
    book.save(tmp_path / "one.xlsx")
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    monkeypatch.chdir(tmp_path)
    assert main(["validate", str(ROOT / POLICY), "one.xlsx"]) == 2
    assert main(["validate", str(ROOT / POLICY), "broken.xlsx"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "one.xlsx: no sheet named 'cluster'; a data workbook has sheets cluster, units, votes, history, discipline, "
        "deferrals, members ('cluster' and 'units' at least; see `thidua template`)",
        "broken.xlsx: not a readable .xlsx workbook (BadZipFile): save it from Excel (or LibreOffice) as an Excel "
        "workbook (.xlsx)",
    ]


def _csv_set(folder: Path) -> None:
    source = ROOT / "examples" / "cum8-2022" / "csv"
    for name in ("data.toml", "units.csv", "votes.csv", "history.csv"):
        (folder / name).write_bytes((source / name).read_bytes())


def test_csv_files_errors_name_each_file_and_line(monkeypatch, capsys, tmp_path):
    """A problem in a companion CSV file names that file and line; every problem at once."""
    _csv_set(tmp_path)
    history = (tmp_path / "history.csv").read_text(encoding="utf-8")
    (tmp_path / "history.csv").write_text(history.replace("cuc-khtc,2021", "cuc-khtx,2021")
                                          .replace("vien-khcn,2021", "vien-khcn,hai"), encoding="utf-8")
    votes = (tmp_path / "votes.csv").read_text(encoding="utf-8")
    (tmp_path / "votes.csv").write_text(votes.replace("co_thi_dua_bca,6,cuc-tbkv", "co_thi_dua_bca,7,cuc-tbkv"),
                                        encoding="utf-8")
    units = (tmp_path / "units.csv").read_text(encoding="utf-8")
    (tmp_path / "units.csv").write_text(units.replace(",tot,150,", ",tốt,150,"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["validate", str(ROOT / POLICY), "data.toml"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "history.csv:5: expected a whole number, got 'hai'",
        "votes.csv:4: 'voters' is 7 here but 6 in an earlier row of the same ballot ('co_thi_dua_bca'); give it once",
        "units.csv:2: units(id=cuc-vt-cy).party_rating: 'tốt' is not allowed (did you mean 'tot'?); expected one of "
        "xuat_sac, tot, hoan_thanh, khong_hoan_thanh",
        "history.csv:3: history[1](unit=cuc-khtx).unit: unknown unit 'cuc-khtx' (did you mean 'cuc-khtc'?)",
    ]


BALLOT = '\n[[votes]]\ntitle = "co_thi_dua_bca"\nvoters = 6\nyes = {}\n'


@pytest.mark.parametrize(("edit", "line"), [
    (lambda t: t.replace('"units.csv"', '"gone.csv"'), "data.toml: files.units: file not found: gone.csv"),
    (lambda t: t.replace('"units.csv"', '"/etc/units.csv"'), "data.toml: files.units: give a path relative to this file"),
    (lambda t: t.replace('"units.csv"', '"units.txt"'),
     "data.toml: files.units: 'units.txt' is not a .csv file: [files] names CSV files (UTF-8)"),
    (lambda t: t + BALLOT, "data.toml: files.votes: the votes are written here as [[votes]] too; give them in one place"),
    (lambda t: t + '\n[[units]]\nid = "x"\n', "data.toml: units: 'units' with [files]: [files] names one "
     "cluster's files, with its [cluster] table here; give the units in files.units"),
    (lambda t: t + 'ballots = "votes.csv"\n', "data.toml: files.ballots: unknown key 'ballots'"),
], ids=["missing", "absolute", "not-csv", "twice", "inline-units", "unknown-key"])
def test_csv_files_table_errors(monkeypatch, capsys, tmp_path, edit, line):
    """[files] problems: one line each, naming the key and the fix."""
    _csv_set(tmp_path)
    text = (tmp_path / "data.toml").read_text(encoding="utf-8")
    (tmp_path / "data.toml").write_text(edit(text), encoding="utf-8")
    (tmp_path / "units.txt").write_text("id\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["validate", str(ROOT / POLICY), "data.toml"]) == 2
    assert capsys.readouterr().err.splitlines() == [line]


def test_csv_files_semicolon_and_members(monkeypatch, capsys, tmp_path):
    """Companion files separated by ';' when the units file is too (decimal commas); a mix is refused."""
    _csv_set(tmp_path)
    for name in ("units.csv", "votes.csv", "history.csv"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(text.replace(",", ";"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(monkeypatch, capsys, "evaluate", POLICY, TOML_DATA, "--format", "json")
    assert code == 0
    monkeypatch.chdir(tmp_path)
    assert main(["evaluate", str(ROOT / POLICY), "data.toml", "--format", "json"]) == 0
    assert capsys.readouterr().out == out
    (tmp_path / "votes.csv").write_text((tmp_path / "votes.csv").read_text(encoding="utf-8").replace(";", ","),
                                        encoding="utf-8")
    assert main(["validate", str(ROOT / POLICY), "data.toml"]) == 2
    assert capsys.readouterr().err == ("votes.csv: separated by ',' but units.csv by ';': save the files of one "
                                       "data set the same way\n")


def _script():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_example_xlsx", ROOT / "scripts" / "make_example_xlsx.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_members_in_files_and_members_sheet(monkeypatch, capsys, tmp_path):
    """The members example: members named in [files], or in a workbook's 'members' sheet, give the
    result of --members; given twice, they are refused."""
    import csv
    import tomllib

    from thidua_rules import load_policy
    from thidua_rules.report.workbook import workbook_bytes

    policy_file = "policies/cum8-2022-members.toml"
    data_file = "examples/cum8-2022/units-members.toml"
    members_file = ROOT / "examples" / "cum8-2022" / "members.csv"
    code, expected, err = run(monkeypatch, capsys, "evaluate", policy_file, data_file, "--members",
                              "examples/cum8-2022/members.csv", "--format", "json")
    assert code == 0, err
    script = _script()
    policy = load_policy(ROOT / policy_file)
    raw = tomllib.loads((ROOT / data_file).read_text(encoding="utf-8"))
    for name, data in script.csv_files(policy, raw).items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "members.csv").write_bytes(members_file.read_bytes())
    text = (tmp_path / "data.toml").read_text(encoding="utf-8")
    (tmp_path / "data.toml").write_text(text + 'members = "members.csv"\n', encoding="utf-8")
    with members_file.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    (tmp_path / "units.xlsx").write_bytes(workbook_bytes(script.workbook_for(policy, raw, rows)))
    monkeypatch.chdir(tmp_path)
    assert main(["evaluate", str(ROOT / policy_file), "data.toml", "--format", "json"]) == 0
    assert capsys.readouterr().out == expected
    assert main(["evaluate", str(ROOT / policy_file), "units.xlsx", "--format", "json"]) == 0
    assert capsys.readouterr().out == expected
    assert main(["validate", str(ROOT / policy_file), "data.toml", "--members", "members.csv"]) == 2
    assert capsys.readouterr().err == ("data.toml: files.members: members given twice: here and with --members; "
                                       "give them in one place\n")


def test_decimal_read_exactly():
    """A decimal input typed in a sheet as 98.5 is the Decimal 98.5, never a float's digits."""
    assert Decimal(cell_text(98.5, "General")[0]) == Decimal("98.5")


def test_workbook_repeated_problem_is_capped(monkeypatch, capsys, tmp_path):
    """The same problem in many rows of a sheet: the first 5 lines, then one line counting the rest."""
    book = openpyxl.load_workbook(ROOT / XLSX_DATA)
    for row in range(3, 9):
        book["units"].cell(row=row, column=3).value = "x"
    book.save(tmp_path / "many.xlsx")
    monkeypatch.chdir(tmp_path)
    assert main(["validate", str(ROOT / POLICY), "many.xlsx"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == ("many.xlsx: sheet 'units' cell C3: units(id=cuc-vt-cy).targets_assigned: expected a whole "
                        'number, got a string "x"')
    assert lines[5:] == ['many.xlsx: … and 1 more: expected a whole number, got a string "x"']


def test_every_section_round_trips(tmp_path, example_policy):
    """Ballots with `present` and `written`, discipline and deferrals (with and without titles):
    the same dataset from a TOML file, a workbook filled in from the template, and CSV files."""
    import tomllib

    import tomli_w

    from thidua_rules import load_data
    from thidua_rules.report.workbook import workbook_bytes

    raw = tomllib.loads((ROOT / TOML_DATA).read_text(encoding="utf-8"))
    raw["votes"][0].update(voters=7, present=6, written={"cuc-cntt": 1})
    raw["discipline"] = [{"unit": "cuc-vt-cy", "level": "khien_trach", "from": 2020, "until": 2021,
                          "note": "quyết định số 12"}]
    raw["deferrals"] = [{"unit": "cuc-qlxddt", "reason": "đang xác minh đơn, khiếu nại", "titles": []},
                        {"unit": "cuc-tbkv", "reason": "chờ kết luận", "titles": ["bang_khen_bo_truong",
                                                                                  "don_vi_quyet_thang"]}]
    (tmp_path / "units.toml").write_text(tomli_w.dumps(raw), encoding="utf-8")
    script = _script()
    (tmp_path / "units.xlsx").write_bytes(workbook_bytes(script.workbook_for(example_policy, raw)))
    (tmp_path / "csv").mkdir()
    for name, data in script.csv_files(example_policy, raw).items():
        (tmp_path / "csv" / name).write_bytes(data)
    assert sorted(p.name for p in (tmp_path / "csv").iterdir()) == [
        "data.toml", "deferrals.csv", "discipline.csv", "history.csv", "units.csv", "votes.csv"]
    expected = load_data(tmp_path / "units.toml", example_policy)
    assert expected.clusters[0].discipline and len(expected.clusters[0].deferrals) == 2
    for path in (tmp_path / "units.xlsx", tmp_path / "csv" / "data.toml"):
        got = load_data(path, example_policy)
        assert (got.clusters, got.sha256) == (expected.clusters, expected.sha256), path.name


@pytest.mark.parametrize(("header", "lines"), [
    ("targets_done", ["units.csv:1: column 'targets_assigned' appears 2 times (columns 3 and 4); keep one"]),
    ("id", ["units.csv:1: unknown column 'ma'", "units.csv:1: missing column 'id' (the unit's id)"]),
], ids=["repeated", "no-id"])
def test_csv_files_units_header_problem_alone(monkeypatch, capsys, tmp_path, header, lines):
    """A units header that no row can be read under: its lines alone, not every unit named elsewhere."""
    _csv_set(tmp_path)
    text = (tmp_path / "units.csv").read_text(encoding="utf-8")
    (tmp_path / "units.csv").write_text(text.replace(header, "targets_assigned" if header != "id" else "ma", 1),
                                        encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["validate", str(ROOT / POLICY), "data.toml"]) == 2
    assert capsys.readouterr().err.splitlines() == lines
