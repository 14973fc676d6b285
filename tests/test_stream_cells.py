"""The streaming driver's CSV cells give what ``csv_rows`` and ``cluster_groups`` give."""

from __future__ import annotations

import io
import random

import pytest

from thidua_rules.errors import PolicyError
from thidua_rules.loader.rows import cells_dict
from thidua_rules.stream import CsvCells, cluster_groups, csv_rows


def _straightforward(text: str):
    issues = []
    out = []
    try:
        for cluster, group in cluster_groups(csv_rows(io.BytesIO(text.encode()), "u.csv"), "u.csv", issues):
            out.append((cluster, [(line, row) for line, row in group]))
    except PolicyError as exc:
        out.append(("error", exc.lines()))
    return out, [(i.line, i.message) for i in issues]


def _cells(text: str):
    cells = CsvCells(io.BytesIO(text.encode()), "u.csv") if text else None
    if cells is None or not cells.usable:
        return None  # the driver reads such files with csv_rows
    issues = []
    out = []
    try:
        for cluster, group in cells.groups(issues):
            out.append((cluster, [(line, cells_dict(cells.header, row)) for line, row in group]))
    except PolicyError as exc:
        out.append(("error", exc.lines()))
    return out, [(i.line, i.message) for i in issues]


@pytest.mark.parametrize("text", [
    "cluster,id,x\nc1,a,1\nc1,b,\nc2,c,3\n",
    "cluster,id,x\r\nc1,a,1\r\n\r\n\r\nc2,b,2\r\n",
    "id,x,cluster\na,1,c1\nb,2\n,3,c1\n",          # a short row: no cluster
    "cluster,id\nc2,a\nc1,b\n",                      # unsorted
    "cluster,id\nc1,a,extra\n",                      # more cells than header columns
    'cluster,id,x\nc1,a,"1\n2"\nc1,b,"bad"x\n',      # a quoted line end, then a syntax error
    "cluster,id\n\n\nc1,\"a\n",                      # an unterminated quote after blank lines
    "x,id\n1,a\n",                                   # no cluster column
    "\ufeffcluster,id\nc1,a\n",                      # a byte order mark
], ids=repr)
def test_cells_are_csv_rows(text):
    assert _cells(text) == _straightforward(text)


def test_cells_are_csv_rows_on_random_text():
    rng = random.Random(8)
    pieces = ["c1", "c2", "c0", "a", "", ",", "\n", "\r\n", '"x\ny"', '"q"', '"bad"x', "1", " ", '"']
    checked = 0
    for _ in range(5_000):
        body = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 30)))
        text = "cluster,id,x\n" + body
        got = _cells(text)
        if got is not None:
            assert got == _straightforward(text), repr(text)
            checked += 1
    assert checked == 5_000


def test_repeated_column_names_are_left_to_csv_rows():
    assert _cells("cluster,id,id\nc1,a,b\n") is None
