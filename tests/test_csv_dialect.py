"""CSV files separated by ``;`` with decimal commas (Excel in a Vietnamese locale) read as the
comma-separated file of the same values: the same units, bytes of output and digest, in memory
and streamed."""

from __future__ import annotations

import csv
import io
import tomllib
from decimal import Decimal

import pytest
import tomli_w

from thidua_rules import evaluate, load_policy, parse_data, render
from thidua_rules.errors import PolicyError
from thidua_rules.loader.rows import csv_delimiter
from thidua_rules.stream import evaluate_stream

from .conftest import EXAMPLE_DATA, EXAMPLE_POLICY

#: The example's unit inputs, in the policy's order.
COLUMNS = ["cluster", "id", "name", "targets_assigned", "targets_done", "ad_hoc_assigned", "ad_hoc_done",
           "advisory_adopted", "joint_activities", "party_rating", "members", "members_completed",
           "members_advanced", "emulation_fighters", "ad_hoc_commendations", "members_disciplined",
           "inspection_findings"]


def _example_units() -> list[dict[str, object]]:
    raw = tomllib.loads(EXAMPLE_DATA.read_text(encoding="utf-8"), parse_float=Decimal)
    return [{"cluster": raw["cluster"]["id"], **unit} for unit in raw["units"]]


def _csv(rows: list[dict[str, object]], delimiter: str, header: list[str] | None = None,
         write=str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header or COLUMNS)
    for row in rows:
        writer.writerow([write(row[c]) if c in row else "" for c in COLUMNS])
    return out.getvalue().encode("utf-8")


def _labels(policy) -> list[str]:
    label = {f.id: f.label for f in policy.inputs}
    return [label.get(c) or c for c in COLUMNS]


def _json(policy, data: bytes, file: str = "units.csv", format: str = "csv") -> str:
    return render(evaluate(policy, parse_data(data, policy, file=file, format=format)), "json")


def _streamed(policy, path, **kwargs) -> str:
    out = io.StringIO()
    evaluate_stream(policy, path, out, display="units.csv", **kwargs)
    return out.getvalue()


def test_delimiter_is_decided_from_the_header_line():
    """No ';' outside quotes: ','; else the split naming more known columns, then more delimiters."""
    known = {"cluster", "id", "name", "a, b"}.__contains__
    assert [csv_delimiter(line, known) for line in (
        "cluster,id,name", "cluster;id;name", '"x;y",cluster,id', "cluster,id;name",
        '"a, b";cluster', "a;b,c,d", "a;b;c,d")] == [",", ";", ",", ",", ";", ",", ";"]


def test_semicolon_csv_of_the_example_gives_the_comma_csv_bytes(example_policy):
    """The example's units as Excel writes them in a Vietnamese locale (';', labels as headers)
    give the JSON bytes of the comma-separated file, and of the TOML file of the same units."""
    rows = _example_units()
    comma = _json(example_policy, _csv(rows, ","))
    assert _json(example_policy, _csv(rows, ";", _labels(example_policy))) == comma
    as_toml = tomli_w.dumps({"clusters": [{"id": "cum8", "units": [
        {k: v for k, v in row.items() if k != "cluster"} for row in rows]}]}).encode("utf-8")
    assert _json(example_policy, as_toml, file="units.csv", format="toml") == comma


def _decimal_policy(tmp_path):
    """The example policy with ``joint_activities`` a decimal input (the example has none)."""
    text = EXAMPLE_POLICY.read_text(encoding="utf-8")
    old = 'joint_activities = { type = "integer"'
    assert old in text
    path = tmp_path / "policy.toml"
    path.write_text(text.replace(old, 'joint_activities = { type = "decimal"'), encoding="utf-8")
    return load_policy(path)


class _Number(str):
    """A number's text as a ',' file writes it."""


def _decimal_rows() -> list[dict[str, object]]:
    rows = _example_units()
    for row, joint, members in zip(rows, ["2.5", "0.25", "3", "1.", "4.75", ".5"],
                                   [1500, 150, 2345678, 90, 1000, 64], strict=True):
        row["joint_activities"] = _Number(joint)
        row["members"] = row["members_completed"] = members
        row["members_advanced"] = min(int(row["members_advanced"]), members)  # type: ignore[call-overload]
    return rows


def _comma_text(value: object) -> str:
    """A value as Vietnamese Excel writes it: a decimal comma, thousands grouped by '.'."""
    if isinstance(value, _Number):
        return value.replace(".", ",")
    if isinstance(value, int) and value >= 10_000:
        return f"{value:,}".replace(",", ".")
    return str(value)


def test_decimal_commas_read_as_the_comma_file_values(tmp_path):
    """'2,5', ',5', '1,' and '2.345.678' in a ';' file give the bytes of '2.5', '.5', '1.' and
    '2345678' in a ',' file; streamed (in one and two processes) and in memory alike."""
    policy = _decimal_policy(tmp_path)
    rows = _decimal_rows()
    comma, semicolon = _csv(rows, ","), _csv(rows, ";", write=_comma_text)
    assert b";2,345;" not in semicolon and b";2.345.678;" in semicolon and b";,5;" in semicolon
    expected = _json(policy, comma)
    assert _json(policy, semicolon) == expected
    (tmp_path / "comma.csv").write_bytes(comma)
    (tmp_path / "semicolon.csv").write_bytes(semicolon)
    lines = _streamed(policy, tmp_path / "comma.csv")
    assert render(evaluate(policy, parse_data(comma, policy, file="units.csv", format="csv")), "jsonl") == lines
    assert _streamed(policy, tmp_path / "semicolon.csv") == lines
    assert _streamed(policy, tmp_path / "semicolon.csv", jobs=2,
                     policy_bytes=(tmp_path / "policy.toml").read_bytes()) == lines


