"""Plugin manager: built-in plugins, the entry points a policy names, sorted calls and provenance."""

from __future__ import annotations

import decimal
import functools
import importlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType, ModuleType
from typing import Any

import attrs
import pluggy

from . import hookspecs
from .decimals import MAX_WHOLE_DIGITS
from .errors import EvaluationError, ExpressionRuntimeError, PluginError, ThiduaError
from .expressions import FunctionSpec
from .extensions import MethodSpec, TitleCheckSpec
from .messages import LANGUAGES, Reason, with_text
from .model import Criterion, InputField, PluginInfo, Unit
from .timelimit import DEFAULT_LIMIT, MAX_LIMIT, PluginTimeout, guarded_call, nested
from .tomlfmt import escaped
from .version import engine_version as engine_version  # public here since 0.1 (thidua_rules.engine_version)
from .version import own_distribution

ENTRY_POINT_GROUP = "thidua_rules"

#: Built-in plugins, registered under these names in every manager.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "thidua_rules.builtin.functions",
    "thidua_rules.builtin.methods",
    "thidua_rules.builtin.titles",
)


class PluginManager(pluggy.PluginManager):
    """A pluggy manager that also remembers the distribution and version of each entry point."""

    def __init__(self) -> None:
        super().__init__(ENTRY_POINT_GROUP)
        #: plugin name → (distribution, version), for plugins loaded from entry points.
        self.distributions: dict[str, tuple[str, str]] = {}


