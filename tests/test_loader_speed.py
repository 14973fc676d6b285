"""The loader, written out: given CSV, decimal-comma CSV and JSON-lines text, the exact values
(type, digits, key order), names and data digest, or the exact error lines, all of a file's
problems at once; the same the second time (cells remembered), streamed and in memory; and
each input's converter on edge values."""

from __future__ import annotations

import io
import sys
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

import attrs
import pytest

from thidua_rules import load_policy, parse_data, parse_policy
from thidua_rules.errors import PolicyError
from thidua_rules.loader import convert
from thidua_rules.loader import data as data_module
from thidua_rules.model import Unit
from thidua_rules.stream import evaluate_stream

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import generate  # noqa: E402
import large_policy  # noqa: E402

POLICY = """[policy]
id = "p"
name = "P"
year = 2024

[inputs]
done = { type = "integer", min = 0, max = 100, label = "Đã làm" }
rate = { type = "decimal", min = 0 }
ok = { type = "boolean" }
rating = { type = "enum", values = ["tot", "kha"] }
note = { type = "text", required = false }
extra = { type = "integer", default = 5 }

[[checks]]
id = "done_small"
rule = "done <= 90"
message = "done above 90"

[[criteria]]
id = "c"
name = "C"
points = 10
method = "formula"
formula = "done"
"""


@pytest.fixture
def policy():
    """A fresh policy (its converters remember no cell yet) with an input of every type, an
    optional one, one with a default and a check."""
    return parse_policy(POLICY.encode(), file="p.toml")


def loaded(text: str, policy, kind: str = "csv"):
    """``(digest, units)`` with each value's type and digits in key order, or the error lines."""
    try:
        data = parse_data(text.encode(), policy, file="u." + kind, format=kind)
    except PolicyError as exc:
        return exc.lines()
    return (data.sha256, [(u.id, u.name, [(k, type(v).__name__, str(v)) for k, v in u.values.items()])
                          for c in data.clusters for u in c.units])


def streamed(text: str, policy, tmp_path, kind: str = "csv"):
    """The error lines of the streamed run, or its data digest."""
    path = tmp_path / ("u." + kind)
    path.write_text(text, encoding="utf-8")
    try:
        return evaluate_stream(policy, path, io.StringIO(), display="u." + kind).data_sha256
    except PolicyError as exc:
        return exc.lines()


GOOD = ("cluster,id,name,done,rate,ok,rating,note,extra\n"
        "k1,a,Ấp \"A\",007,1.50,yes,tot,\"x, y\",\n"
        "k1,b,, +3 ,.5,KHÔNG,kha,,-0\n"
        "k2,c,C,-0,0.000,x,tot,ghi chú,12\n")
GOOD_UNITS = ('e5c0ca2e54138fc552e81bc08943a91b260fe7df01d0f698b31d473326472553',
     [('a',
       'Ấp "A"',
       [('done', 'Decimal', '7'),
        ('extra', 'Decimal', '5'),
        ('note', 'str', 'x, y'),
        ('ok', 'bool', 'True'),
        ('rate', 'Decimal', '1.50'),
        ('rating', 'str', 'tot')]),
      ('b',
       'b',
       [('done', 'Decimal', '3'),
        ('extra', 'Decimal', '0'),
        ('ok', 'bool', 'False'),
        ('rate', 'Decimal', '0.5'),
        ('rating', 'str', 'kha')]),
      ('c',
       'C',
       [('done', 'Decimal', '0'),
        ('extra', 'Decimal', '12'),
        ('note', 'str', 'ghi chú'),
        ('ok', 'bool', 'True'),
        ('rate', 'Decimal', '0.000'),
        ('rating', 'str', 'tot')])])


def test_good_cells_give_these_values(policy, tmp_path):
    """Leading zeros, spaces, signs, '-0', decimals as written, boolean words in any case, an
    empty optional cell (no value), an empty cell with a default (the default), names with
    quotes or none (the id): these values, in key order, and this digest, twice, and streamed."""
    for _ in range(2):
        assert loaded(GOOD, policy) == GOOD_UNITS
    assert streamed(GOOD, policy, tmp_path) == GOOD_UNITS[0]


BAD = ("cluster,id,name,done,rate,ok,rating,note,extra,bogus\n"
       "k1,a,A,1e3,-1,maybe,tot ,n,1.5,\n"
       "k1,Bad Id,B,101,x,,,,,1\n"
       "k1,c,C,95,1,true,kha\n"
       "k1,c,C2,٣,1,true,kha,,,\n"
       ",d,D,1,1,true,kha,,,\n"
       "k2,e,E,,,,,,,\n")
