"""Frozen domain values: the compiled policy, the unit data, and nothing that does I/O."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar, overload

import attrs

from .plans import Program

if TYPE_CHECKING:
    from .expressions import CompiledExpression

Value = Decimal | bool | str | tuple[str, ...]

#: The ballot id of a cluster's ranking vote, read by the ranking key ``vote``.
RANKING_BALLOT = "ranking"


#: The key types of the engine's mappings (input ids, years): sortable, so the order is fixed.
K = TypeVar("K", str, int)
V = TypeVar("V")


@overload
def frozen_mapping(value: None = None) -> Mapping[Any, Any]: ...
@overload
def frozen_mapping(value: Mapping[K, V] | None) -> Mapping[K, V]: ...
def frozen_mapping(value: Mapping[Any, Any] | None = None) -> Mapping[Any, Any]:
    """A read-only mapping with keys in sorted order, so iteration never depends on input order."""
    return MappingProxyType(dict(sorted((value or {}).items())))


# ---------------------------------------------------------------- policy


@attrs.frozen(kw_only=True)
class InputField:
    """One typed field every unit supplies (``[inputs]``)."""

    id: str
    type: str  # integer | decimal | boolean | enum | text
    label: str = ""
    min: Decimal | None = None
    max: Decimal | None = None
    values: tuple[str, ...] = ()
    required: bool = True
    default: Value | None = None
    plugin: str | None = None  # a derived input: computed by this plugin's ``derive_inputs``
    members: MemberAggregate | None = None  # a derived input: counted from the members file


@attrs.frozen(kw_only=True)
class MemberAggregate:
    """A unit input derived from its members (``members = { count = "..." }``): how many members
    the condition holds for (``count``), or the sum of a number over them (``sum``)."""

    kind: str  # count | sum
    expression: CompiledExpression


@attrs.frozen(kw_only=True)
class PreferenceStep:
    """One step of a declared preference chain among persons (``[people.ranking] order``): a
    person input, best first when ``descending`` (see ``councils.preference_groups``)."""

    key: str
    descending: bool = True


@attrs.frozen(kw_only=True)
class People:
    """Individual titles (danh hiệu cá nhân, Law2022 Art. 21–24) decided from a members file."""

    inputs: tuple[InputField, ...]
    titles: tuple[Title, ...]
    #: The award plans of these titles (the members' titles are decided as a policy's are).
    program: Program = attrs.field(init=False, factory=Program, eq=False, repr=False)
    #: the declared preference chain among persons (ND152 Art. 4 k6); empty: none declared
    preference: tuple[PreferenceStep, ...] = ()


@attrs.frozen(kw_only=True)
class Check:
    """A cross-field rule a policy author declares (``[[checks]]``), e.g. advanced <= members."""

    id: str
    rule: CompiledExpression
    message: str


@attrs.frozen(kw_only=True)
class Group:
    """A group of criteria (nhóm tiêu chí) whose summed score is capped at ``max``."""

    id: str
    name: str
    max: Decimal | None


@attrs.frozen(kw_only=True)
class Criterion:
    """One line of the scoring table (tiêu chí chấm điểm).

    ``scorer(env)`` returns the raw points and the facts the explanation shows; the engine
    applies the gate, clamps to ``[0, points]`` and rounds half-up to the policy precision.
    """

    id: str
    group: str
    name: str
    points: Decimal
    method: str
    scorer: Callable[[Mapping[str, Any]], tuple[Decimal, Mapping[str, Any]]]
    gate: CompiledExpression | None = None
    reads: tuple[str, ...] = ()
    method_plugin: str = "builtin"
    source: str = ""
    override: str | None = None  # the plugin whose ``score_criterion`` may replace the score


@attrs.frozen(kw_only=True)
class Adjustment:
    """A bonus (điểm thưởng) or deduction (điểm trừ) item with its own cap."""

    id: str
    kind: str  # bonus | deduction
    name: str
    formula: CompiledExpression | None   # the item's formula; None when a method scores it
    max: Decimal | None = None
    when: CompiledExpression | None = None
    method: str = "formula"
    #: ``raw(env, ctx)``: the unclamped points (the formula's closure, or the method's scorer)
    raw: Callable[[Mapping[str, Any], Any], Decimal] | None = None
    #: the names the item reads, for the explanation
    reads: frozenset[str] = frozenset()


@attrs.frozen(kw_only=True)
class Band:
    """A classification band (mức độ hoàn thành nhiệm vụ): the first one reached wins."""

    id: str
    name: str
    min: Decimal
    when: CompiledExpression | None = None


@attrs.frozen
class RankKey:
    """One key of the ranking chain; ``descending`` puts the larger value first."""

    key: str
    descending: bool = True


@attrs.frozen(kw_only=True)
class Quota:
    """How many units of a cluster may be proposed for a title."""

    count: int | None = None
    share: Decimal | Fraction | None = None  # a Fraction when the policy wrote one ("1/3")
    rounding: str = "floor"  # floor | ceil | half_up
    #: A person title's quota only: the share is of the unit's members who won this title this
    #: year (e.g. Chiến sĩ tiên tiến, ND91 Art. 9 k3); None: of all the unit's members.
    of: str | None = None
    #: A person title's quota only: number expressions over the member's fields, each descending,
    #: that order the candidates; members equal on all share a place (no order: all share one).
    order: tuple[Any, ...] = attrs.field(default=(), eq=False)


@attrs.frozen(kw_only=True)
class TitleCheck:
    """A per-unit condition of a title, contributed by a plugin (built-ins included).

    ``run(unit_view)`` returns ``(passed, reason, seen)``: ``reason`` explains a failure and
    ``seen`` the values the check looked at.
    """

    name: str
    stage: int
    plugin: str
    run: Callable[[Any], tuple[bool, str, Mapping[str, Any]]]
    #: the check's messages by language and code (``TitleCheckSpec.messages``)
    messages: Mapping[str, Mapping[str, str]] = attrs.field(factory=frozen_mapping, eq=False)


@attrs.frozen(kw_only=True)
class Title:
    """A title (danh hiệu) or commendation (hình thức khen thưởng) rule."""

    id: str
    name: str
    ladder: str | None = None
    quota: Quota | None = None
    takes_vote: bool = False
    checks: tuple[TitleCheck, ...] = ()
    source: str = ""
    #: The version of the law the rule was taken in (``[[titles.versions]]``), or None.
    law: LegalRule | None = None
    #: ``across_clusters``: a second quota over every cluster of the data (``order`` holds
    #: RankKeys); see thidua_rules.across.
    across: Quota | None = None


@attrs.frozen(kw_only=True)
class LegalRule:
    """The legal basis (căn cứ pháp lý) of one rule's version: the instrument, the articles, the
    period it is in force (ISO dates, both included; None for an open end), and how it was chosen."""

    version: str
    in_force_from: str | None
    in_force_until: str | None
    instrument: str | None
    articles: tuple[str, ...]
    chosen: str
    pinned: bool
    catalogue: str | None = None          # the catalogue edition: "law2022-people 2026.12"
    catalogue_file: str | None = None


@attrs.frozen(kw_only=True)
class Leadership:
    """How next year's cluster leader (cụm trưởng) and deputy (cụm phó) are chosen."""

    method: str  # rotation | rank
    rotation: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class PluginInfo:
    """Provenance of one plugin that took part in a run."""

    name: str
    distribution: str
    version: str
    hooks: tuple[str, ...]


