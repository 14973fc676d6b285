"""The evaluation pipeline: load → score → rank → award → leadership, one cluster at a time."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import attrs

from .awards import CouncilItem, TitleOutcome, award_cluster, proposer
from .builtin.titles import implied_titles
from .councils import awaiting_opinion
from .decimals import engine_context
from .environment import Shapes, freeze
from .errors import Issue, PolicyError
from .expressions import EvalContext
from .layers import by_unit, council_reason
from .leadership import LeadershipResult, choose_leadership
from .messages import Reason
from .model import RANKING_BALLOT, Cluster, Dataset, PluginInfo, Policy
from .people import MemberCount, PersonResult, decide_people, derive_units, person_quota_ties, with_implied
from .plans import plan_for
from .plugins import engine_version
from .ranking import Placed, rank_cluster
from .records import fast_init
from .scoring import UnitScore, score_units, small_decimal


@attrs.frozen(kw_only=True, weakref_slot=False)  # made per unit: see records.fast_init
class UnitResult:
    """One unit's outcome: place, score, band, proposals and everything that explains them."""

    id: str
    name: str
    cluster: str
    rank: int
    tied: bool
    total: Decimal
    band: str | None
    proposed: tuple[str, ...]
    placed: Placed
    titles: tuple[TitleOutcome, ...]

    @property
    def score(self) -> UnitScore:
        return self.placed.score


@attrs.frozen(kw_only=True)
class ClusterResult:
    id: str
    name: str
    year: int
    units: tuple[UnitResult, ...]          # in rank order
    leadership: LeadershipResult | None
    council: tuple[CouncilItem, ...]
    people: tuple[PersonResult, ...] = ()
    member_counts: Mapping[str, tuple[MemberCount, ...]] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class Result:
    """The outcome of evaluating a policy on a dataset, with its provenance."""

    engine_version: str
    policy: Policy
    data_file: str
    data_sha256: str
    plugins: tuple[PluginInfo, ...]
    clusters: tuple[ClusterResult, ...]

    def unit(self, unit_id: str) -> UnitResult:
        """The result of the unit with this id.

        :raises KeyError: no such unit (the message suggests the closest id).
        """
        found = next((u for c in self.clusters for u in c.units if u.id == unit_id), None)
        if found is None:
            from .errors import did_you_mean

            ids = [u.id for c in self.clusters for u in c.units]
            raise KeyError(f"unknown unit '{unit_id}'{did_you_mean(unit_id, ids)}")
        return found


_unit_result = fast_init(UnitResult)
#: ``UnitScore.env``'s slot, set once more when the environment is frozen (the record stays frozen
#: to every reader; this is its construction's last step).
_set_env = UnitScore.env.__set__  # type: ignore[attr-defined]


def history_contexts(cluster: Cluster, implied: Mapping[str, tuple[str, ...]] | None = None
                     ) -> dict[str, EvalContext]:
    """Per unit, the earlier years as expression environments (band, titles, total, rank, fields),
    the first year whose achievements count after a finished discipline period (ND152 Art. 4 k4),
    and the last year each title was awarded (one achievement, one award: Law2022 Art. 5 k2 c).

    A year's ``titles`` hold the titles recorded and those they imply (``implied``: per title,
    the titles below it on its ladder that it requires, see ``implied_titles``); ``awarded``
    knows the recorded titles only, the awards actually made."""
    # Units without history, discipline or awards share one (read-only) context.
    empty = EvalContext(year=cluster.year, history=_EMPTY, counts_from=None, awarded=_EMPTY)
    if not cluster.history and not cluster.discipline:
        return dict.fromkeys([u.id for u in cluster.units], empty)
    by_unit: dict[str, dict[int, Mapping[str, Any]]] = {u.id: {} for u in cluster.units}
    awarded: dict[str, dict[str, int]] = {u.id: {} for u in cluster.units}
    for record in cluster.history:
        env: dict[str, Any] = dict(record.fields)
        env["titles"] = record.titles if implied is None else with_implied(record.titles, implied)
        env["year"] = Decimal(record.year)
        if record.band is not None:
            env["band"] = record.band
        by_unit[record.unit][record.year] = MappingProxyType(env)
        for title in record.titles:
            awarded[record.unit][title] = max(record.year, awarded[record.unit].get(title, record.year))
    counts_from: dict[str, int] = {}
    for period in cluster.discipline:
        if period.until < cluster.year:
            counts_from[period.unit] = max(period.until + 1, counts_from.get(period.unit, 0))
    return {unit: EvalContext(year=cluster.year, history=MappingProxyType(dict(sorted(years.items()))),
                              counts_from=counts_from.get(unit),
                              awarded=MappingProxyType(dict(sorted(awarded[unit].items()))))
            if years or awarded[unit] or unit in counts_from else empty
            for unit, years in by_unit.items()}


_EMPTY: Mapping[Any, Any] = MappingProxyType({})  # empty: fits any key type


class Sharing:
    """What the units of one evaluation share instead of holding each their own copy: the names
    tables of their frozen environments (:mod:`.environment`) and their tuples of title outcomes
    (outcomes equal in every field are one object already, see ``awards``; a unit with the same
    outcomes as another gets the same tuple). Made per :func:`evaluate`, so nothing outlives it."""

    __slots__ = ("shapes", "titles")

    def __init__(self) -> None:
        self.shapes: Shapes = {}
        self.titles: dict[tuple[int, ...], tuple[TitleOutcome, ...]] = {}

    def titles_of(self, outcomes: list[TitleOutcome]) -> tuple[TitleOutcome, ...]:
        # Keyed by identity: the tuple kept holds the outcomes, so no key names a freed object.
        key = tuple(map(id, outcomes))
        found = self.titles.get(key)
        if found is None:
            found = self.titles[key] = tuple(outcomes)
        return found