BAD_LINES = ["u.csv:1: unknown column 'bogus'",
     "u.csv:6: missing 'cluster' (the id of the unit's cluster)",
     'u.csv:2: units(id=a).done: expected a whole number, got a string "1e3"',
     'u.csv:2: units(id=a).rate: expected a number >= 0, got -1',
     'u.csv:2: units(id=a).ok: expected true or false, got a string "maybe"',
     "u.csv:2: units(id=a).rating: 'tot ' is not allowed (did you mean 'tot'?); expected one of tot, kha",
     'u.csv:2: units(id=a).extra: expected a whole number, got a string "1.5"',
     'u.csv:3: units(id=Bad Id): unit id "Bad Id" must be lower-case letters, digits, \'-\', \'_\' and \'.\'',
     'u.csv:3: units(id=Bad Id).done: expected a number <= 100, got 101',
     'u.csv:3: units(id=Bad Id).rate: expected a number, got a string "x"',
     "u.csv:3: units(id=Bad Id): missing field 'ok'",
     "u.csv:3: units(id=Bad Id): missing field 'rating'",
     "u.csv:4: units(id=c): check 'done_small' failed: done above 90 (done = 95)",
     "u.csv:5: units(id=c).id: duplicate unit id 'c'",
     "u.csv:7: units(id=e): missing field 'done' (Đã làm)",
     "u.csv:7: units(id=e): missing field 'rate'",
     "u.csv:7: units(id=e): missing field 'ok'",
     "u.csv:7: units(id=e): missing field 'rating'"]


def test_bad_cells_give_these_lines(policy, tmp_path):
    """Every problem of the file at once, each on one line with its line, unit and key: an unknown
    column (once, on the header), a row without a cluster, an exponent, a bound, a word that is
    no boolean, an enum value with a space, a bad id, an empty required cell, a failed check,
    a repeated id, a digit of another script, a row of empty cells; twice, and streamed."""
    for _ in range(2):
        assert loaded(BAD, policy) == BAD_LINES
    assert streamed(BAD, policy, tmp_path) == BAD_LINES


SEMI = "cluster;id;done;rate;ok;rating\nk1;a;1.234;98,5;có;tot\nk1;b;2;1.5;no;kha\nk1;c;3;1.234,5;0;tot\n"
SEMI_LINES = ["u.csv:2: units(id=a).done: '1.234' is ambiguous in a file separated by ';' (the decimal mark is a comma): write "
     '1234 for a whole number or 1,234 for a decimal',
     "u.csv:3: units(id=b).rate: '1.5' has a decimal point, but in a file separated by ';' the decimal mark is a "
     'comma: write 1,5']


def test_decimal_comma_cells_give_these_lines(policy, tmp_path):
    """A file separated by ';': an ambiguous grouped number and a decimal point are worded, the
    decimal comma and the grouped decimal read."""
    assert loaded(SEMI, policy) == SEMI_LINES
    assert streamed(SEMI, policy, tmp_path) == SEMI_LINES
    good = SEMI.replace("1.234;98", "0012;98").replace("1.5;no", "1,5;no")
    assert loaded(good, policy)[1] == [
        ("a", "a", [("done", "Decimal", "12"), ("extra", "Decimal", "5"), ("ok", "bool", "True"),
                    ("rate", "Decimal", "98.5"), ("rating", "str", "tot")]),
        ("b", "b", [("done", "Decimal", "2"), ("extra", "Decimal", "5"), ("ok", "bool", "False"),
                    ("rate", "Decimal", "1.5"), ("rating", "str", "kha")]),
        ("c", "c", [("done", "Decimal", "3"), ("extra", "Decimal", "5"), ("ok", "bool", "False"),
                    ("rate", "Decimal", "1234.5"), ("rating", "str", "tot")])]


JSONL = ('{"cluster": "k1", "id": "a", "done": 7, "rate": 1.5, "ok": true, "rating": "tot"}\n'
         '{"cluster": "k1", "id": "b", "done": "7", "rate": true, "ok": "yes", "rating": 1, "note": 3, "extra": 2.0}\n'
         '{"cluster": "k1", "id": "c", "done": 7.5, "rate": [1], "ok": 1, "rating": "Tot", "bogus": 1}\n'
         '{"cluster": "k1", "id": 5, "name": 7, "done": 1000000000000000000000}\n')
