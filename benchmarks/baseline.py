"""A hand-written scorer specialised to the example policy: the yardstick the engine is measured against.

Same Decimal arithmetic and the same half-up rounding of each criterion to 2 places as the policy,
so it gives the same totals; it knows nothing of policies, plugins or explanations.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from thidua_rules.decimals import engine_context

Q = Decimal("0.01")
ZERO = Decimal(0)
PARTY = {"xuat_sac": Decimal(10), "tot": Decimal(8), "hoan_thanh": Decimal(5)}


def _r(x: Decimal, cap: int) -> Decimal:
    return min(max(x, ZERO), Decimal(cap)).quantize(Q, rounding=ROUND_HALF_UP)


def baseline_total(u: dict[str, object]) -> Decimal:
    d = {k: Decimal(v) if isinstance(v, int) else v for k, v in u.items()}
    chi_tieu = _r(35 * d["targets_done"] / d["targets_assigned"], 35)
    dot_xuat = _r(15 * d["ad_hoc_done"] / d["ad_hoc_assigned"], 15)
    a = d["advisory_adopted"]
    tham_muu = Decimal(10) if a >= 8 else Decimal(7) if a >= 5 else Decimal(4) if a >= 1 else ZERO
    phoi_hop = _r(5 * d["joint_activities"], 15)
    dang = PARTY.get(d["party_rating"], ZERO)
    chat_luong = _r(15 * d["members_advanced"] / (d["members"] * Decimal("0.9")), 15)
    score = min(chi_tieu + dot_xuat + tham_muu, Decimal(60)) + min(phoi_hop, Decimal(15)) \
        + min(dang + chat_luong, Decimal(25))
    bonus = min(_r(d["ad_hoc_commendations"], 3), Decimal(5))
    deduction = min(_r(Decimal("0.5") * d["members_disciplined"], 5) + _r(2 * d["inspection_findings"], 5),
                    Decimal(10))
    return score + bonus - deduction


def baseline_totals(rows: list[dict[str, object]]) -> list[Decimal]:
    with engine_context():
        return [baseline_total(row) for row in rows]
