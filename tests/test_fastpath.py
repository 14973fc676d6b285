"""Properties of the engine's pieces, on a few thousand generated units with shared ranks: the
JSON encoder gives ``json.dumps``'s bytes, ranking is one sort by chain, name and id, the
remembered number texts are the formatters', the records' constructors are attrs', unit records
do not depend on what was remembered, shared outcomes give the reference engine's bytes, and
CSV rows are ``csv.DictReader``'s."""

from __future__ import annotations

import csv
import io
import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from thidua_rules import build_document, evaluate, parse_data, render
from thidua_rules.collation import vi_sort_key
from thidua_rules.ranking import key_value, rank_cluster
from thidua_rules.report.contenthash import sealed
from thidua_rules.report.jsontext import compact, indented

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from generate import FIELDS, make_rows

UNITS = 2000
TIED_NAMES = ["Đơn vị Ấp", "Đơn vị Anh", "Đơn vị Ân", "đơn vị ấp"]


def tied_csv(units: int) -> bytes:
    """Generated units where, in every other cluster, four units copy the first one's figures
    under names that only Vietnamese collation orders: shared ranks to break by name."""
    rows = make_rows(units, seed=7)
    first: dict[str, dict[str, object]] = {}
    for row in rows:
        cluster = str(row["cluster"])
        lead = first.setdefault(cluster, row)
        k = int(str(row["id"]).rsplit("-", 1)[1])
        if lead is not row and k <= len(TIED_NAMES) and int(cluster[3:]) % 2:
            row.update({f: v for f, v in lead.items() if f not in ("id", "name")})
            row["name"] = TIED_NAMES[k - 1]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


@pytest.fixture(scope="module")
def result(example_policy):
    data = parse_data(tied_csv(UNITS), example_policy, file="gen.csv", format="csv")
    return evaluate(example_policy, data)


def test_indented_json_is_json_dumps(result):
    """The JSON writer gives exactly json.dumps(sort_keys, indent=2, ensure_ascii=False)."""
    doc = build_document(result)
    assert indented(doc) == json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=2)
    # the JSON result adds its content hash to the provenance (report.contenthash)
    assert render(result, "json") == json.dumps(sealed(doc), ensure_ascii=False, sort_keys=True, indent=2) + "\n"


@pytest.mark.parametrize("value", [
    {}, [], {"a": []}, {"b": {}, "a": [{}, [], None, True, False, 0, -12, "x\"\\\n\u2028đ"]},
    [[[[1]]]], "text", 7, None, {"z": {"y": {"x": ["ư", {"k": "v"}]}}},
], ids=repr)
def test_indented_json_edge_cases(value):
    """Empty containers, nesting, escapes and scalars match the standard library."""
    assert indented(value) == json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2)
    assert compact(value) == json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def test_indented_json_falls_back_on_other_values():
    """A value the fast writer does not know (a float) goes through json.dumps unchanged."""
    value = {"a": [1.5, {"b": 2}]}
    assert indented(value) == json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2)


def test_ranking_order_is_one_sort_by_chain_name_id(example_policy, result):
    """Sorting by the chain and collating only the tied runs gives the single-sort order."""
    keys = example_policy.ranking
    tied_clusters = 0
    for cluster in result.clusters:
        scores = [u.score for u in cluster.units]
        # Reverse the input order: the result must not depend on it.
        placed = rank_cluster(list(reversed(scores)), keys)

        def chain(s):
            return tuple(-key_value(s, k.key) if k.descending else key_value(s, k.key) for k in keys)

        expected = sorted(scores, key=lambda s: (chain(s), vi_sort_key(s.unit.name), s.unit.id))
        assert [p.score.unit.id for p in placed] == [s.unit.id for s in expected]
        tied_clusters += any(p.tied for p in placed)
    assert tied_clusters > 0, "the generated data should contain shared ranks"


