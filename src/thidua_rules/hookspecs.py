"""Hook specifications: the extension points of thidua_rules, documented as pytest documents its hooks.

Every hook, and everything a plugin registers, is called behind one boundary (``plugins.py``): an
exception, ``sys.exit``, a hang past ``[policy] plugin_timeout``, a result of the wrong type or a
number that is not a finite, bounded ``Decimal`` is one error line naming the plugin and the hook
(docs/plugins.md, "Faults").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from collections.abc import Mapping
    from decimal import Decimal
    from typing import Any

    from .expressions import FunctionSpec
    from .extensions import MethodSpec, PolicyContext, TitleCheckSpec
    from .model import Cluster, Criterion, Unit, Value

#: Marker for hook specifications (used only in this module).
hookspec = pluggy.HookspecMarker("thidua_rules")
#: Marker plugins put on their hook implementations: ``from thidua_rules import hookimpl``.
hookimpl = pluggy.HookimplMarker("thidua_rules")


@hookspec
def register_criterion_methods(register: Callable[[MethodSpec], None]) -> None:
    """Contribute scoring methods that ``[[criteria]]`` name in ``method = "..."``.

    Called once per policy load, before any criterion is compiled, for every loaded plugin in
    sorted plugin-name order.

    :param register: Call ``register(MethodSpec(...))`` once per method. A method name that
        another plugin already registered is an error naming both plugins.
    :returns: Nothing; contributions go through ``register``.

    Determinism: a method's scorer must depend only on the unit's values it is given.

    Example::

        @hookimpl
        def register_criterion_methods(register):
            register(MethodSpec(name="per_item", keys={"value": True, "each": True},
                                compile=compile_per_item, doc="points per counted item"))

    .. versionadded:: 0.1
    """


@hookspec
def register_functions(register: Callable[[FunctionSpec], None]) -> None:
    """Contribute functions callable from policy expressions (``when``, ``formula``, ``gate``).

    Called once per policy load, before any expression is compiled, in sorted plugin-name order.

    :param register: Call ``register(FunctionSpec(...))`` once per function. Only registered
        functions can be called from a policy: this is the expression allow-list. A duplicate
        name is an error naming both plugins.
    :returns: Nothing; contributions go through ``register``.

    Determinism: functions must be pure functions of their arguments (and, for history
    functions, of the unit's recorded history).

    Example::

        @hookimpl
        def register_functions(register):
            register(FunctionSpec(name="share", impl=lambda a, b: a / b,
                                  params=("number", "number"), returns="number"))

    .. versionadded:: 0.1
    """


@hookspec
def register_title_checks(register: Callable[[TitleCheckSpec], None]) -> None:
    """Contribute per-unit title conditions and the ``[[titles]]`` keys that configure them.

    Called once per policy load. For every title, each check's ``compile`` is offered the title's
    table and returns a runner, or ``None`` when the title does not use it. Runners are applied
    in ``(stage, plugin, name)`` order; the first failing one decides the explanation.

    :param register: Call ``register(TitleCheckSpec(...))`` once per check. A duplicate check
        name or a TOML key claimed by two checks is an error naming both plugins.
    :returns: Nothing; contributions go through ``register``.

    The built-in checks are ``requires`` (stage 10), ``when`` (stage 20) and ``votes``
    (stage 30); plugin vetoes (``veto_title``) are stage 40; quotas are applied afterwards, per
    cluster, in rank order.

    A runner's ``reason`` is a text or a :class:`~thidua_rules.Reason` (a message code with its
    parameters), whose English and Vietnamese texts the check registers in
    ``TitleCheckSpec(messages={"en": {...}, "vi": {...}})``; the result then carries the code
    and params beside the English text (docs/plugins.md, "Reasons and messages").

    Determinism: a runner must depend only on the :class:`~thidua_rules.TitleView` it is given.

    Example::

        @hookimpl
        def register_title_checks(register):
            def compile_min_done(table, ctx):
                if "min_done" not in table:
                    return None          # this title does not use the check
                floor = table["min_done"]
                return lambda view: (view.env["done"] >= floor, f"done below {floor}", {})
            register(TitleCheckSpec(name="min_done", stage=35, keys={"min_done": "integer"},
                                    compile=compile_min_done))

    .. versionadded:: 0.1
    .. versionchanged:: 0.2 a runner may return a ``Reason``; ``TitleCheckSpec.messages``.
    """


@hookspec
def register_messages(register: Callable[[Mapping[str, Mapping[str, str]]], None]) -> None:
    """Contribute the texts of the plugin's own message codes, by language, for the reasons its
    run-time hooks return as :class:`~thidua_rules.Reason` (a band cap's, a veto's).

    Called once per policy load. A ``cap_band`` or ``veto_title`` implementation that returns a
    ``Reason("cand.head_disciplined", {...})`` instead of a text gets its English text (the
    result's ``reason``) from the ``"en"`` messages here, and its Vietnamese text in the reports
    from the ``"vi"`` ones, exactly as a title check's ``TitleCheckSpec(messages=...)``.

    :param register: Call ``register({"en": {code: template}, "vi": {code: template}})``; a
        template's ``{name}`` fields are the reason's params. A code the core catalogue has, or
        one another plugin registers, is an error naming the plugins.
    :returns: Nothing; contributions go through ``register``.

    Determinism: the texts are data; they depend on nothing.

    Example::

        @hookimpl
        def register_messages(register):
            register({"en": {"cand.capped": "head disciplined: at most {band}"},
                      "vi": {"cand.capped": "thủ trưởng bị kỷ luật: xếp loại tối đa {band}"}})

    .. versionadded:: 0.3
    """


@hookspec
def validate_policy_section(
    section: Mapping[str, Any], policy: PolicyContext, report: Callable[[str, str], None]
) -> None:
    """Check the policy's ``[plugin.<name>]`` table, the section this plugin owns.

    Called once per policy load, after every other section is compiled, for each loaded plugin
    in sorted plugin-name order; each plugin gets only its own section (an empty mapping when
    the policy has none, so a plugin can insist on a key). The same section, unchanged, is the
    ``config`` of this plugin's run-time hooks.

    :param section: The plugin's own ``[plugin.<name>]`` table, deeply read-only (tables are
        mappings, arrays tuples, numbers ``Decimal`` or ``int``).
    :param policy: What the section may refer to: input fields, derived inputs of this plugin,
        criteria, bands (highest first) and titles (:class:`~thidua_rules.PolicyContext`).
    :param report: ``report(key, message)`` records one problem at ``plugin.<name>.<key>``
        (``key=""`` for the section itself). Report every problem; the loader prints them all
        with the rest of the file's problems, one line each.
    :returns: Nothing; problems go through ``report``.

    Result rule: every implementation is called. Determinism: look only at ``section`` and
    ``policy``. A plugin that raises gets one issue naming the plugin and the hook.

    Example::

        @hookimpl
        def validate_policy_section(section, policy, report):
            for key in sorted(set(section) - {"band_caps"}):
                report(key, f"unknown key '{key}'")

    .. versionadded:: 0.2
    """


@hookspec
def validate_plugin_data(
    section: Mapping[str, Any], cluster: Cluster, config: Mapping[str, Any],
    report: Callable[[str, str], None],
) -> None:
    """Check the data file's ``[plugin_data.<name>]`` table of one cluster.

    Called once per cluster while the data file is loaded, after the cluster's units are
    checked, for each loaded plugin in sorted plugin-name order (with an empty mapping when the
    cluster has no section for it). The section is later the ``data`` of ``derive_inputs``.

    :param section: The plugin's own ``plugin_data`` table for this cluster, deeply read-only.
    :param cluster: The cluster as loaded (its ``units`` give the known unit ids), read-only.
    :param config: The plugin's ``[plugin.<name>]`` policy section (empty mapping if none).
    :param report: ``report(key, message)`` records one problem at
        ``plugin_data.<name>.<key>`` of the cluster; every problem of the file is printed at once.
    :returns: Nothing; problems go through ``report``.

    Result rule: every implementation is called. Determinism: look only at the arguments.

    Example::

        @hookimpl
        def validate_plugin_data(section, cluster, config, report):
            ids = {u.id for u in cluster.units}
            for unit_id in sorted(set(section.get("scores", {})) - ids):
                report(f"scores.{unit_id}", f"unknown unit '{unit_id}'")

    .. versionadded:: 0.2
    """


@hookspec
def derive_inputs(  # type: ignore[empty-body]  # a specification: pluggy never calls its body
    unit: Unit, env: Mapping[str, Value], names: tuple[str, ...],
    data: Mapping[str, Any], config: Mapping[str, Any],
) -> Mapping[str, Value]:
    """Compute the unit's derived inputs before any criterion is scored.

    Called once per unit, before scoring, for each loaded plugin that the policy's ``[inputs]``
    names in ``plugin = "<name>"``, in sorted plugin-name order; a later plugin sees the values
    of an earlier one in ``env``. The policy declares every derived input (type, bounds) so
    that expressions using it are name- and type-checked at load time.

    :param unit: The unit (frozen; ``unit.values`` holds its data-file inputs).
    :param env: Read-only names visible so far: the inputs, ``year`` and earlier derived inputs.
    :param names: The inputs the policy declares with ``plugin = "<this plugin>"``, sorted;
        the result must hold exactly these.
    :param data: This plugin's ``[plugin_data.<name>]`` section of the unit's cluster (empty
        mapping if none), deeply read-only.
    :param config: The plugin's ``[plugin.<name>]`` policy section (empty mapping if none).
    :returns: A mapping of each name in ``names`` to its value: ``Decimal`` for ``integer``
        and ``decimal`` inputs (never ``float`` or ``int``), ``bool`` for ``boolean``, ``str``
        for ``enum`` and ``text``. Values are checked against the declared type and bounds.

    Result rule: all implementations are called; a name can only be declared for one plugin.
    Determinism: depend only on the arguments; the explanation lists each derived value with
    the plugin that produced it.

    Example::

        @hookimpl
        def derive_inputs(unit, env, names, data, config):
            return {"share_advanced": env["members_advanced"] / env["members"]}

    .. versionadded:: 0.2
    """


@hookspec(firstresult=True)
def score_criterion(
    unit: Unit, criterion: Criterion, env: Mapping[str, Value], config: Mapping[str, Any],
) -> tuple[Decimal, Mapping[str, Any]] | None:
    """Score one criterion for one unit in place of its method (a unit-specific override).

    Called for each unit and each criterion whose policy entry says ``override = "<name>"``,
    and only on that plugin: the policy declares who owns the criterion, so no two plugins
    ever compete and registration order never matters. Not called when the criterion's gate
    fails.

    :param unit: The unit being scored (frozen).
    :param criterion: The criterion as loaded from the policy (frozen): ``id``, ``points``,
        ``method``.
    :param env: Read-only names visible to the criterion: inputs, derived inputs and ``year``.
    :param config: The plugin's ``[plugin.<name>]`` policy section (empty mapping if none).
    :returns: ``None`` to defer to the criterion's method, or ``(points, facts)``: the raw
        ``Decimal`` points (clamped to ``[0, points]`` and rounded like any method's) and a
        mapping of plain facts (Decimal, int, str, bool, or lists of them) shown in the explanation.

    Result rule: first result (only the owner is called). Determinism: depend only on the
    arguments; the explanation names the plugin as ``override``.

    Example::

        @hookimpl
        def score_criterion(unit, criterion, env, config):
            if unit.id in config.get("exempt", ()):
                return criterion.points, {"reason": "exempt by decision 12/QD"}
            return None

    .. versionadded:: 0.2
    """


@hookspec
def cap_band(
    unit: Unit, env: Mapping[str, Value], bands: tuple[str, ...], config: Mapping[str, Any],
) -> tuple[str, str] | None:
    """Set a ceiling on the unit's classification band (e.g. for a disciplined head).

    Called once per unit after its total is known and before its band is chosen, for each
    loaded plugin in sorted plugin-name order. The unit then gets the first band, at or below
    the lowest ceiling returned, whose ``min`` it reaches and whose ``when`` holds.

    :param unit: The unit (frozen).
    :param env: Read-only scores and inputs: everything a band's ``when`` can read.
    :param bands: The policy's band ids, highest first.
    :param config: The plugin's ``[plugin.<name>]`` policy section (empty mapping if none).
    :returns: ``None`` for no ceiling, or ``(band_id, reason)``: the highest band the unit may
        have and why, e.g. ``("tot", "head reprimanded (khiển trách)")``. The reason may be a
        :class:`~thidua_rules.Reason` whose code's texts the plugin gives in
        ``register_messages``: the result then carries its code and params, and the reports
        speak the reader's language.

    Result rule: all implementations are called; the lowest ceiling wins, whatever the order.
    Determinism: depend only on the arguments; every ceiling is in the explanation.

    Example::

        @hookimpl
        def cap_band(unit, env, bands, config):
            if env["head_discipline"] == "canh_cao":
                return "hoan_thanh", "head warned (cảnh cáo)"
            return None

    .. versionadded:: 0.2
    .. versionchanged:: 0.3 the reason may be a ``Reason`` (texts from ``register_messages``).
    """


@hookspec
def veto_title(
    unit: Unit, title: str, env: Mapping[str, Value], config: Mapping[str, Any],
) -> str | None:
    """Veto one title for one unit, with a reason (a check the TOML cannot express).

    Called for each title and unit after the title's own checks (``requires``, ``when``,
    ``votes``) pass and before its quota, for each loaded plugin in sorted plugin-name order;
    it is a title check named ``veto`` (stage 40) owned by the plugin.

    :param unit: The unit (frozen).
    :param title: The title id.
    :param env: Read-only names a title's ``when`` can read (scores, band, rank, inputs).
    :param config: The plugin's ``[plugin.<name>]`` policy section (empty mapping if none).
    :returns: ``None`` to let the title through, or a non-empty reason, which the explanation
        shows with the plugin's name.

    Result rule: all implementations are called until one vetoes; any veto fails the title.
    Determinism: depend only on the arguments.

    Example::

        @hookimpl
        def veto_title(unit, title, env, config):
            if title == "co_thi_dua_bca" and env["under_inspection"]:
                return "under inspection (ND152 Art. 4 k4)"
            return None

    .. versionadded:: 0.2
    """
