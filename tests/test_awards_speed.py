"""The awards and ranking fast paths give exactly the outcomes of the straightforward code.

The fast paths: built-in title checks run without a TitleView, outcomes shared between units in
the same state (``requires`` by titles won and pending, ``when`` by the text and boolean values it
reads, ``votes`` without a ballot, failures made of shared outcomes), and the ranking's per-chain
plan. The straightforward code runs every check through ``_run_check`` on a view, and ranks with
one sort by (chain, name, id). Outcomes are compared field by field, ``seen`` with its key order
and type, on generated clusters with ballots (both rounds), history, discipline periods,
deferrals and ties.
"""

from __future__ import annotations

import json
import random
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from thidua_rules import FunctionSpec, TitleCheckSpec, evaluate, hookimpl, parse_data, parse_policy, render
from thidua_rules.collation import vi_sort_key
from thidua_rules.ranking import Placed, Separation

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from generate import make_rows

ROOT = Path(__file__).resolve().parent.parent
BANDS = ["xuat_sac", "tot", "hoan_thanh", "khong_hoan_thanh"]


def rich_data(rows: list[dict[str, object]], seed: int, titles: list[str], vote_titles: list[str],
              year: int) -> bytes:
    """Nested JSON clusters with ballots (some with a round 2), history, running and finished
    discipline periods, deferrals (of all titles or some) and units copying another's figures."""
    rng = random.Random(seed)
    clusters: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        clusters.setdefault(str(row["cluster"]), []).append({k: v for k, v in row.items() if k != "cluster"})
    out = []
    for cluster_id, units in sorted(clusters.items()):
        if rng.random() < 0.6:
            lead = rng.choice(units)
            for unit in rng.sample(units, min(len(units), rng.randint(1, 4))):
                unit.update({k: v for k, v in lead.items() if k not in ("id", "name")})
        ids = [str(u["id"]) for u in units]
        cluster: dict[str, object] = {"id": cluster_id, "name": cluster_id, "year": year, "units": units}
        votes = []
        for title in vote_titles:
            if rng.random() < 0.7:
                members = rng.randint(5, 15)
                present = rng.choice([None, members, members - 1, rng.randint(0, members)])
                in_room = members if present is None else present
                ballot: dict[str, object] = {"title": title, "members": members, "yes": {
                    u: rng.randint(max(0, in_room - 3), in_room) for u in ids if rng.random() < 0.9}}
                if present is not None:
                    ballot["present"] = present
                    if members > present and rng.random() < 0.5:
                        ballot["written"] = {u: rng.randint(0, members - present) for u in ids if rng.random() < 0.5}
                votes.append(ballot)
                if rng.random() < 0.5:
                    votes.append({"title": title, "members": members, "round": 2,
                                  "yes": {u: rng.randint(0, members) for u in ids if rng.random() < 0.7}})
        history = [{"unit": u, "year": y, "band": rng.choice(BANDS[:3]),
                    "titles": sorted(rng.sample(titles, rng.randint(0, 2)))}
                   for u in ids if rng.random() < 0.5 for y in range(year - rng.randint(1, 4), year)]
        discipline = []
        deferrals = []
        for u in ids:
            r = rng.random()
            if r < 0.05:
                discipline.append({"unit": u, "level": "canh_cao", "from": year - 1, "until": year})
            elif r < 0.12:
                discipline.append({"unit": u, "level": "khien_trach", "from": year - 4, "until": year - 2})
            elif r < 0.15:
                deferrals.append({"unit": u, "reason": "đang xác minh"})
            elif r < 0.18:
                deferrals.append({"unit": u, "reason": "thanh tra", "titles": [rng.choice(titles)]})
        cluster.update(votes=votes, history=history, discipline=discipline, deferrals=deferrals)
        out.append(cluster)
    return json.dumps({"clusters": out}, ensure_ascii=False).encode()


def mini_rows(units: int, seed: int) -> list[dict[str, object]]:
    """Units for tests/scenarios/mini.toml: small clusters, few distinct figures (many ties)."""
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    cluster = 0
    while len(rows) < units:
        cluster += 1
        for k in range(rng.randint(2, 9)):
            assigned, members = rng.randint(8, 10), rng.randint(5, 12)
            rows.append({"cluster": f"m{cluster:04d}", "id": f"m{cluster:04d}-{k}", "name": f"Đơn vị {cluster}-{k}",
                         "done": rng.randint(assigned - 2, assigned), "assigned": assigned,
                         "has_plan": rng.random() < 0.8,
                         "rating": rng.choice(["xuat_sac", "xuat_sac", "tot", "hoan_thanh"]),
                         "awards": rng.randint(0, 2), "faults": rng.randint(0, 1), "members": members,
                         "advanced": rng.randint(0, members)})
    return rows