def test_document_numbers_match_decimals_fmt(example_policy, result):
    """Per-policy formatting gives decimals.fmt's text for every total."""
    from thidua_rules.decimals import fmt

    doc = build_document(result)
    totals = {u.id: u.total for c in result.clusters for u in c.units}
    for unit in doc["units"]:
        assert unit["total"] == fmt(totals[unit["id"]], example_policy.precision)
    assert fmt(Decimal("-0.005"), 2) == "-0.01"


# ---------------------------------------------------------------- second round: per-policy plans

def test_remembered_number_texts_match_the_formatters(example_policy, result):
    """The per-number text memories of the document give ``decimals.fmt`` and ``plain`` exactly,
    also for zeros of either sign and equal numbers written with other exponents."""
    from thidua_rules.decimals import fmt, plain
    from thidua_rules.report import document

    plan = document._plan(example_policy)
    numbers = [Decimal("0"), Decimal("-0"), Decimal("0.000"), Decimal("-0.001"),  # string spellings on purpose
               Decimal("-0.005"),
               Decimal("1.5"), Decimal("1.50"), Decimal("15E-1"), Decimal("1E+2"), Decimal("100"),
               Decimal("2.675"), Decimal("-2.675")]
    for cluster in result.clusters:
        for unit in cluster.units:
            score = unit.score
            numbers += [c.raw for c in score.criteria] + [c.score for c in score.criteria]
            numbers += [score.total, score.total_raw, score.bonus_sum, score.deduction_sum]
    for _ in range(2):
        for number in numbers:
            assert plan.fmt(number) == fmt(number, example_policy.precision), number
            assert document._plain_cached(number) == plain(number), number


def test_fast_constructors_equal_attrs_init(result):
    """``fast_init`` builds instances equal, field by field, to the attrs ``__init__``'s, still frozen."""
    import attrs

    from thidua_rules.awards import CheckOutcome, TitleOutcome
    from thidua_rules.engine import UnitResult
    from thidua_rules.ranking import Placed, Separation
    from thidua_rules.records import fast_init
    from thidua_rules.scoring import AdjustmentScore, CriterionScore, GroupScore, UnitScore

    unit = result.clusters[0].units[1]
    samples = [unit, unit.placed, unit.placed.above, unit.score, unit.score.criteria[0], unit.score.groups[0],
               unit.score.bonuses[0], unit.titles[0], unit.titles[0].checks[0]]
    classes = {type(s) for s in samples}
    assert classes == {UnitResult, Placed, Separation, UnitScore, CriterionScore, GroupScore,
                       AdjustmentScore, TitleOutcome, CheckOutcome}
    for sample in samples:
        cls = type(sample)
        names = [f.name for f in attrs.fields(cls)]
        values = [getattr(sample, n) for n in names]
        made = fast_init(cls)(*values)
        assert type(made) is cls
        assert made == cls(**{f.alias: v for f, v in zip(attrs.fields(cls), values, strict=True)}) == sample
        assert repr(made) == repr(sample)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            setattr(made, names[0], values[0])
        # made as the class's layout twin (no weakref slot), not through the slot descriptors
        assert "__class__" in fast_init(cls).__code__.co_names


def test_fast_constructor_of_a_class_with_a_weakref_slot():
    """A class keeping its weakref slot (whose layout no twin can share) is built through its
    slot descriptors, with the same result."""
    import weakref

    import attrs

    from thidua_rules.records import fast_init

    @attrs.frozen(kw_only=True)
    class Kept:
        a: int
        b: str

    made = fast_init(Kept)(1, "x")
    assert "__class__" not in fast_init(Kept).__code__.co_names
    assert type(made) is Kept and made == Kept(a=1, b="x")
    assert weakref.ref(made)() is made
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        made.a = 2


# ---------------------------------------------------------------- third round: unit records

def _records(policy, res, order=1):
    """Each unit's ``unit`` record by unit id, written in ``order`` (-1: last unit first)."""
    from thidua_rules.report.document import _unit

    units = [(u, c.member_counts.get(u.id)) for c in res.clusters for u in c.units][::order]
    return {u.id: compact({"record": "unit", **_unit(policy, u, counts)}) for u, counts in units}


