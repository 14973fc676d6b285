"""Next year's cluster leader (cụm trưởng) and deputy (cụm phó)."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from .messages import Reason
from .model import Cluster, Leadership
from .ranking import Placed

#: The end of the reason given when this year's leader is not in the rotation.
NOT_IN_ROTATION = "is not in the rotation: it starts again at its first unit"


@attrs.frozen(kw_only=True)
class LeadershipResult:
    year: int
    leader: str | None
    deputy: str | None
    method: str
    reason: str
    previous_leader: str | None = None


def choose_leadership(rule: Leadership | None, cluster: Cluster,
                      placed: Sequence[Placed]) -> LeadershipResult | None:
    """Apply the policy's leadership rule to one cluster.

    ``rotation``: the leader is the unit after this year's leader in the rotation (the cluster's
    own ``rotation`` if it gives one, else the policy's), the deputy the one after that; this is
    the rotating annual practice of clusters (domain.md §8.1). Without a leader recorded, or with
    one the rotation does not list, the rotation starts at its first unit. ``rank``: the best-ranked unit
    leads and the next one deputises; a shared rank is left to the conference.
    """
    if rule is None:
        return None
    year = cluster.year + 1
    if rule.method == "rank":
        top = [p for p in placed if p.rank == 1]
        if len(top) != 1:
            return LeadershipResult(year=year, leader=None, deputy=None, method="rank",
                                    reason=Reason("leader_tie", {"units": len(top)}))
        second = [p for p in placed if p.rank == 2]
        deputy = second[0].score.unit.id if len(second) == 1 else None
        reason = Reason("leader_by_rank")
        if len(second) > 1:
            reason = Reason("leader_by_rank_deputy_tie", {"units": len(second)})
        return LeadershipResult(year=year, leader=top[0].score.unit.id, deputy=deputy, method="rank",
                                reason=reason)
    ids = {p.score.unit.id for p in placed}
    rotation = [u for u in (cluster.rotation or rule.rotation) if u in ids]
    if not rotation:
        return LeadershipResult(year=year, leader=None, deputy=None, method="rotation",
                                reason=Reason("rotation_empty"),
                                previous_leader=cluster.leader)
    if cluster.leader is None:
        leader = rotation[0]
        reason = Reason("rotation_start")
    elif cluster.leader not in rotation:
        # The rotation cannot say who comes after a leader it does not list: it starts again at
        # its first unit, as when no leader is recorded (the rotating annual practice, domain.md
        # §8.1); this year's leader is still reported.
        leader = rotation[0]
        reason = Reason("rotation_leader_missing", {"leader": cluster.leader})
    else:
        leader = rotation[(rotation.index(cluster.leader) + 1) % len(rotation)]
        reason = Reason("rotation_next", {"leader": cluster.leader})
    deputy = rotation[(rotation.index(leader) + 1) % len(rotation)] if len(rotation) > 1 else None
    return LeadershipResult(year=year, leader=leader, deputy=deputy, method="rotation", reason=reason,
                            previous_leader=cluster.leader)