def make_plugin_manager(
    *,
    names: Sequence[str] = (),
    extra: Iterable[tuple[str, object]] = (),
) -> pluggy.PluginManager:
    """A fresh manager with the built-ins, the named entry points and ``extra`` (tests).

    Only the entry points in ``names`` are loaded, so installing an unrelated plugin can never
    change a result. A plugin in ``extra`` stands in for the entry point of the same name (tests
    of a plugin that is also installed). Registration order does not matter: every call goes
    through :func:`sorted_impls`, which orders implementations by plugin name.
    """
    extra = tuple(extra)
    pm = PluginManager()
    pm.add_hookspecs(hookspecs)
    for dotted in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(dotted), name=dotted)
    if names:
        from importlib import metadata  # only for a policy that names plugins (it costs milliseconds)

        available = {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
        for name in sorted(set(names) - {n for n, _ in extra}):
            ep = available.get(name)
            if ep is None:
                raise PluginError(
                    "the policy needs it but it is not installed; install the distribution "
                    f"that provides entry point '{name}' in group '{ENTRY_POINT_GROUP}' "
                    f"(for example: pip install thidua-{name}, or pip install -e "
                    f"plugins/thidua-{name} from a source tree)",
                    plugin=name,
                )
            try:
                module = ep.load()
            except Exception as exc:  # a broken plugin must not show a traceback
                raise PluginError(f"failed to import: {type(exc).__name__}: {exc}", plugin=name) from exc
            pm.register(module, name=name)
            if ep.dist is not None:
                pm.distributions[name] = (ep.dist.name, ep.dist.version)
    for name, plugin in extra:
        if pm.has_plugin(name):
            raise PluginError("is given twice; register each plugin under one name", plugin=name)
        try:
            pm.register(plugin, name=name)
        except ValueError as exc:  # pluggy: the same object under a second name
            raise PluginError(str(exc), plugin=name) from exc
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(str(exc), plugin=getattr(exc.plugin, "__name__", None)) from exc
    return pm


def sorted_impls(pm: pluggy.PluginManager, hook_name: str) -> list[Any]:
    """The implementations of a hook, ordered by plugin name (never by registration order)."""
    hook = getattr(pm.hook, hook_name)
    return sorted(hook.get_hookimpls(), key=lambda impl: impl.plugin_name)


def collect(pm: pluggy.PluginManager, hook_name: str, what: str, *, file: str = "<policy>",
            limit: Decimal = DEFAULT_LIMIT) -> dict[str, Any]:
    """Call a ``register_*`` hook on every plugin in sorted order and gather named contributions.

    Each contribution gets its plugin's name in ``.plugin``; a name given twice is an error
    naming both plugins. What a plugin (not a built-in) contributes is wrapped by
    :func:`guard_spec`, so that its faults become one error line naming the plugin.
    """
    kind = _SPEC_KINDS[hook_name]
    gathered: dict[str, Any] = {}
    for impl in sorted_impls(pm, hook_name):
        def register(spec: Any, _plugin: str = impl.plugin_name) -> None:
            if not isinstance(spec, kind):
                raise PluginFault(f"registered {describe(spec)}, expected a {kind.__name__}")
            if spec.name in gathered:
                raise PluginFault(
                    f"{what} '{spec.name}' is registered by both '{gathered[spec.name].plugin}' "
                    f"and '{_plugin}'"
                )
            if isinstance(spec, TitleCheckSpec):
                problem = messages_fault(spec.messages)
                if problem:
                    raise PluginFault(f"title check '{spec.name}': {problem}")
            spec = attrs.evolve(spec, plugin=_plugin)
            gathered[spec.name] = spec if _plugin in DEFAULT_PLUGINS else guard_spec(spec, file, limit)

        try:
            invoke_checker(impl, {"register": register}, limit=limit, goes="contributions go through register")
        except PluginFault as exc:
            error = PluginError(f"plugin '{impl.plugin_name}' hook '{hook_name}': {exc.message}")
            error.plugin = impl.plugin_name
            raise error from None
    return dict(sorted(gathered.items()))


def collect_messages(pm: pluggy.PluginManager, *, limit: Decimal = DEFAULT_LIMIT) -> dict[str, dict[str, dict[str, str]]]:
    """Call ``register_messages`` on every plugin in sorted order: plugin → language → code →
    template. Texts in an unknown language, a code of the core catalogue or a code two plugins
    give are a :class:`PluginError` naming the plugin and the hook."""
    from .messages import catalogue

    owner: dict[str, str] = {}
    gathered: dict[str, dict[str, dict[str, str]]] = {}
    for impl in sorted_impls(pm, "register_messages"):
        plugin = impl.plugin_name

        def register(messages: Any, _plugin: str = plugin) -> None:
            problem = messages_fault(messages)
            if problem:
                raise PluginFault(problem)
            mine = gathered.setdefault(_plugin, {})
            for lang, texts in sorted(messages.items()):
                for code, text in sorted(texts.items()):
                    if code in catalogue("en"):
                        raise PluginFault(f"the code '{code}' is one of the engine's; give the plugin's codes "
                                          f"a prefix of its own ('{_plugin}.{code}')")
                    if owner.setdefault(code, _plugin) != _plugin:
                        raise PluginFault(f"the code '{code}' is registered by both '{owner[code]}' and '{_plugin}'")
                    mine.setdefault(lang, {})[code] = text

        try:
            invoke_checker(impl, {"register": register}, limit=limit, goes="contributions go through register")
        except PluginFault as exc:
            error = PluginError(f"plugin '{plugin}' hook 'register_messages': {exc.message}")
            error.plugin = plugin
            raise error from None
    return dict(sorted(gathered.items()))


def messages_fault(messages: Any) -> str:
    """What is wrong with a title check's ``messages``, or ``""``: a mapping of languages
    (``en``, ``vi``) to mappings of codes to templates, all str."""
    if not isinstance(messages, Mapping):
        return f"messages is {describe(messages)}, expected {{'en': {{code: text}}, 'vi': {{...}}}}"
    for lang, texts in messages.items():
        if lang not in LANGUAGES:
            return f"messages has the language {describe(lang)}, expected one of {', '.join(LANGUAGES)}"
        if not isinstance(texts, Mapping) or not all(isinstance(k, str) and isinstance(v, str)
                                                     for k, v in texts.items()):
            return f"messages['{lang}'] must map str codes to str texts"
    return ""


def claimed_twice(key: str, first: Any, second: Any) -> str:
    """The line for a ``[[titles]]`` key that two title checks claim."""
    first, second = sorted((first, second), key=lambda spec: (spec.plugin, spec.name))
    if first.plugin == second.plugin:
        return (f"plugin '{first.plugin}': title checks '{first.name}' and '{second.name}' both "
                f"claim the [[titles]] key '{key}'")
    return (f"plugins '{first.plugin}' and '{second.plugin}' both claim the [[titles]] key '{key}' "
            f"(title checks '{first.name}' and '{second.name}'); a key can have one owner only")


def plugin_time_limit(issues: Any, value: Any) -> Decimal:
    """``[policy] plugin_timeout``: seconds one plugin call may take (checked, or the default)."""
    if value is None:
        return DEFAULT_LIMIT
    number = Decimal(value)
    if not number.is_finite() or not Decimal(0) < number <= MAX_LIMIT:
        issues.add("policy.plugin_timeout", f"expected a number of seconds above 0 and at most "
                   f"{MAX_LIMIT}, got {shown(number) if number.is_finite() else number}")
        return DEFAULT_LIMIT
    return number


def plugin_info(pm: pluggy.PluginManager) -> tuple[PluginInfo, ...]:
    """Name, distribution, version and contributed hooks of every registered plugin, sorted."""
    hooks_by_plugin: dict[str, list[str]] = {}
    for hook_name in sorted(name for name in dir(pm.hook) if not name.startswith("_")):
        for impl in getattr(pm.hook, hook_name).get_hookimpls():
            hooks_by_plugin.setdefault(impl.plugin_name, []).append(hook_name)
    infos = []
    for name, hooks in sorted(hooks_by_plugin.items()):
        plugin = pm.get_plugin(name)
        known = getattr(pm, "distributions", {}).get(name)
        dist, version = known if known else _distribution_of(plugin)
        infos.append(PluginInfo(name=name, distribution=dist, version=version, hooks=tuple(sorted(hooks))))
    return tuple(infos)


def _distribution_of(plugin: object) -> tuple[str, str]:
    module_name = plugin.__name__ if isinstance(plugin, ModuleType) else type(plugin).__module__
    top = module_name.split(".")[0]
    if top == __name__.split(".")[0]:  # the built-ins: the engine's own distribution, no scan
        return _own_distribution()
    dists = _packages_distributions().get(top, [])
    if not dists:
        return ("unversioned", "0")
    dist = sorted(dists)[0]
    return (dist, _version_of(dist))


@functools.cache
def _version_of(dist: str) -> str:
    """A distribution's version, read from its metadata once per process ("0" if not found)."""
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "0"


def _own_distribution() -> tuple[str, str]:
    """The engine's distribution and version, read by name: what :func:`_packages_distributions`
    says for ``thidua_rules`` (``unversioned`` from a source tree), without listing the files
    of every installed distribution (tens of milliseconds on each run of a policy)."""
    return own_distribution() or ("unversioned", "0")


@functools.cache
def _packages_distributions() -> dict[str, list[str]]:
    from importlib import metadata

    return dict(metadata.packages_distributions())


# ---------------------------------------------------------------- run-time hooks, fault isolation

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def loaded_plugins(pm: pluggy.PluginManager) -> tuple[str, ...]:
    """Names of the plugins a policy loaded (entry points and ``extra``), built-ins left out, sorted."""
    return tuple(sorted(name for name, _ in pm.list_name_plugin() if name not in DEFAULT_PLUGINS))


def implementers(pm: pluggy.PluginManager, hook_name: str) -> dict[str, Any]:
    """Plugin name → its implementation of ``hook_name``, in sorted plugin-name order."""
    return {impl.plugin_name: impl for impl in sorted_impls(pm, hook_name)}


class PluginFault(Exception):
    """A plugin broke its contract; ``message`` says how (turned into a one-line error)."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def describe(value: Any) -> str:
    """A returned value in an error message: its Python type, and the value for scalars."""
    if value is None:
        return "None"
    if isinstance(value, Decimal):
        return f"Decimal {shown(value)}"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**_SHOWN_MAX:
        # str() of an int past 4300 digits raises; the size is what the reader needs
        return f"int of about {int(value.bit_length() * 0.30103) + 1} digits"
    if isinstance(value, bool | int | float | str):
        text = repr(value) if isinstance(value, str) else str(value)
        return f"{type(value).__name__} {_short(escaped(text))}"
    return type(value).__name__


def _mutation(exc: BaseException, text: str) -> bool:
    """Whether ``exc`` (with message ``text``) is what Python raises on writing to a read-only input."""
    if isinstance(exc, attrs.exceptions.FrozenInstanceError):
        return True
    if isinstance(exc, TypeError):
        return "does not support item assignment" in text or "does not support item deletion" in text
    if isinstance(exc, AttributeError):
        return text.startswith(("'mappingproxy' object has no attribute", "'tuple' object has no attribute"))
    return False


#: What a plugin may raise that is not its fault to report: an interrupt stays an interrupt.
_INTERRUPTS = (KeyboardInterrupt, GeneratorExit)


def run_guarded(fn: Callable[..., Any], args: tuple[Any, ...], limit: Decimal = DEFAULT_LIMIT,
                passthrough: tuple[type[BaseException], ...] = (),
                normalize: Callable[[Any], Any] | None = None) -> Any:
    """``fn(*args)`` of plugin code, under the time limit; anything it raises (``sys.exit``
    included) except ``passthrough`` and interrupts becomes a :class:`PluginFault`.

    ``normalize(result)`` runs inside the same boundary: it copies what the plugin returned into
    plain tuples and dicts, so that a result's own code (a Mapping subclass whose ``items`` raises
    or never ends) is the plugin's fault too, not a traceback after the call.
    """
    seconds = float(limit)
    call = fn if normalize is None else (lambda *a: normalize(fn(*a)))
    try:
        return guarded_call(seconds, call, args)
    except _INTERRUPTS:
        raise
    except passthrough:
        raise
    except PluginTimeout:
        if nested():  # the outermost plugin call is the one that ran too long
            raise
        raise PluginFault(f"did not return within {plain_number(limit)} s (the time limit of one plugin "
                          "call; [policy] plugin_timeout sets it)") from None
    except PluginFault:
        raise
    except ThiduaError as exc:
        raise PluginFault(_text(exc)) from exc
    except SystemExit as exc:
        code = "" if exc.code is None else f": {_short(escaped(repr(exc.code)))}"
        raise PluginFault(f"tried to end the program (SystemExit{code}); a plugin must raise an "
                          "exception instead") from None
    except BaseException as exc:
        text = _text(exc)
        detail = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
        if _mutation(exc, text):
            raise PluginFault(f"tried to change its inputs, which are read-only ({detail})") from exc
        raise PluginFault(f"raised {detail}") from exc


def invoke(impl: Any, kwargs: Mapping[str, Any], *, limit: Decimal = DEFAULT_LIMIT,
           normalize: Callable[[Any], Any] | None = None) -> Any:
    """Call one hook implementation; anything it raises becomes a :class:`PluginFault`."""
    return run_guarded(impl.function, tuple(kwargs[name] for name in impl.argnames), limit,
                       normalize=normalize)


def invoke_checker(impl: Any, kwargs: Mapping[str, Any], *, limit: Decimal = DEFAULT_LIMIT,
                   goes: str = "problems go through report") -> None:
    """Call a hook that returns nothing (``register_*``, ``validate_*``): a result other than
    ``None`` is a fault too (a validator returning ``False`` would otherwise pass silently)."""
    result = run_guarded(impl.function, tuple(kwargs[name] for name in impl.argnames), limit)
    if result is not None:
        raise PluginFault(f"returned {describe(result)}, expected None ({goes})")


# ---------------------------------------------------------------- numbers from plugins

#: A number a plugin returns has at most ``decimals.MAX_WHOLE_DIGITS`` digits before the point (the
#: bound of every number the engine reads) and at most this many after it (trailing zeros not
#: counted): more than a division in the engine's 50-digit context leaves, far fewer than would
#: make an output or a message huge.
MAX_PLUGIN_PLACES = 100
#: A value shown in a message is cut to about this many characters.
_SHOWN_MAX = 60


#: An exception's message in an error line is cut to this many characters.
_MESSAGE_MAX = 200


def _short(text: str, limit: int = _SHOWN_MAX) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _text(exc: BaseException) -> str:
    """An exception's message for an error line: printable, bounded, and never itself a crash
    (a plugin's exception class may have a ``__str__`` that raises)."""
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - any failure of the plugin's own __str__
        return "(its message cannot be shown)"
    return _short(escaped(text), _MESSAGE_MAX)


def plain_pair(result: Any) -> Any:
    """``(points, facts)`` as a tuple and a dict (anything else unchanged, checked later)."""
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], Mapping):
        return (result[0], dict(result[1]))
    return result