def _definition(policy, res):
    """The records as the format defines them: ``json.dumps`` of the unit entry (sorted keys,
    compact, UTF-8), not through orjson nor any remembered text."""
    from thidua_rules.report.document import _unit

    return {u.id: json.dumps({"record": "unit", **_unit(policy, u, c.member_counts.get(u.id))},
                             ensure_ascii=False, sort_keys=True, separators=(",", ":"))
            for c in res.clusters for u in c.units}


def _check_records(make_policy, make_result):
    """The records written first to last with the policy's memories, last to first by a policy
    of their own (which entries are made and which remembered differs), and as the format
    defines them: the same bytes."""
    policy = make_policy()
    res = make_result(policy)
    forward = _records(policy, res)
    again = make_policy()  # a new policy: its document memories start empty
    assert _records(again, make_result(again), order=-1) == forward
    assert _definition(policy, res) == forward
    return forward


def test_unit_records_do_not_depend_on_what_is_remembered():
    """2,000 generated units with shared ranks and the large generated policy (every method,
    gates, bonuses, deductions, quotas, ladders): every record the same bytes whatever was
    remembered before it, and the bytes of ``json.dumps``."""
    import large_policy

    from thidua_rules import load_policy, parse_policy

    from .conftest import EXAMPLE_POLICY

    records = _check_records(lambda: load_policy(EXAMPLE_POLICY),
                             lambda p: evaluate(p, parse_data(tied_csv(UNITS), p, file="u.csv", format="csv")))
    assert len(records) == UNITS
    large_bytes = large_policy.make_policy().encode("utf-8")
    records = _check_records(lambda: parse_policy(large_bytes, file="large.toml"),
                             lambda p: evaluate(p, parse_data(large_policy.make_csv(1000), p, file="l.csv",
                                                              format="csv")))
    assert len(records) == 1000


@pytest.mark.parametrize(("policy_name", "data_name"), [
    ("cand-cum5-2023", "cand-cum5-2023/units.toml"),         # plugins: derived inputs, band caps, checks
    ("research-khcn-2023", "research-khcn-2023/units.toml"),  # a plugin's criterion method
    ("cantho-dan-van", "cantho-2025/units.toml"),             # skipped bands, quotas
    ("cum8-2022", "cum8-2022/units.toml"),
])
def test_unit_records_with_plugins_and_shipped_examples(policy_name, data_name):
    from thidua_rules import load_data, load_policy

    root = Path(__file__).resolve().parent.parent
    path = root / "policies" / f"{policy_name}.toml"
    _check_records(lambda: load_policy(path), lambda p: evaluate(p, load_data(root / "examples" / data_name, p)))


@pytest.mark.parametrize("value", [
    Decimal(0), Decimal("-0"), Decimal("0.000"), Decimal("1.50"), Decimal("15E-1"), Decimal("-2.5E+3"),
    "", "đơn vị \"x\"\\\n\u2028", True, False, None, 0, -7, 10**30, [], (), {}, [Decimal("-0"), ("a", 1)],
    {"b": Decimal("2.0"), "a": {"y": [True, None], "x": "ư"}}, {"z": "1", "ä": 2, "A": 3},
    frozenset({"b", "a"}), {1: "int key"}, {"a": 1, 2: "mixed keys"}, {"k": {3, 1, 2}},
], ids=repr)
def test_shared_parts_encode_as_json_dumps(value):
    """A shared part of a document (:class:`~thidua_rules.report.shared.Shared`) holding any
    value the document holds is written, the first time and from its remembered text, with the
    bytes of ``json.dumps``; and it cannot be changed in place."""
    import copy
    import pickle

    from thidua_rules.report.document import value as doc_value
    from thidua_rules.report.shared import Shared

    part = Shared({"v": doc_value(value), "w": [1, "x"]})
    doc = {"a": [part, {"b": part}], "c": part}
    expected = json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    for _ in range(2):  # written, then from its text
        assert compact(doc) == expected
    assert part == {"v": doc_value(value), "w": [1, "x"]}
    with pytest.raises(TypeError):
        part["v"] = 1
    with pytest.raises(TypeError):
        part.update(v=1)
    for made in (copy.copy(part), copy.deepcopy(part), pickle.loads(pickle.dumps(part))):
        assert type(made) is Shared and made == part