JSONL_LINES = ['u.jsonl:2: units(id=b).done: expected a whole number, got a string "7"',
     'u.jsonl:2: units(id=b).rate: expected a number, got a boolean true',
     'u.jsonl:2: units(id=b).ok: expected true or false, got a string "yes"',
     'u.jsonl:2: units(id=b).rating: expected one of tot, kha, got an integer 1',
     'u.jsonl:2: units(id=b).note: expected a string, got an integer 3',
     'u.jsonl:2: units(id=b).extra: expected a whole number, got 2.0 (write 2)',
     'u.jsonl:3: units(id=c).done: expected a whole number, got a number 7.5',
     'u.jsonl:3: units(id=c).rate: expected a number, got an array',
     'u.jsonl:3: units(id=c).ok: expected true or false, got an integer 1',
     "u.jsonl:3: units(id=c).rating: 'Tot' is not allowed (did you mean 'tot'?); expected one of tot, kha",
     "u.jsonl:3: units(id=c).bogus: unknown field 'bogus'",
     "u.jsonl:4: units(id=5): unit id 5 must be lower-case letters, digits, '-', '_' and '.'",
     'u.jsonl:4: units(id=5).name: expected a string, got an integer 7',
     'u.jsonl:4: units(id=5).done: number too large: at most 15 digits before the point (got 1000000000000000000000)',
     "u.jsonl:4: units(id=5): missing field 'rate'",
     "u.jsonl:4: units(id=5): missing field 'ok'",
     "u.jsonl:4: units(id=5): missing field 'rating'"]


def test_json_lines_values_give_these_lines(policy, tmp_path):
    """JSON values of the wrong type (texts are not read as numbers or words there), a whole
    number written as a decimal, an unknown key, an id and a name of other types, a number out
    of bounds; and the keys missing, in the policy's order."""
    for _ in range(2):
        assert loaded(JSONL, policy, "jsonl") == JSONL_LINES
    assert streamed(JSONL, policy, tmp_path, "jsonl") == JSONL_LINES