@attrs.frozen(kw_only=True)
class Reconcile:
    """How a layer's several scorers are reconciled: ``use`` (mean, min or max) when they differ
    by at most ``within``; otherwise a third scorer decides (``third``) or the council does."""

    within: Decimal
    use: str
    otherwise: str


@attrs.frozen(kw_only=True)
class ScoreLayer:
    """A scoring layer (lớp chấm điểm): ``claim`` (e.g. the unit's self-score, tự chấm), shown
    beside the score, or ``change`` (e.g. cross-inspection, kiểm tra chéo), which replaces it."""

    id: str
    name: str
    kind: str
    reconcile: Reconcile | None = None


@attrs.frozen(kw_only=True)
class Policy:
    """A compiled policy: everything needed to evaluate many units, checked once."""

    id: str
    name: str
    year: int | None
    precision: int
    file: str
    sha256: str
    plugins: tuple[str, ...]
    inputs: tuple[InputField, ...]
    checks: tuple[Check, ...]
    groups: tuple[Group, ...]
    criteria: tuple[Criterion, ...]
    bonuses: tuple[Adjustment, ...]
    deductions: tuple[Adjustment, ...]
    bonus_max: Decimal | None
    deduction_max: Decimal | None
    total_max: Decimal | None
    bands: tuple[Band, ...]
    ranking: tuple[RankKey, ...]
    titles: tuple[Title, ...]
    leadership: Leadership | None
    plugin_info: tuple[PluginInfo, ...] = ()
    people: People | None = None
    #: The day whose law the rules were chosen for (``[policy] evaluation_date``, else 31
    #: December of ``year``), ISO; None when the policy gives neither.
    evaluation_date: str | None = None
    #: ``[plugin.<name>]`` sections, deeply read-only, keyed by plugin name.
    plugin_config: Mapping[str, Any] = attrs.field(factory=frozen_mapping)
    #: ``[[scoring.layers]]``: the scoring layers after the computed score, in order (see layers.py).
    layers: tuple[ScoreLayer, ...] = ()
    #: Calls the run-time hooks of the loaded plugins (``thidua_rules.plugins.PluginRuntime``).
    runtime: Any = attrs.field(default=None, eq=False, repr=False)
    #: Every plan derived from this policy (generated functions, remembered texts and cells),
    #: made with it and kept as long as it lives (:mod:`thidua_rules.plans`).
    program: Program = attrs.field(init=False, factory=Program, eq=False, repr=False)

    def input(self, field_id: str) -> InputField:
        return next(f for f in self.inputs if f.id == field_id)


# ---------------------------------------------------------------- data


