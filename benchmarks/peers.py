"""The peers of ``bench_peers.py``: each policy's rules written by hand four ways, and data for them.

For the example policy (``policies/cum8-2022.toml``) and the 12-criterion one
(``benchmarks/peer_twelve.toml``):

* a zen-engine JDM decision (``*_JDM``): an expression node for the criteria (each clamped to
  ``[0, points]`` and rounded to 2 places with ZEN's ``round``), one for the group caps, the
  adjustments and the total;
* a lean Decimal function (``*_decimal``): the same Decimal operations in the engine's context,
  nothing else;
* an integer function (``*_integer``): exact fixed-point in hundredths, each criterion's exact
  rational value rounded half-up with integer division.

All of them give the engine's totals on the benchmark's data (``test_peers_agree``). They know
nothing of policies, plugins, ranking, titles or explanations.
"""

from __future__ import annotations

import json
import random
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from thidua_rules.decimals import engine_context

Q = Decimal("0.01")
ZERO = Decimal(0)
RATINGS = ["xuat_sac", "tot", "hoan_thanh", "khong_hoan_thanh"]

# ---------------------------------------------------------------- data


def example_rows(units: int, seed: int = 11) -> list[dict[str, Any]]:
    """Units of the example policy with wide, mostly distinct figures (clusters of 6 to 15)."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    cluster = 0
    while len(rows) < units:
        cluster += 1
        for k in range(min(rng.randint(6, 15), units - len(rows))):
            targets, ad_hoc, members = rng.randint(5, 900), rng.randint(1, 300), rng.randint(20, 9000)
            completed = members - rng.randint(0, members // 20)
            rows.append({
                "cluster": f"cum{cluster:06d}", "id": f"u{cluster:06d}-{k:02d}", "name": f"Đơn vị {cluster}-{k}",
                "targets_assigned": targets, "targets_done": rng.randint(targets * 2 // 3, targets),
                "ad_hoc_assigned": ad_hoc, "ad_hoc_done": rng.randint(ad_hoc // 2, ad_hoc),
                "advisory_adopted": rng.randint(0, 40), "joint_activities": rng.randint(0, 5),
                "party_rating": rng.choice(RATINGS), "members": members, "members_completed": completed,
                "members_advanced": rng.randint(members // 3, completed),
                "emulation_fighters": rng.randint(0, members // 10), "ad_hoc_commendations": rng.randint(0, 4),
                "members_disciplined": rng.randint(0, 12), "inspection_findings": rng.randint(0, 3),
            })
    return rows


def twelve_rows(units: int, seed: int = 12) -> list[dict[str, Any]]:
    """Units of the 12-criterion policy with wide, mostly distinct figures (clusters of 6 to 15)."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    cluster = 0
    while len(rows) < units:
        cluster += 1
        for k in range(min(rng.randint(6, 15), units - len(rows))):
            tasks, projects, budget = rng.randint(10, 2000), rng.randint(1, 200), rng.randint(10**6, 10**10)
            complaints, staff = rng.randint(1, 5000), rng.randint(10, 20000)
            rows.append({
                "cluster": f"cum{cluster:06d}", "id": f"u{cluster:06d}-{k:02d}", "name": f"Đơn vị {cluster}-{k}",
                "tasks_assigned": tasks, "tasks_done": rng.randint(tasks // 2, tasks),
                "projects_planned": projects, "projects_done": rng.randint(0, projects),
                "reports_on_time": rng.randint(0, 14),
                "budget_planned": budget, "budget_spent": rng.randint(budget // 2, budget),
                "initiatives": rng.randint(0, 6), "digital_services": rng.randint(0, 40),
                "complaints_received": complaints, "complaints_resolved": rng.randint(complaints // 2, complaints),
                "party_rating": rng.choice(RATINGS), "staff": staff,
                "staff_trained": rng.randint(0, staff), "staff_advanced": rng.randint(0, staff),
                "training_hours": rng.randint(0, 60), "late_reports": rng.randint(0, 8),
                "awards": rng.randint(0, 9), "violations": rng.randint(0, 7),
            })
    return rows


# ---------------------------------------------------------------- zen-engine decisions


def _jdm(criteria: list[tuple[str, str]], totals: list[tuple[str, str]]) -> str:
    """A decision graph: input → criteria (expression node, input passed through) → totals → output."""
    def node(node_id: str, expressions: list[tuple[str, str]], through: bool) -> dict[str, Any]:
        return {"id": node_id, "type": "expressionNode", "name": node_id, "position": {"x": 0, "y": 0},
                "content": {"expressions": [{"id": f"{node_id}{i}", "key": k, "value": v}
                                            for i, (k, v) in enumerate(expressions)],
                            "passThrough": through, "inputField": None, "outputPath": None,
                            "executionMode": "single"}}

    def edge(a: str, b: str) -> dict[str, str]:
        return {"id": f"{a}-{b}", "sourceId": a, "targetId": b, "type": "edge"}

    return json.dumps({
        "nodes": [{"id": "in", "type": "inputNode", "name": "in", "position": {"x": 0, "y": 0}},
                  node("criteria", criteria, True), node("totals", totals, False),
                  {"id": "out", "type": "outputNode", "name": "out", "position": {"x": 0, "y": 0}}],
        "edges": [edge("in", "criteria"), edge("criteria", "totals"), edge("totals", "out")],
    })


def _clamped(expression: str, points: int) -> str:
    return f"round(min([max([{expression}, 0]), {points}]), 2)"


EXAMPLE_JDM = _jdm([
    ("chi_tieu", _clamped("35 * targets_done / targets_assigned", 35)),
    ("dot_xuat", _clamped("15 * ad_hoc_done / ad_hoc_assigned", 15)),
    ("tham_muu", "advisory_adopted >= 8 ? 10 : advisory_adopted >= 5 ? 7 : advisory_adopted >= 1 ? 4 : 0"),
    ("phoi_hop_cum", _clamped("5 * joint_activities", 15)),
    ("to_chuc_dang", "party_rating == 'xuat_sac' ? 10 : party_rating == 'tot' ? 8 : "
                     "party_rating == 'hoan_thanh' ? 5 : 0"),
    ("chat_luong_cbcs", _clamped("15 * members_advanced / (members * 0.9)", 15)),
    ("khen", _clamped("ad_hoc_commendations", 3)),
    ("ky_luat", _clamped("0.5 * members_disciplined", 5)),
    ("thanh_tra", _clamped("2 * inspection_findings", 5)),
], [
    ("total", "min([chi_tieu + dot_xuat + tham_muu, 60]) + min([phoi_hop_cum, 15]) "
              "+ min([to_chuc_dang + chat_luong_cbcs, 25]) + min([khen, 5]) - min([ky_luat + thanh_tra, 10])"),
])

TWELVE_JDM = _jdm([
    ("c01", _clamped("20 * tasks_done / tasks_assigned", 20)),
    ("c02", _clamped("10 * projects_done / projects_planned", 10)),
    ("c03", "reports_on_time >= 12 ? 10 : reports_on_time >= 9 ? 7 : reports_on_time >= 6 ? 4 : 0"),
    ("c04", _clamped("10 * budget_spent / budget_planned", 10)),
    ("c05", _clamped("2 * initiatives", 8)),
    ("c06", "digital_services >= 20 ? 7 : digital_services >= 10 ? 5 : digital_services >= 1 ? 2 : 0"),
    ("c07", _clamped("10 * complaints_resolved / complaints_received", 10)),
    ("c08", "party_rating == 'xuat_sac' ? 6 : party_rating == 'tot' ? 5 : party_rating == 'hoan_thanh' ? 3 : 0"),
    ("c09", _clamped("7 * staff_trained / staff", 7)),
    ("c10", _clamped("6 * staff_advanced / (staff * 0.8)", 6)),
    ("c11", "training_hours >= 40 ? 3 : training_hours >= 20 ? 2 : 0"),
    ("c12", _clamped("3 - 0.5 * late_reports", 3)),
    ("bonus", _clamped("0.5 * awards", 3)),
    ("deduction", _clamped("violations", 5)),
], [
    ("total", "min([c01 + c02 + c03 + c04, 45]) + min([c05 + c06 + c07, 25]) "
              "+ min([c08 + c09 + c10 + c11 + c12, 25]) + min([bonus, 5]) - min([deduction, 10])"),
])


# ---------------------------------------------------------------- lean Decimal functions

_EX_PARTY = {"xuat_sac": Decimal(10), "tot": Decimal(8), "hoan_thanh": Decimal(5)}
_D = {n: Decimal(n) for n in range(0, 61)}


def _r(x: Decimal, cap: Decimal) -> Decimal:
    """Clamped to [0, cap], rounded half-up to 2 places (the engine's criterion rounding)."""
    if x < ZERO:
        return ZERO
    return (cap if x > cap else x).quantize(Q, ROUND_HALF_UP)


def example_decimal(u: dict[str, Any]) -> Decimal:
    """The example policy's total, in Decimal (call inside ``engine_context()``)."""
    a = u["advisory_adopted"]
    score = min(_r(35 * Decimal(u["targets_done"]) / u["targets_assigned"], _D[35])
                + _r(15 * Decimal(u["ad_hoc_done"]) / u["ad_hoc_assigned"], _D[15])
                + (_D[10] if a >= 8 else _D[7] if a >= 5 else _D[4] if a >= 1 else ZERO), _D[60]) \
        + min(_r(Decimal(5 * u["joint_activities"]), _D[15]), _D[15]) \
        + min(_EX_PARTY.get(u["party_rating"], ZERO)
              + _r(15 * Decimal(u["members_advanced"]) / (u["members"] * Decimal("0.9")), _D[15]), _D[25])
    bonus = min(_r(Decimal(u["ad_hoc_commendations"]), _D[3]), _D[5])
    deduction = min(_r(Decimal("0.5") * u["members_disciplined"], _D[5])
                    + _r(Decimal(2 * u["inspection_findings"]), _D[5]), _D[10])
    return score + bonus - deduction


_TW_PARTY = {"xuat_sac": Decimal(6), "tot": Decimal(5), "hoan_thanh": Decimal(3)}
_HALF, _EIGHT_TENTHS = Decimal("0.5"), Decimal("0.8")


def twelve_decimal(u: dict[str, Any]) -> Decimal:
    """The 12-criterion policy's total, in Decimal (call inside ``engine_context()``)."""
    r, h = u["reports_on_time"], u["training_hours"]
    d = u["digital_services"]
    staff = u["staff"]
    g1 = min(_r(20 * Decimal(u["tasks_done"]) / u["tasks_assigned"], _D[20])
             + _r(10 * Decimal(u["projects_done"]) / u["projects_planned"], _D[10])
             + (_D[10] if r >= 12 else _D[7] if r >= 9 else _D[4] if r >= 6 else ZERO)
             + _r(10 * Decimal(u["budget_spent"]) / u["budget_planned"], _D[10]), _D[45])
    g2 = min(_r(Decimal(2 * u["initiatives"]), _D[8])
             + (_D[7] if d >= 20 else _D[5] if d >= 10 else _D[2] if d >= 1 else ZERO)
             + _r(10 * Decimal(u["complaints_resolved"]) / u["complaints_received"], _D[10]), _D[25])
    g3 = min(_TW_PARTY.get(u["party_rating"], ZERO)
             + _r(7 * Decimal(u["staff_trained"]) / staff, _D[7])
             + _r(6 * Decimal(u["staff_advanced"]) / (staff * _EIGHT_TENTHS), _D[6])
             + (_D[3] if h >= 40 else _D[2] if h >= 20 else ZERO)
             + _r(3 - _HALF * u["late_reports"], _D[3]), _D[25])
    bonus = min(_r(_HALF * u["awards"], _D[3]), _D[5])
    deduction = min(_r(Decimal(u["violations"]), _D[5]), _D[10])
    return g1 + g2 + g3 + bonus - deduction


def decimal_totals(fn: Any, rows: list[dict[str, Any]]) -> list[Decimal]:
    with engine_context():
        return [fn(row) for row in rows]


# ---------------------------------------------------------------- integer functions (hundredths)


def _ratio(points: int, num: int, den: int) -> int:
    """``points × num / den`` in hundredths, clamped to [0, points], rounded half-up (num ≥ 0)."""
    value = (200 * points * num + den) // (2 * den)
    return value if value < 100 * points else 100 * points


_EX_PARTY_INT = {"xuat_sac": 1000, "tot": 800, "hoan_thanh": 500}


def example_integer(u: dict[str, Any]) -> int:
    """The example policy's total in hundredths (an int)."""
    a = u["advisory_adopted"]
    # 15 × advanced / (0.9 × members) = 150 × advanced / (9 × members)
    score = min(_ratio(35, u["targets_done"], u["targets_assigned"])
                + _ratio(15, u["ad_hoc_done"], u["ad_hoc_assigned"])
                + (1000 if a >= 8 else 700 if a >= 5 else 400 if a >= 1 else 0), 6000) \
        + min(500 * u["joint_activities"], 1500) \
        + min(_EX_PARTY_INT.get(u["party_rating"], 0)
              + _ratio(15, 10 * u["members_advanced"], 9 * u["members"]), 2500)
    bonus = min(100 * u["ad_hoc_commendations"], 300)
    deduction = min(min(50 * u["members_disciplined"], 500) + min(200 * u["inspection_findings"], 500), 1000)
    return score + bonus - deduction


_TW_PARTY_INT = {"xuat_sac": 600, "tot": 500, "hoan_thanh": 300}


def twelve_integer(u: dict[str, Any]) -> int:
    """The 12-criterion policy's total in hundredths (an int)."""
    r, h = u["reports_on_time"], u["training_hours"]
    d = u["digital_services"]
    staff = u["staff"]
    g1 = min(_ratio(20, u["tasks_done"], u["tasks_assigned"]) + _ratio(10, u["projects_done"], u["projects_planned"])
             + (1000 if r >= 12 else 700 if r >= 9 else 400 if r >= 6 else 0)
             + _ratio(10, u["budget_spent"], u["budget_planned"]), 4500)
    g2 = min(min(200 * u["initiatives"], 800) + (700 if d >= 20 else 500 if d >= 10 else 200 if d >= 1 else 0)
             + _ratio(10, u["complaints_resolved"], u["complaints_received"]), 2500)
    # 6 × advanced / (0.8 × staff) = 60 × advanced / (8 × staff)
    late = 300 - 50 * u["late_reports"]
    g3 = min(_TW_PARTY_INT.get(u["party_rating"], 0) + _ratio(7, u["staff_trained"], staff)
             + _ratio(6, 10 * u["staff_advanced"], 8 * staff) + (300 if h >= 40 else 200 if h >= 20 else 0)
             + (late if late > 0 else 0), 2500)
    bonus = min(min(50 * u["awards"], 300), 500)
    deduction = min(min(100 * u["violations"], 500), 1000)
    return g1 + g2 + g3 + bonus - deduction


def integer_totals(fn: Any, rows: list[dict[str, Any]]) -> list[int]:
    return [fn(row) for row in rows]