CONVERTED = {'done': [('7', 'Decimal', '7', ''),
              (' 7 ', 'Decimal', '7', ''),
              ('007', 'Decimal', '7', ''),
              ('-0', 'Decimal', '0', ''),
              ('+3', 'Decimal', '3', ''),
              ('0', 'Decimal', '0', ''),
              ('1.5', 'Decimal', '0', 'expected a whole number, got a string "1.5"'),
              ('x', 'Decimal', '0', 'expected a whole number, got a string "x"'),
              ('1e3', 'Decimal', '0', 'expected a whole number, got a string "1e3"'),
              ('٣', 'Decimal', '3', ''),
              ('1_0', 'Decimal', '0', 'expected a whole number, got a string "1_0"'),
              (7, 'Decimal', '7', ''),
              (0, 'Decimal', '0', ''),
              (-1, 'Decimal', '-1', 'expected a number >= 0, got -1'),
              (True, 'Decimal', '0', 'expected a whole number, got a boolean true'),
              (Decimal('2.50'), 'Decimal', '0', 'expected a whole number, got a number 2.50'),
              (Decimal('-0'), 'Decimal', '0', 'expected a whole number, got -0 (write 0)'),
              ('tot', 'Decimal', '0', 'expected a whole number, got a string "tot"'),
              (None, 'Decimal', '0', 'expected a whole number, got NoneType None')],
     'extra': [('7', 'Decimal', '7', ''),
               (' 7 ', 'Decimal', '7', ''),
               ('007', 'Decimal', '7', ''),
               ('-0', 'Decimal', '0', ''),
               ('+3', 'Decimal', '3', ''),
               ('0', 'Decimal', '0', ''),
               ('1.5', 'Decimal', '0', 'expected a whole number, got a string "1.5"'),
               ('x', 'Decimal', '0', 'expected a whole number, got a string "x"'),
               ('1e3', 'Decimal', '0', 'expected a whole number, got a string "1e3"'),
               ('٣', 'Decimal', '3', ''),
               ('1_0', 'Decimal', '0', 'expected a whole number, got a string "1_0"'),
               (7, 'Decimal', '7', ''),
               (0, 'Decimal', '0', ''),
               (-1, 'Decimal', '-1', ''),
               (True, 'Decimal', '0', 'expected a whole number, got a boolean true'),
               (Decimal('2.50'), 'Decimal', '0', 'expected a whole number, got a number 2.50'),
               (Decimal('-0'), 'Decimal', '0', 'expected a whole number, got -0 (write 0)'),
               ('tot', 'Decimal', '0', 'expected a whole number, got a string "tot"'),
               (None, 'Decimal', '0', 'expected a whole number, got NoneType None')],
     'note': [('7', 'str', '7', ''),
              (' 7 ', 'str', ' 7 ', ''),
              ('007', 'str', '007', ''),
              ('-0', 'str', '-0', ''),
              ('+3', 'str', '+3', ''),
              ('0', 'str', '0', ''),
              ('1.5', 'str', '1.5', ''),
              ('x', 'str', 'x', ''),
              ('1e3', 'str', '1e3', ''),
              ('٣', 'str', '٣', ''),
              ('1_0', 'str', '1_0', ''),
              (7, 'str', '', 'expected a string, got an integer 7'),
              (0, 'str', '', 'expected a string, got an integer 0'),
              (-1, 'str', '', 'expected a string, got an integer -1'),
              (True, 'str', '', 'expected a string, got a boolean true'),
              (Decimal('2.50'), 'str', '', 'expected a string, got a number 2.50'),
              (Decimal('-0'), 'str', '', 'expected a string, got a number -0'),
              ('tot', 'str', 'tot', ''),
              (None, 'str', '', 'expected a string, got NoneType None')],
     'ok': [('7', 'bool', 'False', 'expected true or false, got a string "7"'),
            (' 7 ', 'bool', 'False', 'expected true or false, got a string " 7 "'),
            ('007', 'bool', 'False', 'expected true or false, got a string "007"'),
            ('-0', 'bool', 'False', 'expected true or false, got a string "-0"'),
            ('+3', 'bool', 'False', 'expected true or false, got a string "+3"'),
            ('0', 'bool', 'False', ''),
            ('1.5', 'bool', 'False', 'expected true or false, got a string "1.5"'),
            ('x', 'bool', 'True', ''),
            ('1e3', 'bool', 'False', 'expected true or false, got a string "1e3"'),
            ('٣', 'bool', 'False', 'expected true or false, got a string "٣"'),
            ('1_0', 'bool', 'False', 'expected true or false, got a string "1_0"'),
            (7, 'bool', 'False', 'expected true or false, got an integer 7'),
            (0, 'bool', 'False', 'expected true or false, got an integer 0'),
            (-1, 'bool', 'False', 'expected true or false, got an integer -1'),
            (True, 'bool', 'True', ''),
            (Decimal('2.50'), 'bool', 'False', 'expected true or false, got a number 2.50'),
            (Decimal('-0'), 'bool', 'False', 'expected true or false, got a number -0'),
            ('tot', 'bool', 'False', 'expected true or false, got a string "tot"'),
            (None, 'bool', 'False', 'expected true or false, got NoneType None')],
     'rate': [('7', 'Decimal', '7', ''),
              (' 7 ', 'Decimal', '7', ''),
              ('007', 'Decimal', '7', ''),
              ('-0', 'Decimal', '-0', ''),
              ('+3', 'Decimal', '3', ''),
              ('0', 'Decimal', '0', ''),
              ('1.5', 'Decimal', '1.5', ''),
              ('x', 'Decimal', '0', 'expected a number, got a string "x"'),
              ('1e3', 'Decimal', '0', 'expected a number, got a string "1e3"'),
              ('٣', 'Decimal', '3', ''),
              ('1_0', 'Decimal', '0', 'expected a number, got a string "1_0"'),
              (7, 'Decimal', '7', ''),
              (0, 'Decimal', '0', ''),
              (-1, 'Decimal', '-1', 'expected a number >= 0, got -1'),
              (True, 'Decimal', '0', 'expected a number, got a boolean true'),
              (Decimal('2.50'), 'Decimal', '2.50', ''),
              (Decimal('-0'), 'Decimal', '-0', ''),
              ('tot', 'Decimal', '0', 'expected a number, got a string "tot"'),
              (None, 'Decimal', '0', 'expected a number, got NoneType None')],
     'rating': [('7', 'str', '', "'7' is not allowed; expected one of tot, kha"),
                (' 7 ', 'str', '', "' 7 ' is not allowed; expected one of tot, kha"),
                ('007', 'str', '', "'007' is not allowed; expected one of tot, kha"),
                ('-0', 'str', '', "'-0' is not allowed; expected one of tot, kha"),
                ('+3', 'str', '', "'+3' is not allowed; expected one of tot, kha"),
                ('0', 'str', '', "'0' is not allowed; expected one of tot, kha"),
                ('1.5', 'str', '', "'1.5' is not allowed; expected one of tot, kha"),
                ('x', 'str', '', "'x' is not allowed; expected one of tot, kha"),
                ('1e3', 'str', '', "'1e3' is not allowed; expected one of tot, kha"),
                ('٣', 'str', '', "'٣' is not allowed; expected one of tot, kha"),
                ('1_0', 'str', '', "'1_0' is not allowed; expected one of tot, kha"),
                (7, 'str', '', 'expected one of tot, kha, got an integer 7'),
                (0, 'str', '', 'expected one of tot, kha, got an integer 0'),
                (-1, 'str', '', 'expected one of tot, kha, got an integer -1'),
                (True, 'str', '', 'expected one of tot, kha, got a boolean true'),
                (Decimal('2.50'), 'str', '', 'expected one of tot, kha, got a number 2.50'),
                (Decimal('-0'), 'str', '', 'expected one of tot, kha, got a number -0'),
                ('tot', 'str', 'tot', ''),
                (None, 'str', '', 'expected one of tot, kha, got NoneType None')]}


