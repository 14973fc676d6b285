"""The loader's fast paths (the usual unit made without checking, the generated unit text of the
data digest, units made as layout twins) give exactly what the straightforward code gives: the
same units, values, digits and key order, the same digest and the same error lines."""

from __future__ import annotations

import csv
import io
import random
import sys
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

import attrs
import pytest

from thidua_rules import load_policy, parse_data, parse_policy
from thidua_rules.errors import PolicyError
from thidua_rules.loader import data as data_module
from thidua_rules.model import Unit
from thidua_rules.stream import evaluate_stream

from .test_fastpath import _straightforward_loading

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import generate  # noqa: E402
import large_policy  # noqa: E402

NAMES = ["Đơn vị \"Ấp\" {n}", "Phòng 'Ư' {n}", "Unit {n}\\x", "", " {n} ", "Ban\u2028{n}", "Đội, {n}"]


def _policy(name):
    if name == "example":
        return load_policy(ROOT / "policies" / "cum8-2022.toml")
    if name == "large":
        return parse_policy(large_policy.make_policy().encode("utf-8"), file="large.toml")
    return load_policy(ROOT / "policies" / f"{name}.toml")


def _cell(field, rng: random.Random) -> str:
    """A good cell text for ``field``, in one of the ways a person types it."""
    if field.type == "integer":
        low = int(field.min) if field.min is not None else -5
        high = int(field.max) if field.max is not None else max(low, 0) + 30
        if field.id == "beneficiaries":  # the cantho checks compare other counts with it
            low = high = 60
        value = rng.randint(low, high)
        forms = [str(value), f"00{value}", f" {value} ", f"+{value}", f"{value}\t"]
        if value == 0:
            forms += ["-0", "+0", "000", "-00"]
        return rng.choice(forms)
    if field.type == "decimal":
        return rng.choice(["0.5", ".5", "0.50", "1", "1.", "+0.25", " 0.3 ", "0", "-0", "0.000", "00.7500"])
    if field.type == "boolean":
        return rng.choice(["true", "false", " TRUE ", "yes", "có", "x", "1", "0", "no", "không", "khong", "False"])
    if field.type == "enum":
        return rng.choice(field.values)
    return rng.choice(["ghi chú", 'a "b"', "x,y", "\\", "ư\u2028"])


def edge_csv(policy, units: int, seed: int, *, empty_optional: bool = True) -> bytes:
    """Units of ``policy`` sorted by cluster, every cell a good text written in a varied way,
    names with quotes, commas and non-ASCII letters (or no name), optional inputs left empty."""
    rng = random.Random(seed)
    inputs = [f for f in policy.inputs if not f.plugin and f.members is None]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = ["cluster", "id", "name", *(f.id for f in inputs)]
    rng.shuffle(columns)
    writer.writerow(columns)
    for n in range(units):
        cluster = f"c{n // 7:03d}"
        row = {"cluster": cluster, "id": f"u{n:04d}", "name": rng.choice(NAMES).format(n=n)}
        for field in inputs:
            optional = not field.required or field.default is not None
            row[field.id] = "" if empty_optional and optional and rng.random() < 0.3 else _cell(field, rng)
        writer.writerow([row[c] for c in columns])
    return out.getvalue().encode("utf-8")


def straightforward(monkeypatch):
    """Every unit through ``DataChecker.unit`` and every field through ``convert``; the digest
    through ``canonical_cluster_json``."""
    _straightforward_loading(monkeypatch)


def loaded(data: bytes, policy, kind: str = "csv"):
    """The dataset, or the error lines."""
    try:
        return parse_data(data, policy, file="units." + kind, format=kind)
    except PolicyError as exc:
        return exc.lines()


def exactly(dataset) -> list:
    """Everything of every unit, with each value's type and digits and the order of its keys."""
    return [(c.id, u.id, u.name, u.cluster, type(u), type(u.values),
             [(k, type(v), str(v)) for k, v in u.values.items()])
            for c in dataset.clusters for u in c.units]


def fast_and_slow(monkeypatch, data: bytes, policy, kind: str = "csv"):
    # Loaded twice: the second time every cell is a remembered good text (the usual unit).
    fast = [loaded(data, policy, kind) for _ in range(2)]
    with monkeypatch.context() as m:
        straightforward(m)
        slow = loaded(data, policy, kind)
    return fast, slow


@pytest.mark.parametrize("name", ["example", "large", "cantho-dan-van"])
def test_fast_units_are_the_straightforward_units(monkeypatch, name):
    """On units with cells of every form (leading zeros, '+1', ' 7 ', '-0', decimals, boolean
    words, empty optional cells, names with quotes and non-ASCII letters or none), the dataset
    and its digest are the straightforward loader's exactly."""
    policy = _policy(name)
    data = edge_csv(policy, 600, seed=3)
    fast, slow = fast_and_slow(monkeypatch, data, policy)
    assert not isinstance(slow, list), slow[:5]
    for dataset in fast:
        assert dataset == slow
        assert dataset.sha256 == slow.sha256
        assert exactly(dataset) == exactly(slow)
    # the usual units took the fast path: it is not a test of the slow path twice
    checker = data_module.DataChecker(policy, data_module.Issues("x"), text_values=True)
    assert checker.quick_plan() is not None


