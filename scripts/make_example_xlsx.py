"""Write the shipped example's data as a workbook and as CSV files, from examples/cum8-2022/units.toml.

    .venv/bin/python scripts/make_example_xlsx.py          # rewrite the files
    .venv/bin/python scripts/make_example_xlsx.py --check  # exit 1 if a file is not what it writes

Writes examples/cum8-2022/units.xlsx (the policy's template, `thidua template`, filled in) and
examples/cum8-2022/csv/ (data.toml naming units.csv, votes.csv and history.csv). The same input
gives the same bytes; tests/test_spreadsheets.py checks the shipped files are these, and that
both give the JSON result of units.toml byte for byte.
"""

from __future__ import annotations

import csv
import io
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "cum8-2022.toml"
SOURCE = ROOT / "examples" / "cum8-2022" / "units.toml"
WORKBOOK = ROOT / "examples" / "cum8-2022" / "units.xlsx"
CSV_DIR = ROOT / "examples" / "cum8-2022" / "csv"

SECTION_COLUMNS = {
    "votes": ["title", "round", "voters", "members", "present", "unit", "yes", "written"],
    "history": ["unit", "year", "band", "titles", "total", "rank"],
    "discipline": ["unit", "level", "from", "until", "note"],
    "deferrals": ["unit", "reason", "titles", "note"],
}


def cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(value)
    return "" if value is None else str(value)


def section_rows(raw: dict[str, Any], name: str) -> tuple[list[str], list[list[str]]]:
    """A section of the TOML data as rows (a ballot: a row per unit it names), using only the
    columns it fills."""
    rows: list[dict[str, Any]] = []
    for item in raw.get(name, []):
        if name == "votes":
            units = sorted({*item.get("yes", {}), *item.get("written", {})})
            for unit in units or [""]:
                row = {k: v for k, v in item.items() if k not in ("yes", "written")}
                row.update(unit=unit, yes=item.get("yes", {}).get(unit), written=item.get("written", {}).get(unit))
                rows.append(row)
        else:
            rows.append(dict(item))
    columns = [c for c in SECTION_COLUMNS[name] if any(r.get(c) is not None for r in rows)]
    return columns, [[cell(r.get(c)) for c in columns] for r in rows]


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def workbook_for(policy: Any, raw: dict[str, Any], members: list[dict[str, str]] | None = None) -> Any:
    """The policy's template (`thidua template`) filled in with the data ``raw`` (a parsed data
    TOML) as a user would: numbers as numbers, ids and names as text; ``members``: rows of a
    members CSV file, for the 'members' sheet."""
    from thidua_rules.template import template_workbook, typed_inputs

    workbook = template_workbook(policy)
    sheet = workbook["cluster"]
    for row in range(2, sheet.max_row + 1):
        key = sheet.cell(row=row, column=1).value
        if key in raw["cluster"]:
            sheet.cell(row=row, column=2).value = raw["cluster"][key]
    sheet = workbook["units"]
    columns = ["id", "name", *(f.id for f in typed_inputs(policy))]
    for r, values in enumerate(raw["units"], start=3):
        for c, name in enumerate(columns, start=1):
            if name in values:
                sheet.cell(row=r, column=c).value = values[name]
    for name in ("votes", "history", "discipline", "deferrals"):
        header, rows = section_rows(raw, name)
        sheet = workbook[name]
        at = {sheet.cell(row=1, column=c).value: c for c in range(1, sheet.max_column + 1)}
        for r, cells in enumerate(rows, start=2):
            for key, text in zip(header, cells, strict=True):
                if text:
                    value: Any = int(text) if key in INTEGER_COLUMNS else text
                    sheet.cell(row=r, column=at[key]).value = value
    if members:
        sheet = workbook["members"]
        at = {sheet.cell(row=1, column=c).value: c for c in range(1, sheet.max_column + 1)}
        for r, row in enumerate(members, start=2):
            for key, text in row.items():
                if text:
                    sheet.cell(row=r, column=at[key]).value = text
    return workbook


INTEGER_COLUMNS = ("round", "voters", "members", "present", "yes", "written", "year", "rank", "from", "until")


def csv_files(policy: Any, raw: dict[str, Any]) -> dict[str, bytes]:
    """The data ``raw`` as ``data.toml`` naming ``units.csv`` and a CSV file per section it has."""
    from thidua_rules.template import typed_inputs

    columns = ["id", "name", *(f.id for f in typed_inputs(policy))]
    columns = [c for c in columns if any(c in u for u in raw["units"])]
    files: dict[str, bytes] = {"units.csv": csv_bytes(columns, [[cell(u.get(c)) for c in columns] for u in raw["units"]])}
    toml = ["# The example's data (examples/cum8-2022/units.toml) with its units and sections in CSV",
            "# files named by [files] (written by scripts/make_example_xlsx.py).", "", "[cluster]"]
    toml += [f"{k} = {toml_string(v) if isinstance(v, str) else v}" for k, v in raw["cluster"].items()]
    toml += ["", "[files]", 'units = "units.csv"']
    for name in ("votes", "history", "discipline", "deferrals"):
        header, rows = section_rows(raw, name)
        if rows:
            toml.append(f'{name} = "{name}.csv"')
            files[f"{name}.csv"] = csv_bytes(header, rows)
    files["data.toml"] = ("\n".join(toml) + "\n").encode("utf-8")
    return files


def build() -> dict[Path, bytes]:
    from thidua_rules import load_policy
    from thidua_rules.report.workbook import workbook_bytes

    policy = load_policy(POLICY)
    raw = tomllib.loads(SOURCE.read_text(encoding="utf-8"))
    files = {WORKBOOK: workbook_bytes(workbook_for(policy, raw))}
    files.update({CSV_DIR / name: data for name, data in csv_files(policy, raw).items()})
    return files


def main(argv: list[str]) -> int:
    files = build()
    if "--check" in argv:
        stale = [p for p, data in files.items() if not p.exists() or p.read_bytes() != data]
        for path in stale:
            print(f"{path.relative_to(ROOT)}: not what scripts/make_example_xlsx.py writes; run it", file=sys.stderr)
        return 1 if stale else 0
    for path, data in sorted(files.items()):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