def reference_rank(scores, keys):
    """The ranking as the rules state it: one sort by (chain, name collation, id)."""
    def value(score, key):
        return score.env[key.key.removeprefix("input.")]

    def chain(score):
        return tuple(-value(score, k) if k.descending else value(score, k) for k in keys)

    ordered = sorted(scores, key=lambda s: (chain(s), vi_sort_key(s.unit.name), s.unit.id))
    ranks: list[int] = []
    for i, score in enumerate(ordered):
        ranks.append(ranks[-1] if i and chain(score) == chain(ordered[i - 1]) else i + 1)

    def separation(i, j):
        for key in keys:
            a, b = value(ordered[i], key), value(ordered[j], key)
            if a != b:
                return Separation(unit=ordered[j].unit.id, key=key.key, this=a, other=b)
        return Separation(unit=ordered[j].unit.id, key=None, this=None, other=None)

    last = len(ordered) - 1
    return tuple(
        Placed(score=score, rank=ranks[i], tied=ranks.count(ranks[i]) > 1,
               above=separation(i, i - 1) if i else None, below=separation(i, i + 1) if i < last else None)
        for i, score in enumerate(ordered))


def straightforward(monkeypatch):
    """Every title check through ``_run_check`` on a view, nothing shared; the reference ranking."""
    from thidua_rules import awards, engine

    from .straightforward import fresh_plans

    monkeypatch.setattr(awards, "_BUILTIN", frozenset())
    fresh_plans(monkeypatch)  # plans built under the patch, then forgotten
    monkeypatch.setattr(engine, "rank_cluster", reference_rank)


def outcomes(result):
    """Everything awards and ranking decide, with each ``seen`` as its type and items in order."""
    out = []
    for cluster in result.clusters:
        out.append(("council", cluster.id, cluster.council))
        for unit in cluster.units:
            p = unit.placed
            out.append((unit.id, unit.proposed, p.rank, p.tied, p.above, p.below, p.score.unit.id))
            for title in unit.titles:
                out.append((title.title, title.status, title.quota_limit, title.quota_raw, title.place,
                            title.runoff_yes))
                out.extend((c.check, c.plugin, c.passed, c.reason, type(c.seen), list(c.seen.items()))
                           for c in title.checks)
    return out


def compare(policy, data: bytes, monkeypatch) -> list:
    dataset = parse_data(data, policy, file="gen.json", format="json")
    fast = evaluate(policy, dataset)
    with monkeypatch.context() as m:
        straightforward(m)
        slow = evaluate(policy, parse_data(data, policy, file="gen.json", format="json"))
        slow_json = render(slow, "json")
    assert outcomes(fast) == outcomes(slow)
    assert render(fast, "json") == slow_json
    return [c for cluster in fast.clusters for u in cluster.units for t in u.titles for c in t.checks]


def shared(checks) -> int:
    """How many check outcomes are one object for several units."""
    return len(checks) - len({id(c) for c in checks})


COUNCIL = (ROOT / "tests" / "scenarios" / "mini.toml").read_text(encoding="utf-8").replace(
    'votes = { share = 0.8 }', 'votes = { share = 0.8, quorum = "2/3" }').replace(
    "when = \"consecutive_years(band == 'xuat_sac') >= 3\"",
    "when = \"consecutive_years_since(band == 'xuat_sac', 'bang_khen') >= 2\"")


def test_example_policy_fast_paths_match(example_policy, monkeypatch):
    titles = [t.id for t in example_policy.titles]
    data = rich_data(make_rows(1500, seed=5), 11, titles, ["co_thi_dua_bca", "co_thi_dua_chinh_phu"], 2022)
    checks = compare(example_policy, data, monkeypatch)
    assert shared(checks) > len(checks) // 3, "the fast path should share outcomes"


@pytest.mark.parametrize("seed", [0, 1])
def test_council_policy_fast_paths_match(seed, monkeypatch):
    policy = parse_policy(COUNCIL.encode(), file="council.toml")
    data = rich_data(mini_rows(1200, seed), seed, [t.id for t in policy.titles], ["co"], 2024)
    checks = compare(policy, data, monkeypatch)
    assert shared(checks) > 0