@pytest.mark.parametrize("text_values", [True], ids=["cells"])
def test_converters_on_edge_values(policy, text_values):
    """Each input's converter gives this value (type and digits) and message for each edge
    value, the first time and again from its memory of good cells."""
    checker = data_module.DataChecker(policy, data_module.Issues("<t>"), text_values=text_values)
    fields = {f.id: f for f in policy.inputs}
    for _ in range(2):
        got = {field: [(raw, *(lambda v, p: (type(v).__name__, str(v), p))(*checker.convert(fields[field], raw)))
                       for raw, *_ in rows] for field, rows in CONVERTED.items()}
        assert got == CONVERTED


def test_remembered_cells_are_bounded(policy, monkeypatch):
    """A converter remembers at most ``KNOWN_MAX`` good cell texts; past that a new text is
    converted all the same."""
    monkeypatch.setattr(convert, "KNOWN_MAX", 3)
    field = next(f for f in policy.inputs if f.id == "done")
    made = convert.field_converter(field, True)
    assert [made.convert(str(n)) for n in range(6)] == [(Decimal(n), "") for n in range(6)]
    assert made.known == {"0": Decimal(0), "1": Decimal(1), "2": Decimal(2)}
    assert made.convert("") == (Decimal(0), 'expected a whole number, got a string ""') and "" not in made.known


@pytest.mark.parametrize("name", ["example", "large"])
def test_stream_digest_is_the_loaded_digest(tmp_path, name):
    """On the benchmarks' generated data, the streamed run's data digest is the loaded data's."""
    policy = load_policy(ROOT / "policies" / "cum8-2022.toml") if name == "example" else \
        parse_policy(large_policy.make_policy().encode("utf-8"), file="large.toml")
    data = generate.make_csv(1500, seed=9) if name == "example" else large_policy.make_csv(1500, seed=9)
    dataset = parse_data(data, policy, file="units.csv", format="csv")
    assert len([u for c in dataset.clusters for u in c.units]) == 1500
    path = tmp_path / "units.csv"
    path.write_bytes(data)
    assert evaluate_stream(policy, path, io.StringIO(), display="units.csv").data_sha256 == dataset.sha256


def test_row_reader_source_holds_no_input_id(policy):
    """Only the number of inputs reaches a row reader's generated source: no id, no text."""
    loaded(GOOD, policy)
    readers = list(data_module._load_plan(policy, True).readers.values())
    assert readers
    for reader in readers:
        consts = {c for c in reader.read.__code__.co_consts if isinstance(c, str)}
        assert not consts & {"done", "rate", "ok", "rating", "note", "extra"}, reader.read.source


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



def test_loads_in_threads_keep_their_problems_apart(policy):
    """A policy's row readers (generated once) are shared by every load with it, in any thread;
    the problems each load notes are its own: eight threads loading eight files at once, each
    with its own bad cell, fifteen times, each get exactly their file's line."""
    import threading

    def bad_file(k: int) -> bytes:
        rows = [f"k1,u{i},{i % 50},1.5,true,tot,,1" for i in range(200)]
        rows[100 + k] = f"k1,u{100 + k},{1000 + k},1.5,true,tot,,1"  # above done's max of 100
        return ("cluster,id,done,rate,ok,rating,note,extra\n" + "\n".join(rows) + "\n").encode()

    files = [bad_file(k) for k in range(8)]
    got: list[tuple[int, list[str]]] = []
    start = threading.Barrier(8)

    def load(k: int) -> None:
        start.wait()
        for _ in range(15):
            try:
                parse_data(files[k], policy, file=f"f{k}.csv", format="csv")
                got.append((k, []))
            except PolicyError as exc:
                got.append((k, exc.lines()))

    threads = [threading.Thread(target=load, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(got) == sorted(
        (k, [f"f{k}.csv:{102 + k}: units(id=u{100 + k}).done: expected a number <= 100, got {1000 + k}"])
        for k in range(8) for _ in range(15))
