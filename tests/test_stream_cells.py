"""The streaming driver's CSV cells: each cluster's rows with their lines, the rows without a
cluster, and every error line, written out."""

from __future__ import annotations

import io

import pytest

from thidua_rules.errors import PolicyError
from thidua_rules.loader.rows import cells_dict
from thidua_rules.stream import CsvCells

MISSING = "missing 'cluster' (the id of the unit's cluster)"
UNSORTED = ("u.csv:3: cluster 'c1' comes after cluster 'c2': streaming needs the rows sorted by cluster id "
            "(sort the file by its 'cluster' column, or write --format json)")


def _groups(text: str):
    """``(clusters, issues)``: each cluster's ``(line, row)`` pairs (the row as the loader's dict
    of its non-empty cells, without ``cluster``), then an error's lines; and the rows' issues."""
    issues: list = []
    out: list = []
    try:
        cells = CsvCells(io.BytesIO(text.encode()), "u.csv")
        for cluster, group in cells.groups(issues):
            out.append((cluster, [(line, cells_dict(cells.header, row)) for line, row in group]))
    except PolicyError as exc:
        out.append(("error", exc.lines()))
    return out, [(i.line, i.message) for i in issues]


@pytest.mark.parametrize(("text", "expected"), [
    ("cluster,id,x\nc1,a,1\nc1,b,\nc2,c,3\n",
     ([("c1", [(2, {"id": "a", "x": "1"}), (3, {"id": "b"})]), ("c2", [(4, {"id": "c", "x": "3"})])], [])),
    ("cluster,id,x\r\nc1,a,1\r\n\r\n\r\nc2,b,2\r\n",   # blank lines: the next row keeps its own line
     ([("c1", [(2, {"id": "a", "x": "1"})]), ("c2", [(5, {"id": "b", "x": "2"})])], [])),
    ("id,x,cluster\na,1,c1\nb,2\n,3,c1\n",             # a short row: no cluster
     ([("c1", [(2, {"id": "a", "x": "1"}), (4, {"x": "3"})])], [(3, MISSING)])),
    ("cluster,id\nc2,a\nc1,b\n", ([("error", [UNSORTED])], [])),
    ("cluster,id\nc1,a,extra\n", ([("error", ["u.csv:2: more cells than header columns"])], [])),
    ('cluster,id,x\nc1,a,"1\n2"\nc1,b,"bad"x\n',       # a quoted line end, then a syntax error
     ([("error", ["u.csv:3: CSV syntax: ',' expected after '\"'"])], [])),
    ('cluster,id\n\n\nc1,"a\n',                        # an unterminated quote after blank lines
     ([("error", ["u.csv:2: CSV syntax: unexpected end of data"])], [])),
    ("x,id\n1,a\n", ([], [(2, MISSING)])),            # no cluster column
    ("\ufeffcluster,id\nc1,a\n", ([("c1", [(2, {"id": "a"})])], [])),  # a byte order mark
    ("cluster,id,x\nc1,a,1\nc1,b",                    # the last row short, without a line end
     ([("error", ["u.csv:3: the last row has 2 of 3 cells and no line end: the file looks cut off; "
                  "copy or save it again"])], [])),
    ("cluster,id,x\n,,\nc1,a,1\n", ([("c1", [(3, {"id": "a", "x": "1"})])], [])),  # a row of empty cells
    ("", ([], [])),                                   # an empty file: no rows
    ("cluster,id,id\nc1,a,b\n",                       # a column named twice: refused
     ([("error", ["u.csv:1: column 'id' appears 2 times (columns 2 and 3); keep one"])], [])),
], ids=repr)
def test_cells_rows_lines_and_errors(text, expected):
    """Each text gives exactly these clusters, rows, lines, issues and error lines."""
    assert _groups(text) == expected


def test_cells_of_an_empty_file_have_no_header():
    """An empty file has no columns and no rows."""
    cells = CsvCells(io.BytesIO(b""), "u.csv")
    assert cells.header == () and list(cells.groups([])) == []
