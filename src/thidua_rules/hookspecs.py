"""Hook specifications: the extension points of thidua_rules, documented as pytest documents its hooks."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .expressions import FunctionSpec
    from .extensions import MethodSpec, TitleCheckSpec

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
    (stage 30); quotas are applied afterwards, per cluster, in rank order.

    .. versionadded:: 0.1
    """