# ---------------------------------------------------------------- fourth round: awards and loading

STRONG = {"targets_assigned": Decimal(10), "targets_done": Decimal(10), "ad_hoc_assigned": Decimal(4),
          "ad_hoc_done": Decimal(4), "advisory_adopted": Decimal(12), "joint_activities": Decimal(4),
          "party_rating": "xuat_sac", "members": Decimal(100), "members_completed": Decimal(100),
          "members_advanced": Decimal(90), "emulation_fighters": Decimal(10),
          "ad_hoc_commendations": Decimal(3), "members_disciplined": Decimal(0), "inspection_findings": Decimal(0)}


def _with_council_data(dataset, seed=11):
    """Generated clusters given what awards decide on besides the scores: round-1 ballots for
    the flags (most units above the 80 % share, some below), round-2 ballots, earlier years,
    running and finished discipline periods and deferrals, so that quotas are cut between tied
    units, runoffs decide or not, and ``requires`` fails on won and on pending titles."""
    import random

    import attrs

    from thidua_rules.model import Ballot, Deferral, DisciplineRecord, HistoryRecord, frozen_mapping

    rng = random.Random(seed)
    clusters = []
    for n, cluster in enumerate(dataset.clusters):
        ids = [u.id for u in cluster.units]
        # Units with even numbers get the same strong figures: tied at the top, many win the
        # lower titles and reach the flags, whose quotas cut between them.
        units = tuple(attrs.evolve(u, values=frozen_mapping({**u.values, **STRONG})) if i % 2 == 0 else u
                      for i, u in enumerate(cluster.units))
        ballots = []
        for title in ("co_thi_dua_bca", "co_thi_dua_chinh_phu"):
            if n % 5 == 4:
                continue  # no ballot: the votes check fails
            yes = {u: rng.choice([10, 10, 9, 8, 8, 7]) for u in ids}
            ballots.append(Ballot(title=title, voters=10, yes=frozen_mapping(yes)))
            if n % 3 == 0:
                ballots.append(Ballot(title=title, voters=10, round=2,
                                      yes=frozen_mapping({u: rng.choice([5, 6, 6]) for u in ids})))
        history = tuple(HistoryRecord(unit=u, year=2021, band=rng.choice(["xuat_sac", "tot"]),
                                      titles=("don_vi_tien_tien",) if rng.random() < 0.5 else ())
                        for u in ids if rng.random() < 0.6)
        discipline = tuple(DisciplineRecord(unit=ids[-1], level="khien_trach", start=2021 + (n % 2),
                                            until=2022 - (n % 4 == 1)) for _ in range(n % 7 == 2))
        deferrals = tuple(Deferral(unit=ids[1], reason="complaint being verified",
                                   titles=("co_thi_dua_bca",) if n % 2 else ()) for _ in range(n % 6 == 3))
        clusters.append(attrs.evolve(cluster, units=units, ballots=tuple(sorted(ballots, key=lambda b: (b.title, b.round))),
                                     history=tuple(sorted(history, key=lambda h: (h.unit, h.year))),
                                     discipline=discipline, deferrals=deferrals))
    return attrs.evolve(dataset, clusters=tuple(clusters))


