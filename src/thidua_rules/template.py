"""``thidua template POLICY -o units.xlsx``: an empty data workbook for a policy (its inputs'
labels as headers over a hidden row of their ids, lists and bounds as data validation), which
``thidua evaluate`` reads back once filled in (docs/spreadsheets.md)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from .loader.sections import CLUSTER_COLUMNS, SECTION_COLUMNS
from .model import InputField, Policy
from .report.workbook import new_workbook, write_workbook
from .report.xlsxcells import put_text
from .tomlfmt import toml_value

#: Rows of a sheet that get the data validation (the header rows above them).
VALIDATED_ROWS = 1000
#: Excel refuses a list validation longer than this (the values joined by commas).
LIST_MAX = 255


def _validation(field: InputField, type_: str | None = None) -> Any:
    """The data validation of an input's cells, or ``None`` (text, or a list too long)."""
    from openpyxl.worksheet.datavalidation import DataValidation

    kind = type_ or field.type
    if kind in ("enum", "boolean"):
        values = list(field.values) if kind == "enum" else ["true", "false"]
        joined = ",".join(values)
        if len(joined) > LIST_MAX or any('"' in v or "," in v for v in values):
            return None
        return DataValidation(type="list", formula1=f'"{joined}"', allow_blank=True, showErrorMessage=True,
                              error=f"one of: {', '.join(values)}", errorTitle=field.id)
    if kind in ("integer", "decimal"):
        check = "whole" if kind == "integer" else "decimal"
        low, high = field.min, field.max
        if low is None and high is None:
            return DataValidation(type=check, operator="between", formula1="-1E+15", formula2="1E+15",
                                  allow_blank=True, showErrorMessage=True, errorTitle=field.id,
                                  error="a whole number" if kind == "integer" else "a number")
        if high is None:
            return DataValidation(type=check, operator="greaterThanOrEqual", formula1=_number(low),
                                  allow_blank=True, showErrorMessage=True, errorTitle=field.id,
                                  error=f"a number >= {toml_value(low)}")
        if low is None:
            return DataValidation(type=check, operator="lessThanOrEqual", formula1=_number(high),
                                  allow_blank=True, showErrorMessage=True, errorTitle=field.id,
                                  error=f"a number <= {toml_value(high)}")
        return DataValidation(type=check, operator="between", formula1=_number(low), formula2=_number(high),
                              allow_blank=True, showErrorMessage=True, errorTitle=field.id,
                              error=f"a number from {toml_value(low)} to {toml_value(high)}")
    return None


def _number(value: Decimal | None) -> str:
    assert value is not None
    return f"{value.normalize():f}" if value else "0"


def _list(field_id: str, values: list[str]) -> Any:
    return _validation(InputField(id=field_id, type="enum", values=tuple(values)))


def _sheet(workbook: Any, name: str, columns: list[str], labels: list[str] | None = None,
           validations: dict[str, Any] | None = None) -> Any:
    """A sheet with its header (``labels`` over a hidden row of ``columns``, when given) and
    each column's validation."""
    from openpyxl.utils import get_column_letter

    sheet = workbook.create_sheet(name)
    for i, column in enumerate(columns, start=1):
        put_text(sheet.cell(row=1, column=i), column)
        if labels is not None:
            put_text(sheet.cell(row=2, column=i), labels[i - 1])
        sheet.column_dimensions[get_column_letter(i)].width = max(12, min(40, len(labels[i - 1] if labels else column) + 2))
    first = 3 if labels is not None else 2
    if labels is not None:
        sheet.row_dimensions[1].hidden = True
    sheet.freeze_panes = f"A{first}"
    for column, validation in sorted((validations or {}).items()):
        if validation is None or column not in columns:
            continue
        letter = get_column_letter(columns.index(column) + 1)
        validation.add(f"{letter}{first}:{letter}{first + VALIDATED_ROWS - 1}")
        sheet.add_data_validation(validation)
    return sheet


def typed_inputs(policy: Policy) -> list[InputField]:
    """The inputs a units sheet has a column for: every input not computed by a plugin (an
    input counted from members is typed for a unit without members)."""
    return [f for f in policy.inputs if not f.plugin]


def template_workbook(policy: Policy) -> Any:
    """The data workbook for ``policy``: sheets ``cluster``, ``units``, ``votes``, ``history``,
    ``discipline``, ``deferrals`` and, for a policy with ``[people]``, ``members``."""
    from .loader.data import _history_reads

    workbook = new_workbook()
    cluster = _sheet(workbook, "cluster", ["key", "value"])
    for row, key in enumerate(CLUSTER_COLUMNS, start=2):
        put_text(cluster.cell(row=row, column=1), key)
        if key == "year" and policy.year is not None:
            cluster.cell(row=row, column=2).value = policy.year
    inputs = typed_inputs(policy)
    _sheet(workbook, "units", ["id", "name", *(f.id for f in inputs)],
           ["Mã đơn vị (id)", "Tên đơn vị", *(f.label or f.id for f in inputs)],
           {f.id: _validation(f) for f in inputs})
    voted = sorted(t.id for t in (*policy.titles, *(policy.people.titles if policy.people else ()))
                   if t.takes_vote)
    whole = InputField(id="count", type="integer", min=Decimal(0))
    _sheet(workbook, "votes", [c for c in SECTION_COLUMNS["votes"] if c != "members"],
           validations={"title": _list("title", voted) if voted else None, "round": _list("round", ["1", "2"]),
                        "voters": _validation(attr_min(whole, 1)), "present": _validation(whole),
                        "yes": _validation(whole), "written": _validation(whole)})
    reads = [f for f in policy.inputs if f.id in _history_reads(policy)]
    _sheet(workbook, "history", [*SECTION_COLUMNS["history"], *(f.id for f in reads)],
           validations={"band": _list("band", [b.id for b in policy.bands]) if policy.bands else None,
                        "year": _validation(whole), "rank": _validation(attr_min(whole, 1)),
                        **{f.id: _validation(f) for f in reads}})
    _sheet(workbook, "discipline", list(SECTION_COLUMNS["discipline"]),
           validations={"from": _validation(whole), "until": _validation(whole)})
    _sheet(workbook, "deferrals", list(SECTION_COLUMNS["deferrals"]))
    if policy.people is not None:
        people = [f for f in policy.people.inputs if not f.plugin]
        _sheet(workbook, "members", ["unit", "id", "name", *(f.id for f in people), "earlier", "deferred",
                                     "discipline_until"],
               validations={f.id: _validation(f) for f in people})
    return workbook


def attr_min(field: InputField, low: int) -> InputField:
    import attrs

    return attrs.evolve(field, min=Decimal(low))


def write_template(policy: Policy, path: str | Path) -> None:
    """Write the template workbook of ``policy`` to ``path`` (atomically, the same bytes every time)."""
    write_workbook(path, template_workbook(policy))