@pytest.mark.parametrize("name", ["example", "large"])
def test_generated_data_and_stream_digest(monkeypatch, tmp_path, name):
    """The benchmarks' data: the same dataset and digest, and the streamed run's digest is it."""
    policy = _policy(name)
    data = generate.make_csv(1500, seed=9) if name == "example" else large_policy.make_csv(1500, seed=9)
    fast, slow = fast_and_slow(monkeypatch, data, policy)
    for dataset in fast:
        assert exactly(dataset) == exactly(slow)
        assert dataset.sha256 == slow.sha256
    path = tmp_path / "units.csv"
    path.write_bytes(data)
    summary = evaluate_stream(policy, path, io.StringIO(), display="units.csv")
    assert summary.data_sha256 == slow.sha256
    # Every unit of the usual kind, once its cells are remembered: none is checked the long way.
    checked = []
    with monkeypatch.context() as m:
        slow_unit = data_module.DataChecker.unit
        m.setattr(data_module.DataChecker, "unit", lambda self, *a: checked.append(a) or slow_unit(self, *a))
        assert exactly(loaded(data, policy)) == exactly(slow)
        evaluate_stream(policy, path, io.StringIO(), display="units.csv")
    assert checked == []


def _table(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def _bad_csv(policy, layout: str) -> bytes:
    """Good rows mixed with every kind of problem the loader words; ``layout``: the columns
    are each input once (``"inputs"``), or also an unknown one (``"unknown"``), or have no
    ``name`` (``"no-name"``), or the rows are short."""
    header, *rows = _table(edge_csv(policy, 40, seed=5, empty_optional=False))
    at = {c: i for i, c in enumerate(header)}
    number = next(f.id for f in policy.inputs if f.type == "integer" and f.min is not None and f.min >= 0)
    enum = next((f.id for f in policy.inputs if f.type == "enum"), None)
    rows[1][at[number]] = "1e3"             # an exponent
    rows[2][at[number]] = "-1"              # below the minimum
    rows[3][at[number]] = "1.5"             # not whole
    rows[4][at[number]] = ""                # missing
    rows[5][at["id"]] = "Bad Id"            # not an id
    rows[6][at["id"]] = rows[7][at["id"]]   # the same id twice: the first row (also good) keeps it
    rows[8][at[number]] = "x"
    rows[8][at["id"]] = rows[9][at["id"]]   # a bad row first, then a good one with its id
    rows[10][at["id"]] = ""                 # no id
    rows[11][at["cluster"]] = ""            # no cluster
    rows[12][at[number]] = "٣"              # a digit of another script
    if enum is not None:
        rows[13][at[enum]] = "tot "         # almost an allowed value
    rows[14][at[number]] = " 00 "           # good
    rows[16] = rows[16][:-2]                # short: its last two inputs missing
    long = rows.pop(17)                     # made long below: a syntax error, given alone
    if layout == "unknown":
        header = [*header, "unknown_field"]
        rows = [[*row, "1" if i == 15 else ""] for i, row in enumerate(rows)]
    elif layout == "no-name":
        rows = [[c for j, c in enumerate(row) if j != at["name"]] for row in rows]
        header = [c for c in header if c != "name"]
    elif layout == "short":
        rows = [row[:-1] for row in rows]
    long = [*long, *["1"] * (len(header) + 1 - len(long))]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows([header, *rows])
    good = out.getvalue()
    writer.writerow(long)
    return good.encode("utf-8"), out.getvalue().encode("utf-8")


@pytest.mark.parametrize("layout", ["inputs", "unknown", "no-name", "short"])
@pytest.mark.parametrize("name", ["example", "large", "cantho-dan-van"])
def test_error_lines_are_the_straightforward_lines(monkeypatch, tmp_path, name, layout):
    """Bad cells, missing fields, unknown fields, bad and repeated ids, a row without a cluster,
    short rows: every error line, its row and line number, as the straightforward loader gives
    them, all at once; and the streamed run gives the same lines. With a row longer than the
    header after them: that syntax error alone."""
    policy = _policy(name)
    data, with_long_row = _bad_csv(policy, layout)
    for csv_bytes, at_least in ((data, 10), (with_long_row, 1)):
        fast, slow = fast_and_slow(monkeypatch, csv_bytes, policy)
        assert isinstance(slow, list) and len(slow) >= at_least, slow
        assert fast == [slow, slow]
        path = tmp_path / "units.csv"
        path.write_bytes(csv_bytes)
        with pytest.raises(PolicyError) as raised:
            evaluate_stream(policy, path, io.StringIO(), display="units.csv")
        assert raised.value.lines() == slow
    assert any("duplicate unit id" in line for line in slow_lines(monkeypatch, data, policy))
    assert slow == ["units.csv:41: more cells than header columns"]


def slow_lines(monkeypatch, data, policy):
    with monkeypatch.context() as m:
        straightforward(m)
        return loaded(data, policy)


def test_failed_check_is_worded_as_before(monkeypatch):
    """A unit whose cells are all remembered but which fails a policy check goes to the checked
    path: the same message, row and line."""
    policy = _policy("cantho-dan-van")
    header, *rows = _table(edge_csv(policy, 60, seed=8, empty_optional=False))
    rows[20][header.index("with_accounts")] = rows[3][header.index("with_accounts")] = "70"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows([header, *rows])
    data = out.getvalue().encode("utf-8")
    fast, slow = fast_and_slow(monkeypatch, data, policy)
    assert fast == [slow, slow]
    assert len(slow) == 2 and all("check 'accounts_le_beneficiaries' failed" in line for line in slow), slow


def test_json_and_toml_rows_are_the_straightforward_units(monkeypatch):
    """JSON-lines rows (numbers, not texts) and TOML data give the straightforward units too."""
    import json

    import tomli_w

    policy = _policy("example")
    rows = generate.make_rows(300, seed=4)
    jsonl = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    clusters: dict[str, list] = {}
    for row in rows:
        clusters.setdefault(str(row["cluster"]), []).append({k: v for k, v in row.items() if k != "cluster"})
    toml = tomli_w.dumps({"clusters": [{"id": c, "units": u} for c, u in sorted(clusters.items())]}).encode()
    for data, kind in ((jsonl, "jsonl"), (toml, "toml")):
        fast, slow = fast_and_slow(monkeypatch, data, policy, kind)
        for dataset in fast:
            assert exactly(dataset) == exactly(slow)
            assert dataset.sha256 == slow.sha256


def test_values_maker_is_the_known_cells_comprehension():
    """The generated ``values_of`` is the dict of known cells in sorted key order, and raises
    for a missing input or an unknown cell; its source holds no input id."""
    policy = _policy("large")
    parse_data(large_policy.make_csv(200), policy, file="u.csv", format="csv")
    values_of = data_module._values_maker(policy, True)
    cells = data_module._load_plan(policy, True).cells
    row = next(iter(data_module.CsvRows(csv.reader(io.StringIO(large_policy.make_csv(3).decode())))))
    item = {k: v for k, v in row.items() if k not in ("cluster", "id", "name")}
    assert list(values_of(item).items()) == [(k, cells[k][item[k]]) for k in sorted(cells)]
    with pytest.raises(KeyError):
        values_of({**item, "x00": "not a number"})
    with pytest.raises(KeyError):
        values_of({k: v for k, v in item.items() if k != "rating"})
    with pytest.raises(TypeError):
        values_of({**item, "x01": ["unhashable"]})
    code = values_of.__code__
    assert not {c for c in code.co_consts if isinstance(c, str) and c in cells}


def test_units_made_as_twins_are_units():
    """A unit made by the fast constructor equals and prints as the attrs one, and is
    still frozen."""
    values = MappingProxyType({"a": Decimal(1)})
    fast = data_module._new_unit("u1", "Ư", "c", values)
    slow = Unit(id="u1", name="Ư", cluster="c", values=values)
    assert type(fast) is Unit and fast == slow and repr(fast) == repr(slow)
    assert attrs.asdict(fast, recurse=False) == attrs.asdict(slow, recurse=False)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        fast.id = "u2"  # type: ignore[misc]
    assert attrs.evolve(fast, name="x") == Unit(id="u1", name="x", cluster="c", values=values)


def test_new_good_cells_take_the_usual_path(monkeypatch):
    """Data whose cells were never seen (distinct figures, a fresh policy) is built by the
    generated ``values_at`` converting each new cell, not unit by unit through the long check,
    and gives the straightforward loader's dataset and digest; a new bad cell is still worded."""
    text = (ROOT / "benchmarks" / "peer_twelve.toml").read_bytes()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import peers

    rows = peers.twelve_rows(800)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    data = out.getvalue().encode("utf-8")
    policy = parse_policy(text, file="p.toml")
    long_checks = []
    original = data_module.DataChecker.unit

    def counted(self, *args, **kwargs):
        long_checks.append(args)
        return original(self, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(data_module.DataChecker, "unit", counted)
        fast = loaded(data, policy)
    assert long_checks == []
    with monkeypatch.context() as m:
        straightforward(m)
        slow = loaded(data, parse_policy(text, file="p.toml"))
    assert fast == slow and fast.sha256 == slow.sha256 and exactly(fast) == exactly(slow)
    values_of = data_module._values_maker(policy, True)
    item = {k: str(v) for k, v in rows[0].items() if k not in ("cluster", "id", "name")}
    assert values_of({**item, "budget_spent": "98765432101"})["budget_spent"] == Decimal(98765432101)
    with pytest.raises(KeyError):
        values_of({**item, "budget_spent": "98765432101.5"})  # an integer input: worded by the long check
    bad = data.replace(f",{rows[5]['budget_spent']},".encode(), b",12x3,", 1)
    with monkeypatch.context() as m:
        straightforward(m)
        expected = loaded(bad, parse_policy(text, file="p.toml"))
    assert isinstance(expected, list) and expected
    assert loaded(bad, parse_policy(text, file="p.toml")) == expected