@attrs.frozen(kw_only=True, weakref_slot=False)  # made per unit: see records.fast_init
class Unit:
    """A member unit of a cluster with its year's figures (``values``, keyed by input id)."""

    id: str
    name: str
    cluster: str
    values: Mapping[str, Value]


@attrs.frozen(kw_only=True)
class Ballot:
    """Yes-votes per unit for one title, by everyone entitled to vote (ND98 Art. 30 k7: the
    threshold is over all council members, and absent members' written opinions count)."""

    title: str
    voters: int
    yes: Mapping[str, int]
    written: Mapping[str, int] = attrs.field(factory=frozen_mapping)
    present: int | None = None
    round: int = 1
    #: the unit whose own council voted (a person title's ballot, see ``councils.py``); None: the
    #: cluster's council
    unit: str | None = None


@attrs.frozen(kw_only=True)
class DisciplineRecord:
    """A discipline period of a unit (kỷ luật), in whole years."""

    unit: str
    level: str
    start: int
    until: int
    note: str = ""


@attrs.frozen(kw_only=True)
class Deferral:
    """A unit whose titles wait (ND152 Art. 4 k4: discipline being considered, an investigation,
    a complaint being verified): it is scored and ranked, but not proposed, with the reason."""

    unit: str
    reason: str
    titles: tuple[str, ...] = ()   # empty: every title


@attrs.frozen(kw_only=True)
class HistoryRecord:
    """One earlier year of one unit, from the cluster's book (sổ theo dõi)."""

    unit: str
    year: int
    band: str | None = None
    titles: tuple[str, ...] = ()
    fields: Mapping[str, Value] = attrs.field(factory=frozen_mapping)


@attrs.frozen(kw_only=True)
class Person:
    """A member of a unit (cán bộ, chiến sĩ) with the year's record and earlier titles."""

    id: str
    name: str
    unit: str
    values: Mapping[str, Value]
    earlier: Mapping[int, tuple[str, ...]] = attrs.field(factory=frozen_mapping)
    deferred: str | None = None
    discipline_until: int | None = None   # last year of a discipline period (kỷ luật)
    #: a member transferred in during the year (see ``councils.py``): the previous unit, the
    #: whole months spent there this year, and its written opinion (None: not given yet)
    transferred_from: str | None = None
    months_at_previous: int | None = None
    previous_unit_opinion: bool | None = None


@attrs.frozen(kw_only=True)
class MeetingMember:
    """A member of the council (thành viên hội đồng / cụm) at the meeting that voted."""

    id: str
    name: str
    position: str = ""
    unit: str | None = None         # a unit of the cluster the member represents
    present: bool = True
    written: str = ""               # an absent member's written opinion (ý kiến bằng văn bản)


@attrs.frozen(kw_only=True)
class Meeting:
    """The facts of the council's meeting (biên bản họp), from the data's optional ``[meeting]``.

    They are recorded in the documents only: no score, rank or decision reads them."""

    date: str = ""                  # ISO date, YYYY-MM-DD
    start: str = ""                 # HH:MM
    end: str = ""                   # HH:MM
    venue: str = ""
    place: str = ""                 # the place name of the date line (địa danh)
    chair: str | None = None        # member id
    secretary: str | None = None    # member id
    authority: str = ""             # the body above the cluster (cơ quan chủ quản)
    recipient: str = ""             # to whom the proposal goes (kính gửi)
    minutes_number: str = ""
    proposal_number: str = ""
    content: str = ""               # a summary of the proceedings
    members: tuple[MeetingMember, ...] = ()


@attrs.frozen(kw_only=True)
class Cluster:
    """An emulation cluster (cụm / khối thi đua) and its year."""

    id: str
    name: str
    year: int
    leader: str | None = None
    deputy: str | None = None
    rotation: tuple[str, ...] = ()
    units: tuple[Unit, ...] = ()
    ballots: tuple[Ballot, ...] = ()
    history: tuple[HistoryRecord, ...] = ()
    discipline: tuple[DisciplineRecord, ...] = ()
    deferrals: tuple[Deferral, ...] = ()
    people: tuple[Person, ...] = ()
    #: ``[plugin_data.<plugin>]`` sections, deeply read-only, keyed by plugin name.
    plugin_data: Mapping[str, Any] = attrs.field(factory=frozen_mapping)
    #: the meeting's facts (``[meeting]``), for the documents only; None when not given
    meeting: Meeting | None = None
    #: ``[[scores]]``: the scores given in the policy's layers, sorted (see layers.py).
    scores: tuple[LayerScore, ...] = ()


@attrs.frozen(kw_only=True)
class LayerScore:
    """One scorer's score of one criterion of one unit in a scoring layer (``[[scores]]``)."""

    layer: str
    unit: str
    criterion: str
    score: Decimal
    scorer: str = ""
    reason: str = ""
    third: bool = False
    #: where it was given (data file, key path), for the errors found while scoring
    file: str = attrs.field(default="", eq=False, repr=False)
    path: str = attrs.field(default="", eq=False, repr=False)


@attrs.frozen(kw_only=True)
class Dataset:
    """One or many clusters, as loaded from a data file."""

    file: str
    sha256: str
    clusters: tuple[Cluster, ...]