def plain_triple(result: Any) -> Any:
    """``(passed, reason, seen)`` as a tuple with a dict."""
    if isinstance(result, tuple) and len(result) == 3 and isinstance(result[2], Mapping):
        return (result[0], result[1], dict(result[2]))
    return result


def plain_mapping(result: Any) -> Any:
    """A mapping a plugin returned, as a dict."""
    return dict(result) if isinstance(result, Mapping) else result


def plain_number(value: Decimal) -> str:
    """A time limit as a message shows it (``10``, ``0.5``)."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def shown(value: Decimal) -> str:
    """A Decimal in a message: its text when short, else its first digits and exponent."""
    text = str(value)
    if len(text) <= 24:
        return text
    sign, digits, _exp = value.as_tuple()
    head = "".join(map(str, digits[:6]))
    return f"{'-' if sign else ''}{head[0]}.{head[1:]}…E{value.adjusted():+d}"


def number_fault(value: Decimal) -> str:
    """What is wrong with a Decimal a plugin returned, or ``""``: not finite, or out of bounds."""
    if not value.is_finite():
        return f"{value}, expected a finite Decimal"
    if not value:
        return ""
    if value.adjusted() >= MAX_WHOLE_DIGITS:
        return f"{shown(value)}, out of bounds: at most {MAX_WHOLE_DIGITS} digits before the point"
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_PLUGIN_PLACES and \
            value.normalize().as_tuple().exponent < -MAX_PLUGIN_PLACES:  # type: ignore[operator]
        return f"{shown(value)}, out of bounds: at most {MAX_PLUGIN_PLACES} digits after the point"
    return ""


def decimal_fault(value: Any) -> str:
    """What is wrong with ``value`` where a Decimal is due (``"returned ..."`` text), or ``""``."""
    if isinstance(value, bool) or not isinstance(value, Decimal):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return f"{describe(value)}; numbers must be Decimal, never float or int"
        return f"{describe(value)}, expected a Decimal"
    problem = number_fault(value)
    return f"Decimal {problem}" if problem else ""


def facts_fault(facts: Mapping[Any, Any], what: str = "facts") -> str:
    """What is wrong with the facts (or ``seen``) a plugin returned, or ``""``: each key a str,
    each value plain (a finite, bounded Decimal, a bounded int, a str or a bool) or a list of
    plain values, so that the explanation is exact and the same in every run (no float, no
    object's address)."""
    for key, value in facts.items():
        if not isinstance(key, str):
            return f"returned {what} with key {describe(key)}, expected str keys"
        items = value if isinstance(value, list | tuple) else (value,)
        for item in items:
            problem = _plain_fault(item)
            if problem:
                return f"returned {what} '{_short(escaped(key))}': {problem}"
    return ""


def _plain_fault(value: Any) -> str:
    if isinstance(value, bool | str):
        return ""
    if isinstance(value, int):
        if -10**MAX_WHOLE_DIGITS < value < 10**MAX_WHOLE_DIGITS:
            return ""
        return f"int out of bounds: at most {MAX_WHOLE_DIGITS} digits"
    if isinstance(value, Decimal):
        problem = number_fault(value)
        return f"Decimal {problem}" if problem else ""
    return f"{describe(value)}, expected a plain value (Decimal, int, str or bool, or a list of them)"


# ---------------------------------------------------------------- what plugins contribute

_SPEC_KINDS: dict[str, type[Any]] = {"register_functions": FunctionSpec,
                                  "register_criterion_methods": MethodSpec,
                                  "register_title_checks": TitleCheckSpec}


def _returns_fault(kind: str, value: Any) -> str:
    if kind == "number":
        return decimal_fault(value)
    if kind == "bool":
        return "" if isinstance(value, bool) else f"{describe(value)}, expected a bool"
    if kind == "text":
        return "" if isinstance(value, str) else f"{describe(value)}, expected a str"
    return "" if isinstance(value, tuple | list | frozenset) else f"{describe(value)}, expected a list"


#: What a contributed callable may raise that the engine reports itself: a bad argument to a
#: function (``ValueError``, documented), arithmetic, and errors of expressions it evaluates.
_FUNCTION_ERRORS: tuple[type[BaseException], ...] = (
    ValueError, ZeroDivisionError, decimal.DecimalException, ExpressionRuntimeError, EvaluationError)
_RUNNER_ERRORS: tuple[type[BaseException], ...] = (ExpressionRuntimeError, EvaluationError)


def guard_spec(spec: Any, file: str, limit: Decimal) -> Any:
    """``spec`` with its callables wrapped: a fault of the plugin's code (an exception, an exit, a
    hang, a result of the wrong type, a number that is not a finite, bounded Decimal) becomes one
    error naming the plugin and what it contributed."""
    if isinstance(spec, MethodSpec):
        return attrs.evolve(spec, compile=_guard_compile(spec, "method", file, limit, _guard_scorer))
    if isinstance(spec, TitleCheckSpec):
        return attrs.evolve(spec, compile=_guard_compile(spec, "title check", file, limit,
                                                         functools.partial(_guard_runner, messages=spec.messages)))
    return attrs.evolve(spec, impl=_guard_function(spec, file, limit))


def _guard_compile(spec: Any, kind: str, file: str, limit: Decimal, wrap: Callable[..., Any]) -> Any:
    compile_ = spec.compile
    label = f"plugin '{spec.plugin}' {kind} '{spec.name}'"

    def guarded(table: Any, ctx: Any) -> Any:
        try:
            made = run_guarded(compile_, (table, ctx), limit)
        except PluginFault as exc:
            ctx.issue("", f"{label}: compile {exc.message}")
            return None
        if made is None:
            return None
        if not callable(made):
            ctx.issue("", f"{label}: compile returned {describe(made)}, expected a function or None")
            return None
        return wrap(made, ctx.path, f"{file}: {label}", limit)

    return guarded


def _guard_scorer(scorer: Any, path: str, where: str, limit: Decimal) -> Any:
    def guarded(env: Mapping[str, Any]) -> tuple[Decimal, Mapping[str, Any]]:
        try:
            result = run_guarded(scorer, (MappingProxyType(env),), limit, _RUNNER_ERRORS, plain_pair)
        except PluginFault as exc:
            raise EvaluationError(f"{path}: {exc.message}", where=where) from None
        if not (type(result) is tuple and len(result) == 2 and isinstance(result[1], Mapping)):
            raise EvaluationError(f"{path}: returned {describe(result)}, expected (points, facts)",
                                  where=where)
        problem = decimal_fault(result[0])
        if problem:
            raise EvaluationError(f"{path}: returned points {problem}", where=where)
        problem = facts_fault(result[1])
        if problem:
            raise EvaluationError(f"{path}: {problem}", where=where)
        return result

    return guarded


def _guard_runner(run: Any, path: str, where: str, limit: Decimal,
                  messages: Mapping[str, Mapping[str, str]] | None = None) -> Any:
    def guarded(view: Any) -> tuple[bool, str, Mapping[str, Any]]:
        try:
            result = run_guarded(run, (view,), limit, _RUNNER_ERRORS, plain_triple)
        except PluginFault as exc:
            raise EvaluationError(f"title '{view.title}': {exc.message}", unit=view.unit, where=where) from None
        if not (type(result) is tuple and len(result) == 3 and isinstance(result[0], bool)
                and isinstance(result[1], str) and isinstance(result[2], Mapping)):
            raise EvaluationError(f"title '{view.title}': returned {describe(result)}, expected "
                                  "(passed, reason, seen)", unit=view.unit, where=where)
        problem = facts_fault(result[2], "seen")
        if not problem and isinstance(result[1], Reason):
            problem = facts_fault(result[1].params, "the reason's params")
        if problem:
            raise EvaluationError(f"title '{view.title}': {problem}", unit=view.unit, where=where)
        if messages and isinstance(result[1], Reason):
            return (result[0], with_text(result[1], messages), result[2])
        return result

    return guarded


def _guard_function(spec: Any, file: str, limit: Decimal) -> Any:
    impl, returns = spec.impl, spec.returns
    where = f"{file}: plugin '{spec.plugin}' function '{spec.name}'"

    def guarded(*args: Any) -> Any:
        try:
            result = run_guarded(impl, args, limit, _FUNCTION_ERRORS)
        except PluginFault as exc:
            raise EvaluationError(exc.message, where=where) from None
        problem = _returns_fault(returns, result)
        if problem:
            raise EvaluationError(f"returned {problem}", where=where)
        return result

    return guarded


def with_unit(exc: ThiduaError, unit_id: str) -> ThiduaError:
    """``exc`` naming ``unit_id`` when it is an :class:`EvaluationError` that names no unit yet
    (the fault of a plugin function, which does not know the unit it is called for)."""
    if isinstance(exc, EvaluationError) and not exc.unit:
        return EvaluationError(exc.message, unit=unit_id, where=exc.where)
    return exc


def check_derived(field: InputField, value: Any) -> str:
    """A problem with a derived value of ``field`` (empty when it is fine)."""
    name = field.id
    if field.type in ("integer", "decimal"):
        if isinstance(value, bool) or not isinstance(value, Decimal):
            if isinstance(value, int | float) and not isinstance(value, bool):
                return f"returned {describe(value)} for '{name}'; numbers must be Decimal, never float or int"
            return f"returned {describe(value)} for '{name}', expected a Decimal"
        problem = number_fault(value)
        if problem:
            return f"returned {problem.replace(', ', f' for {name!r}, ', 1)}"
        if field.type == "integer" and value != value.to_integral_value():
            return f"returned {value} for '{name}', expected a whole number"
        if field.min is not None and value < field.min:
            return f"returned {value} for '{name}', below its min {field.min}"
        if field.max is not None and value > field.max:
            return f"returned {value} for '{name}', above its max {field.max}"
        return ""
    if field.type == "boolean":
        return "" if isinstance(value, bool) else f"returned {describe(value)} for '{name}', expected a bool"
    if not isinstance(value, str):
        return f"returned {describe(value)} for '{name}', expected a str"
    if field.type == "enum" and value not in field.values:
        return f"returned {value!r} for '{name}', expected one of {', '.join(field.values)}"
    return ""


@attrs.frozen(kw_only=True)
class Derived:
    """One derived input value and the plugin that produced it (for the explanation)."""

    input: str
    plugin: str
    value: Any


@attrs.frozen(kw_only=True)
class BandCap:
    """A ceiling a plugin put on a unit's band, with its reason."""

    plugin: str
    band: str
    reason: str


class PluginRuntime:
    """Calls the run-time hooks of a policy's plugins, each with its own ``[plugin.<name>]``
    section, in sorted plugin-name order, and turns every contract breach into one
    :class:`~thidua_rules.EvaluationError` naming the plugin, the hook and the unit."""

    def __init__(self, pm: pluggy.PluginManager, *, file: str, config: Mapping[str, Any],
                 derived: Mapping[str, tuple[InputField, ...]], bands: tuple[str, ...],
                 limit: Decimal = DEFAULT_LIMIT,
                 messages: Mapping[str, Mapping[str, Mapping[str, str]]] | None = None) -> None:
        self.file = file
        #: Plugin → language → code → template, from ``register_messages``.
        self.messages: Mapping[str, Mapping[str, Mapping[str, str]]] = messages or {}
        #: The time limit of one plugin call, in seconds (``[policy] plugin_timeout``).
        self.limit = limit
        self.config = config
        self.bands = bands
        derivers = implementers(pm, "derive_inputs")
        self.derivers = tuple((name, derivers[name], derived[name]) for name in sorted(derived)
                              if name in derivers)
        self.scorers = implementers(pm, "score_criterion")
        self.cappers = tuple((n, i) for n, i in implementers(pm, "cap_band").items()
                             if n not in DEFAULT_PLUGINS)
        self.vetoers = tuple((n, i) for n, i in implementers(pm, "veto_title").items()
                             if n not in DEFAULT_PLUGINS)
        #: The plugins the policy loaded, and those of them that check ``[plugin_data.<name>]``.
        self.loaded = loaded_plugins(pm)
        self.data_validators = tuple((n, i) for n, i in implementers(pm, "validate_plugin_data").items()
                                     if n in self.loaded)

    def config_of(self, plugin: str) -> Mapping[str, Any]:
        return self.config.get(plugin, _EMPTY)

    def fault(self, plugin: str, hook: str, unit: str, message: str) -> EvaluationError:
        return EvaluationError(message, unit=unit, where=f"{self.file}: plugin '{plugin}' hook '{hook}'")

    def call(self, plugin: str, impl: Any, hook: str, unit_id: str, what: str = "",
             normalize: Callable[[Any], Any] | None = None, /, **kwargs: Any) -> Any:
        """``impl(**kwargs)``; a fault is an error naming the plugin, ``hook``, the unit and ``what``."""
        try:
            return invoke(impl, kwargs, limit=self.limit, normalize=normalize)
        except PluginFault as exc:
            raise self.fault(plugin, hook, unit_id, what + exc.message) from None

    def derive(self, unit: Unit, env: dict[str, Any], data: Mapping[str, Any]) -> tuple[Derived, ...]:
        """Add every derived input to ``env``; return them for the explanation."""
        out: list[Derived] = []
        for plugin, impl, fields in self.derivers:
            names = tuple(f.id for f in fields)
            result = self.call(plugin, impl, "derive_inputs", unit.id, "", plain_mapping, unit=unit,
                               env=MappingProxyType(dict(env)), names=names,
                               data=data.get(plugin, _EMPTY), config=self.config_of(plugin))
            if not isinstance(result, Mapping):
                raise self.fault(plugin, "derive_inputs", unit.id,
                                 f"returned {describe(result)}, expected a mapping of input names to values")
            for key in sorted(set(result) - set(names), key=str):
                raise self.fault(plugin, "derive_inputs", unit.id,
                                 f"returned '{key}', which the policy does not declare with "
                                 f"plugin = '{plugin}'")
            for field in fields:
                if field.id not in result:
                    raise self.fault(plugin, "derive_inputs", unit.id,
                                     f"did not return '{field.id}', which the policy declares with "
                                     f"plugin = '{plugin}'")
                problem = check_derived(field, result[field.id])
                if problem:
                    raise self.fault(plugin, "derive_inputs", unit.id, problem)
            for field in fields:
                env[field.id] = result[field.id]
                out.append(Derived(input=field.id, plugin=plugin, value=result[field.id]))
        return tuple(out)

    def override(self, unit: Unit, criterion: Criterion,
                 env: Mapping[str, Any]) -> tuple[Decimal, Mapping[str, Any]] | None:
        """The owner's score for this criterion, or ``None`` to defer to the method."""
        plugin = criterion.override
        assert plugin is not None
        where = f"criterion '{criterion.id}': "
        result = self.call(plugin, self.scorers[plugin], "score_criterion", unit.id, where, plain_pair,
                           unit=unit,
                           criterion=criterion, env=MappingProxyType(dict(env)),
                           config=self.config_of(plugin))
        if result is None:
            return None
        if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], Mapping)):
            raise self.fault(plugin, "score_criterion", unit.id,
                             f"{where}returned {describe(result)}, expected None or (points, facts)")
        problem = decimal_fault(result[0])
        problem = f"returned points {problem}" if problem else facts_fault(result[1])
        if problem:
            raise self.fault(plugin, "score_criterion", unit.id, where + problem)
        points = result[0]
        return points, MappingProxyType(dict(result[1]))

    def caps(self, unit: Unit, env: Mapping[str, Any]) -> tuple[BandCap, ...]:
        """Every ceiling a plugin puts on the unit's band, in plugin-name order."""
        out = []
        for plugin, impl in self.cappers:
            result = self.call(plugin, impl, "cap_band", unit.id, unit=unit,
                               env=MappingProxyType(dict(env)), bands=self.bands,
                               config=self.config_of(plugin))
            if result is None:
                continue
            if (not isinstance(result, tuple) or len(result) != 2 or not isinstance(result[1], str)
                    or result[0] not in self.bands):
                raise self.fault(plugin, "cap_band", unit.id,
                                 f"returned {describe(result)}, expected None or (band id, reason) "
                                 f"with a band of the policy ({', '.join(self.bands)})")
            reason = with_text(result[1], self.messages.get(plugin, {}))
            out.append(BandCap(plugin=plugin, band=result[0], reason=reason))
        return tuple(out)

    def veto_check(self, plugin: str, impl: Any) -> Callable[[Any], tuple[bool, str, Mapping[str, Any]]]:
        """A title-check runner that asks one plugin's ``veto_title``."""
        def run(view: Any) -> tuple[bool, str, Mapping[str, Any]]:
            result = self.call(plugin, impl, "veto_title", view.unit, f"title '{view.title}': ", unit=view.unit_data,
                               title=view.title, env=view.env, config=self.config_of(plugin))
            if result is None:
                return True, "", _EMPTY
            if not isinstance(result, str) or not result:
                raise self.fault(plugin, "veto_title", view.unit,
                                 f"title '{view.title}': returned {describe(result)}, "
                                 "expected None or a non-empty reason")
            return False, with_text(result, self.messages.get(plugin, {})), _EMPTY

        return run


def installed_plugins() -> tuple[PluginInfo, ...]:
    """Every plugin installed in entry-point group ``thidua_rules``, plus the built-ins, sorted."""
    from importlib import metadata

    names = sorted({ep.name for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)})
    return plugin_info(make_plugin_manager(names=names))