def test_shared_award_outcomes_give_the_reference_bytes_with_ballots_history_and_holds(example_policy):
    """Shared outcomes of a failed built-in ``requires`` (and the built-in checks run without
    the plugin wrapper) give the reference engine's bytes on 2,000 generated units with shared
    ranks, ballots in one and two rounds, history, discipline and deferrals."""
    from collections import Counter

    data = _with_council_data(parse_data(tied_csv(UNITS), example_policy, file="gen.csv", format="csv"))
    fast = evaluate(example_policy, data)
    slow = evaluate(example_policy, data, engine="reference")
    slow_json, slow_lines = render(slow, "json"), render(slow, "jsonl")
    assert render(fast, "json") == slow_json
    assert render(fast, "jsonl") == slow_lines
    # the data reaches every status, council ties included
    statuses = Counter(t.status for c in fast.clusters for u in c.units for t in u.titles)
    assert {"proposed", "held", "failed", "over_quota", "undecided", "excluded", "deferred"} <= set(statuses)
    assert any(item.kind == "quota_tie" for c in fast.clusters for item in c.council)
    # the outcomes shared between units are read-only all the way down
    uses = Counter(id(t) for c in fast.clusters for u in c.units for t in u.titles)
    shared = {id(t): t for c in fast.clusters for u in c.units for t in u.titles if uses[id(t)] > 1}
    assert shared, "failed outcomes should be shared"
    assert any([c.check for c in t.checks] == ["requires"] for t in shared.values())
    for outcome in shared.values():
        # a shared outcome is a failure (of ``requires`` or of a condition after it)
        assert outcome.status == "failed" and not outcome.checks[-1].passed
        assert all(c.passed for c in outcome.checks[:-1])
        for check in outcome.checks:
            with pytest.raises(TypeError):
                check.seen["x"] = 1  # type: ignore[index]


@pytest.mark.parametrize("text", [
    "", "\n", "a,b\n", "a,b\n1,2\n", "a,b\r\n1,2\r\n\r\n3,4\r\n", "a,b\n\n\n1\n", "\na,b\n1,2\n",
    "a,b\n1,2,3\n", "a,b\n,\n", "a,a,b\n1,,2\n", "a,a,b\n1\n", "a,b,a\n1,2,3\n", 'a,b\n"x\ny",2\n\n5,6\n',
    'a,b\n1,"bad"x\n', 'a,b\n\n\n1,"bad"x\n', '"h\n1",b\n1,2\n', 'a,"b\n1\n', "a;b\n1;2\n",
], ids=repr)
def test_csv_rows_are_dict_reader_rows(text):
    """``CsvRows`` gives ``csv.DictReader``'s rows without their empty cells, and its line
    numbers, also after blank lines, on short and long rows, repeated column names and errors."""
    from thidua_rules.loader.data import CsvRows

    def rows(reader, cells):
        out = []
        try:
            for row in reader:
                out.append((reader.line_num, None in row, cells(row)))
        except csv.Error as exc:
            out.append(("error", reader.line_num, str(exc)))
        return out

    expected = rows(csv.DictReader(io.StringIO(text, newline=""), strict=True),
                    lambda row: {k: v for k, v in row.items() if v not in (None, "") and k is not None})
    got = rows(CsvRows(csv.reader(io.StringIO(text, newline=""), strict=True)),
               lambda row: {k: v for k, v in row.items() if k is not None})
    assert got == expected
    assert [list(r[2]) for r in got if r[0] != "error"] == [list(r[2]) for r in expected if r[0] != "error"]


def test_csv_rows_match_dict_reader_on_random_text():
    """The same on 20,000 seeded random texts of quotes, commas, blank lines and line ends."""
    import random

    from thidua_rules.loader.data import CsvRows

    def rows(reader):
        out = []
        try:
            for row in reader:
                out.append((reader.line_num, list(row.items())))
        except csv.Error as exc:
            out.append(("error", reader.line_num, str(exc)))
        return out

    rng = random.Random(5)
    pieces = ["a", "b", "", ",", "\n", "\r\n", '"x\ny"', '"q"', '"bad"x', "c", "a", "1", " ", '"', "\r"]
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 25)))
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        expected = [(r[0], [(k, v) for k, v in r[1] if v not in (None, "")]) if r[0] != "error" else r
                    for r in rows(reader)]
        assert rows(CsvRows(csv.reader(io.StringIO(text, newline=""), strict=True))) == expected, repr(text)