def evaluate_cluster(policy: Policy, cluster: Cluster, sharing: Sharing | None = None) -> ClusterResult:
    """One cluster's outcome. ``sharing``: what its units share with those of the other clusters
    of the same evaluation (a new one, shared with none, when not given)."""
    if sharing is None:
        sharing = Sharing()
    people = decide_people(policy, cluster)
    units_in, member_counts = derive_units(policy, cluster, people)
    scores = score_units(policy, units_in, cluster.year, cluster.plugin_data,
                         by_unit(cluster.scores) if cluster.scores else None)
    if any(k.key == "vote" for k in policy.ranking):
        ranking_ballot = next((b for b in cluster.ballots if b.title == RANKING_BALLOT), None)
        for score in scores:
            votes = 0 if ranking_ballot is None else (
                ranking_ballot.yes.get(score.unit.id, 0) + ranking_ballot.written.get(score.unit.id, 0))
            score.env["vote"] = Decimal(votes)  # type: ignore[index]
    placed = rank_cluster(scores, policy.ranking)
    size = small_decimal(len(placed))
    for place in placed:
        env = place.score.env
        env["rank"] = small_decimal(place.rank)  # type: ignore[index]
        env["cluster_size"] = size  # type: ignore[index]
        env["tied"] = place.tied  # type: ignore[index]
    implied = plan_for("implied-titles", policy, lambda p: implied_titles(p.titles))
    outcomes, council = award_cluster(policy, cluster, placed, history_contexts(cluster, implied))
    council.extend(_people_awaiting(people))
    council.extend(_scores_undecided(policy, scores))
    council.extend(person_quota_ties(people))
    council.extend(awaiting_opinion(people))  # transferred members (councils.py)
    units = []
    cluster_id = cluster.id
    proposed_titles = proposer(policy)
    shapes, titles_of = sharing.shapes, sharing.titles_of
    for p in placed:
        score = p.score
        unit = score.unit
        titles = outcomes[unit.id]
        units.append(_unit_result(unit.id, unit.name, cluster_id, p.rank, p.tied, score.total, score.band,
                                  proposed_titles(titles), p, titles_of(titles)))
    # The cluster is decided: nothing writes to the units' environments again (see environment.py).
    for p in placed:
        _set_env(p.score, freeze(p.score.env, shapes))
    return ClusterResult(
        id=cluster.id, name=cluster.name, year=cluster.year, units=tuple(units),
        leadership=choose_leadership(policy.leadership, cluster, placed), council=tuple(council),
        people=people, member_counts=MappingProxyType(dict(sorted(member_counts.items()))),
    )


def _scores_undecided(policy: Policy, scores: list[UnitScore]) -> list[CouncilItem]:
    """Per unit and criterion, each layer whose scorers the policy's rule could not reconcile
    (``otherwise = "council"``): the council decides the score (``title`` is the criterion)."""
    return [CouncilItem(title=layers.criterion, units=(score.unit.id,), kind="score_undecided",
                        reason=council_reason(policy, layers, step))
            for score in scores for layers in getattr(score, "layers", ()) for step in layers.undecided]


def _people_awaiting(people: tuple[PersonResult, ...]) -> list[CouncilItem]:
    """Per person title, the members awaiting the council's vote (ND98 Art. 30 k7), for the council."""
    waiting: dict[str, list[str]] = {}
    for result in people:
        for outcome in result.titles:
            if outcome.status == "awaiting_vote":
                waiting.setdefault(outcome.title, []).append(result.person.id)
    return [CouncilItem(title=title, units=tuple(members), kind="awaiting_vote",
                        reason=Reason("council_awaiting_vote_members"))
            for title, members in waiting.items()]


#: The engines :func:`evaluate` can run: the production one and the reference (``reference.py``).
ENGINES = ("fast", "reference")


def evaluate(policy: Policy, data: Dataset, engine: str = "fast") -> Result:
    """Evaluate every cluster of ``data`` under ``policy``; pure, deterministic, exact.

    ``engine="reference"`` runs the reference engine (:mod:`.reference`, the semantics written
    out plainly with exact fractions); it gives the same result, slowly.

    :raises EvaluationError: a rule failed at run time for a unit (division by zero…).
    :raises PluginError: a plugin raised or broke its contract.
    :raises ValueError: ``engine`` is not one of :data:`ENGINES`.

    It changes no process-wide state: the garbage collector runs as the host has it (an
    embedding server's collector, and the objects it froze, are left alone).
    """
    if engine != "fast":
        if engine not in ENGINES:
            raise ValueError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")
        from .reference import evaluate as reference_evaluate
        return reference_evaluate(policy, data)
    with engine_context():
        done: list[ClusterResult] = []
        problems: list[Issue] = []
        sharing = Sharing()
        for cluster in data.clusters:
            try:
                done.append(evaluate_cluster(policy, cluster, sharing))
            except PolicyError as exc:  # a scoring layer's change without a reason: every cluster's at once
                problems.extend(exc.issues)
        if problems:
            raise PolicyError(problems)
        clusters = tuple(done)
        if any(t.across is not None for t in policy.titles):
            from .across import apply_across_clusters

            clusters = apply_across_clusters(policy, clusters)
    return Result(
        engine_version=engine_version(), policy=policy, data_file=data.file,
        data_sha256=data.sha256, plugins=policy.plugin_info, clusters=clusters,
    )