def test_without_history_or_ballots_the_fast_paths_match(example_policy, monkeypatch):
    """Units with no history share one context per cluster: a streak's outcome is shared too."""
    rows = make_rows(1500, seed=8)
    clusters: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        clusters.setdefault(str(row["cluster"]), []).append({k: v for k, v in row.items() if k != "cluster"})
    data = json.dumps({"clusters": [{"id": c, "units": u} for c, u in sorted(clusters.items())]},
                      ensure_ascii=False).encode()
    checks = compare(example_policy, data, monkeypatch)
    streaks = [c for c in checks if any(k.startswith("consecutive_years") for k in c.seen)]
    assert streaks and shared(streaks) > len(streaks) // 2


class Extras:
    """A plugin function (so call values are never shared), a title check and a veto."""

    @hookimpl
    def register_functions(self, register):
        register(FunctionSpec(name="plus", impl=lambda x: x + Decimal(1), params=("number",), returns="number"))
        # A condition on the history, used as a part of its own (a part that is itself a call).
        register(FunctionSpec(name="ever", impl=lambda env, ctx, cond: any(cond(e) for e in ctx.history.values()),
                              params=("bool",), returns="bool", history="including_current"))

    @hookimpl
    def register_title_checks(self, register):
        def compile_min_total(table, ctx):
            if "min_total" not in table:
                return None
            floor = table["min_total"]
            return lambda view: (view.env["total"] >= floor, f"total below {floor}",
                                 {"total": view.env["total"], "won": sorted(view.won)})

        register(TitleCheckSpec(name="min_total", stage=25, keys={"min_total": "integer"},
                                compile=compile_min_total))

    @hookimpl
    def veto_title(self, unit, title, env, config):
        return f"vetoed {unit.id}" if env["rank"] == 2 and title == "don_vi_tien_tien" else None


def test_plugin_functions_checks_and_vetoes_match(monkeypatch):
    source = (ROOT / "policies" / "cum8-2022.toml").read_text(encoding="utf-8")
    source = source.replace("[policy]\n", '[policy]\nplugins = ["extras"]\n', 1).replace(
        'id = "don_vi_tien_tien"\n', 'id = "don_vi_tien_tien"\nmin_total = 90\n').replace(
        "when = \"consecutive_years(band == 'xuat_sac') >= 2\"",
        "when = \"consecutive_years(band == 'xuat_sac') >= plus(1) and band != 'tot'\"").replace(
        "when = \"band in ['xuat_sac', 'tot'] and members_advanced / members > 0.5\"",
        "when = \"band in ['xuat_sac', 'tot'] and ever(band == 'xuat_sac') and members_advanced / members > 0.5\"")
    # A condition that is itself a call: its outcome depends on the history, not only on ``band``.
    source = source.replace("[leadership]", '[[titles]]\nid = "ky_niem"\nwhen = "ever(band == \'xuat_sac\')"\n\n'
                            "[leadership]")
    policy = parse_policy(source.encode(), file="extras.toml", extra_plugins=(("extras", Extras()),))
    titles = [t.id for t in policy.titles]
    data = rich_data(make_rows(1000, seed=9), 3, titles, ["co_thi_dua_bca", "co_thi_dua_chinh_phu"], 2022)
    checks = compare(policy, data, monkeypatch)
    streaks = [c for c in checks if any(k.startswith("consecutive_years") for k in c.seen)]
    assert streaks and shared(streaks) == 0, "a plugin function's value is never shared"
    assert any(c.reason == "'ever(band == 'xuat_sac')' is false" for c in checks)
    assert any(c.check == "veto" and not c.passed for c in checks)
    assert any(c.check == "min_total" for c in checks)


def test_a_rule_failing_at_run_time_names_the_same_unit(monkeypatch):
    """A division by zero in a ``when`` is the same error, for the same unit, either way."""
    from thidua_rules import EvaluationError

    source = (ROOT / "policies" / "cum8-2022.toml").read_text(encoding="utf-8").replace(
        "emulation_fighters >= 1", "emulation_fighters / (members - members_completed) >= 1")
    policy = parse_policy(source.encode(), file="zero.toml")
    data = rich_data(make_rows(600, seed=4), 4, [t.id for t in policy.titles], [], 2022)
    with pytest.raises(EvaluationError) as fast:
        evaluate(policy, parse_data(data, policy, file="gen.json", format="json"))
    with monkeypatch.context() as m:
        straightforward(m)
        with pytest.raises(EvaluationError) as slow:
            evaluate(policy, parse_data(data, policy, file="gen.json", format="json"))
    assert fast.value.lines() == slow.value.lines()
    assert "division by zero" in str(fast.value).lower()
