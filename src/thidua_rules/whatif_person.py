"""`thidua whatif` for a member: the yes-votes each missed person title needs from the council
that votes on it — the council of the member's unit when it keeps its own ballot (councils.py),
else the cluster's — each verified by re-evaluating the cluster with that ballot.

ND98 Art. 30 k7: the share (80 % for Chiến sĩ thi đua cơ sở) is of ALL the members of that
council, and the written opinions of absent members count. Only votes are searched for a member:
a title missed for another reason (a condition, a prerequisite, a quota, a transfer, a
discipline period) is listed with that reason and "not reachable by votes".
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import attrs

from .builtin.titles import VotesCheck, share_text
from .councils import council_ballot, person_ballots
from .decimals import engine_context
from .engine import Result, evaluate_cluster
from .errors import ThiduaError
from .model import Ballot, Cluster, Dataset, Person, Policy, Title, frozen_mapping
from .people import PersonResult
from .whatif import WON, Change, Effect, Target, _seen_value


@attrs.frozen(kw_only=True)
class PersonWhatIf:
    """Every person title one member missed, with the votes that would flip each."""

    policy: str
    policy_sha256: str
    data_sha256: str
    person: str
    name: str
    unit: str
    cluster: str
    proposed: tuple[str, ...]
    targets: tuple[Target, ...]
    evaluations: int
    budget: int
    cut: bool


def find_person(data: Dataset, person_id: str) -> tuple[Cluster, Person] | None:
    for cluster in data.clusters:
        for person in cluster.people:
            if person.id == person_id:
                return cluster, person
    return None


def _council(ballot: Ballot | None, person: Person) -> str:
    if ballot is not None and ballot.unit is None:
        return "the cluster's council"
    return f"the council of {person.unit}"


def _votes(check: VotesCheck, ballot: Ballot | None, person: Person, title: Title,
           cluster: Cluster) -> tuple[str, Ballot | None, int, int]:
    """What the council's ballot needs of this member, as a sentence, and the ballot with just
    enough yes-votes when that is possible (else None), with the yes-votes now and needed."""
    council = _council(ballot, person)
    if ballot is None:
        own = any(b.title == title.id and b.unit is not None for b in cluster.ballots)
        whose = f"the council of {person.unit}" if own else "the council"
        return f"no ballot recorded: {whose} has not voted on this title", None, 0, 0
    problem = check.quorum_problem(ballot)
    if problem is not None:
        return f"the ballot of {council} cannot count: {problem}", None, 0, 0
    written = ballot.written.get(person.id, 0)
    yes = ballot.yes.get(person.id, 0) + written
    threshold = check.share * ballot.voters  # ND98 Art. 30 k7: of all the council's members
    needed = math.ceil(threshold)
    shown = f"yes >= {check.share_shown} × {ballot.voters} = {share_text(Fraction(threshold))}"
    if yes >= needed:
        return f"the ballot of {council} passes: {yes} yes of {ballot.voters} ({shown})", None, yes, needed
    in_room = ballot.voters if ballot.present is None else ballot.present
    if needed - written > in_room:
        return (f"{needed} yes-votes needed from {council} ({shown}), more than the {in_room} members who "
                f"could vote in the room plus {written} written: not reachable with this ballot"), None, yes, needed
    changed = attrs.evolve(ballot, yes=frozen_mapping({**ballot.yes, person.id: needed - written}))
    return (f"{needed} yes-votes needed from {council} ({shown}); has {yes}: {needed - yes} more",
            changed, yes, needed)


def _why(outcome: Any) -> str:
    failed = next((c for c in reversed(outcome.checks) if not c.passed), None)
    if failed is None:
        return outcome.status
    seen = ", ".join(f"{k} = {'-' if v is None else _seen_value(v)}" for k, v in failed.seen.items())
    return f"{failed.check}: {failed.reason}" + (f" [{seen}]" if seen else "")


def _not_votes(outcome: Any, votes_text: str) -> str:
    """Why votes alone cannot flip the title (the check that fails is not the vote)."""
    failed = next((c for c in reversed(outcome.checks) if not c.passed), None)
    if outcome.status == "awaiting_vote":
        return "the council has not voted yet (no ballot recorded)"
    if outcome.status == "undecided":
        return "a tie across the person quota's cut: the council decides"
    if outcome.status == "over_quota":
        return f"the unit's quota is full (limit {outcome.quota_limit}): more votes do not give a place"
    if failed is not None and failed.check != "votes":
        return f"not a matter of votes: {failed.check}: {failed.reason}"
    return votes_text or "no vote count flips it"


def person_what_if(policy: Policy, data: Dataset, result: Result, person_id: str, *, budget: int) -> PersonWhatIf:
    """For the member ``person_id``: each person title not won, why, and the yes-votes that would
    flip it (verified by re-evaluating the member's cluster with that one ballot changed)."""
    found = find_person(data, person_id)
    assert found is not None and policy.people is not None
    cluster, person = found
    cluster_result = next(c for c in result.clusters if c.id == cluster.id)
    base = next(p for p in cluster_result.people if p.person.id == person_id)
    ballots = person_ballots(cluster.ballots)
    count, cut = 0, False
    targets = []
    for title in policy.people.titles:
        outcome = next(t for t in base.titles if t.title == title.id)
        if outcome.status in WON:
            continue
        check = next((c.run for c in title.checks if isinstance(c.run, VotesCheck)), None)
        votes_text, changed, yes, needed = "", None, 0, 0
        ballot = council_ballot(ballots, title.id, person)
        if check is not None:
            votes_text, changed, yes, needed = _votes(check, ballot, person, title, cluster)
        changes: tuple[Change, ...] = ()
        unreachable = ""
        if changed is not None and ballot is not None:
            if count >= budget:
                cut = True
                unreachable = f"not found before the search was cut after {count} evaluations"
            else:
                count += 1
                after = _with_ballot(policy, cluster, ballot, changed, person_id)
                if after is not None and next(t.status for t in after.titles if t.title == title.id) in WON:
                    changes = (Change(kind="votes", name=title.id, before=str(yes), after=str(needed),
                                      found_by="exact", effects=_effects(base, after)),)
        if not changes and not unreachable:
            unreachable = _not_votes(outcome, votes_text) if check is not None else \
                "the title takes no vote: only its failing check (why) decides it"
        targets.append(Target(kind="title", id=title.id, name=title.name, now=outcome.status, why=_why(outcome),
                              goal=f"the member is proposed for '{title.id}' (or holds it)", votes=votes_text,
                              changes=changes, unreachable=unreachable, cut=cut and not changes))
    return PersonWhatIf(policy=policy.id, policy_sha256=policy.sha256, data_sha256=result.data_sha256,
                        person=person.id, name=person.name, unit=person.unit, cluster=cluster.id,
                        proposed=base.proposed, targets=tuple(targets), evaluations=count, budget=budget, cut=cut)


def _with_ballot(policy: Policy, cluster: Cluster, ballot: Ballot, changed: Ballot, person_id: str) -> PersonResult | None:
    ballots = tuple(changed if b is ballot else b for b in cluster.ballots)
    try:
        with engine_context():
            after = evaluate_cluster(policy, attrs.evolve(cluster, ballots=ballots))
    except ThiduaError:
        return None
    return next(p for p in after.people if p.person.id == person_id)


def _effects(before: PersonResult, after: PersonResult) -> tuple[Effect, ...]:
    """Every title of the member whose status the change moves (a higher title that requires
    the flipped one moves too)."""
    now = {t.title: t.status for t in after.titles}
    return tuple(Effect(what=f"title.{t.title}", before=t.status, after=now[t.title])
                 for t in before.titles if now[t.title] != t.status)
