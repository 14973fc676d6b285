"""The fast paths give the bytes the straightforward code gives, on a few thousand generated units."""

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
    assert render(result, "json") == json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=2) + "\n"


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