def test_the_digest_does_not_depend_on_the_dialect(tmp_path):
    """The digest is of the parsed data: the same values give the same digest."""
    policy = _decimal_policy(tmp_path)
    rows = _decimal_rows()
    comma = parse_data(_csv(rows, ","), policy, file="a.csv", format="csv")
    semicolon = parse_data(_csv(rows, ";", write=_comma_text), policy, file="b.csv", format="csv")
    assert comma.sha256 == semicolon.sha256


def _problems(policy, data: bytes) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        parse_data(data, policy, file="units.csv", format="csv")
    return [issue.format() for issue in caught.value.issues]


def test_cells_are_remembered_per_dialect(tmp_path):
    """A cell read well in one kind of file is not taken as known in the other: '2.5' is refused
    in a ';' file after a ',' file, '2,5' in a ',' file after a ';' file."""
    policy = _decimal_policy(tmp_path)
    rows = _decimal_rows()
    for row in rows:
        row["joint_activities"] = _Number("2.5")
    comma, semicolon = _csv(rows, ","), _csv(rows, ";", write=_comma_text)
    for _ in range(2):
        _json(policy, comma)
        _json(policy, semicolon)
    dotted = _csv(rows, ";", write=str).replace(b";1500;", b";1.500,0;")
    problems = _problems(policy, dotted)
    assert problems[0] == ("units.csv:2: units(id=cuc-vt-cy).joint_activities: '2.5' has a decimal point, but "
                           "in a file separated by ';' the decimal mark is a comma: write 2,5")
    assert len(problems) == 7 and problems[-1].startswith("units.csv: … and 1 more rows: ")
    assert _problems(policy, comma.replace(b",2.5,", b",\"2,5\",", 1)) == [
        'units.csv:2: units(id=cuc-vt-cy).joint_activities: expected a number, got a string "2,5"']


def test_ambiguous_and_bad_decimal_comma_cells_are_one_line_each(tmp_path):
    """'1.234' (a thousand, or one and a quarter?) and a decimal point are refused with the fix;
    a badly grouped number is not a number; a number out of bounds says so."""
    policy = _decimal_policy(tmp_path)
    rows = _decimal_rows()
    data = _csv(rows, ";", write=_comma_text)
    data = data.replace(b";1500;1500;", b";1.500;1500;", 1).replace(b";0,25;", b";0.25;", 1)
    data = data.replace(b";2.345.678;", b";2.34.678;", 1).replace(b";4,75;", b";-4,75;", 1)
    assert _problems(policy, data) == [
        "units.csv:2: units(id=cuc-vt-cy).members: '1.500' is ambiguous in a file separated by ';' (the "
        "decimal mark is a comma): write 1500 for a whole number or 1,500 for a decimal",
        "units.csv:3: units(id=cuc-qlxddt).joint_activities: '0.25' has a decimal point, but in a file "
        "separated by ';' the decimal mark is a comma: write 0,25",
        'units.csv:4: units(id=cuc-khtc).members: expected a whole number, got a string "2.34.678"',
        "units.csv:6: units(id=cuc-cntt).joint_activities: expected a number >= 0, got -4,75",
    ]


def test_semicolon_members_file_gives_the_comma_members_result(tmp_path):
    """The example's members file saved with ';' (cells holding ';' quoted) gives the same result."""
    from thidua_rules import load_data
    from thidua_rules.loader.data import read_member_rows

    from .conftest import ROOT

    policy = load_policy(ROOT / "policies" / "cum8-2022-members.toml")
    units = ROOT / "examples" / "cum8-2022" / "units-members.toml"
    comma = ROOT / "examples" / "cum8-2022" / "members.csv"
    table = list(csv.reader(io.StringIO(comma.read_text(encoding="utf-8"), newline="")))
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(table)
    semicolon = tmp_path / "members.csv"
    semicolon.write_text(out.getvalue(), encoding="utf-8")
    assert any(";" in cell for row in table for cell in row)  # (an earlier-titles cell, quoted)
    expected = render(evaluate(policy, load_data(units, policy, members=comma)), "json")
    assert render(evaluate(policy, load_data(units, policy, members=semicolon)), "json") == expected
    # its numbers are read with decimal commas (the example's people inputs are all enums)
    assert [read_member_rows(p).text_values for p in (comma, semicolon)] == [True, "decimal-comma"]


def test_streamed_errors_are_the_loaders(tmp_path):
    """A bad decimal-comma cell gives the same lines streamed as loaded."""
    from .conftest import ROOT

    case = ROOT / "tests" / "errors" / "csv_dialect_decimal_point"
    policy = load_policy(case / "policy.toml", display="policy.toml")
    expected = (case / "expected.err").read_text(encoding="utf-8").splitlines()
    assert _problems(policy, (case / "units.csv").read_bytes()) == expected
    with pytest.raises(PolicyError) as caught:
        _streamed(policy, case / "units.csv")
    assert [issue.format() for issue in caught.value.issues] == expected


def test_comma_number_forms():
    """Each accepted form → the ',' file's text; refused ones → their problem; others left alone."""
    from thidua_rules.loader.convert import comma_number

    assert [comma_number(t)[0] for t in (
        "98,5", "-,5", "+1,", "7", "1.234,5", "-2.345.678", "1 234", "1\u00a0234,25", "12\u202f345\u202f678",
    )] == ["98.5", "-.5", "+1.", "7", "1234.5", "-2345678", "1234", "1234.25", "12345678"]
    assert [comma_number(t) for t in ("abc", "1.2.3", "1 23", "1.234 567", "")] == [(None, "")] * 5
    assert [bool(comma_number(t)[1]) for t in ("1.234", "-1.234", "98.5", ".5", "1234.")] == [True] * 5
