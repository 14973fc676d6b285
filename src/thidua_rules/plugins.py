"""Plugin manager: built-in plugins, the entry points a policy names, sorted calls and provenance."""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType, ModuleType
from typing import Any

import attrs
import pluggy

from . import hookspecs
from .errors import EvaluationError, PluginError, ThiduaError
from .model import Criterion, InputField, PluginInfo, Unit

ENTRY_POINT_GROUP = "thidua_rules"

#: Built-in plugins, registered under these names in every manager.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "thidua_rules.builtin.functions",
    "thidua_rules.builtin.methods",
    "thidua_rules.builtin.titles",
)


@functools.cache
def engine_version() -> str:
    """The installed engine's version, looked up once per process (it cannot change while the
    process runs; reading a distribution's metadata costs milliseconds)."""
    try:
        return importlib.metadata.version("thidua_rules")
    except importlib.metadata.PackageNotFoundError:  # running from a source tree
        return "0+unknown"


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
        available = {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
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
        pm.register(plugin, name=name)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(str(exc), plugin=getattr(exc.plugin, "__name__", None)) from exc
    return pm


def sorted_impls(pm: pluggy.PluginManager, hook_name: str) -> list[Any]:
    """The implementations of a hook, ordered by plugin name (never by registration order)."""
    hook = getattr(pm.hook, hook_name)
    return sorted(hook.get_hookimpls(), key=lambda impl: impl.plugin_name)


def collect(pm: pluggy.PluginManager, hook_name: str, what: str) -> dict[str, Any]:
    """Call a ``register_*`` hook on every plugin in sorted order and gather named contributions.

    Each contribution gets its plugin's name in ``.plugin``; a name given twice is an error
    naming both plugins.
    """
    import attrs

    gathered: dict[str, Any] = {}
    for impl in sorted_impls(pm, hook_name):
        def register(spec: Any, _plugin: str = impl.plugin_name) -> None:
            if spec.name in gathered:
                raise PluginError(
                    f"{what} '{spec.name}' is registered by both '{gathered[spec.name].plugin}' "
                    f"and '{_plugin}'",
                    plugin=_plugin,
                )
            gathered[spec.name] = attrs.evolve(spec, plugin=_plugin)

        call_impl(impl, hook_name, {"register": register})
    return dict(sorted(gathered.items()))


def call_impl(impl: Any, hook_name: str, kwargs: dict[str, Any]) -> Any:
    """Call one implementation; a plugin's exception becomes a :class:`PluginError`."""
    try:
        return impl.function(*(kwargs[name] for name in impl.argnames))
    except PluginError:
        raise
    except Exception as exc:
        raise PluginError(
            f"hook '{hook_name}' raised {type(exc).__name__}: {exc}", plugin=impl.plugin_name
        ) from exc


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
    dists = _packages_distributions().get(top, [])
    if not dists:
        return ("unversioned", "0")
    dist = sorted(dists)[0]
    return (dist, _version_of(dist))


@functools.cache
def _version_of(dist: str) -> str:
    """A distribution's version, read from its metadata once per process ("0" if not found)."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "0"


@functools.cache
def _packages_distributions() -> dict[str, list[str]]:
    return dict(importlib.metadata.packages_distributions())


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
    if isinstance(value, bool | int | float | Decimal | str):
        return f"{type(value).__name__} {value!r}" if isinstance(value, str) else \
            f"{type(value).__name__} {value}"
    return type(value).__name__


def _mutation(exc: BaseException) -> bool:
    """Whether ``exc`` is what Python raises on writing to a read-only input."""
    if isinstance(exc, attrs.exceptions.FrozenInstanceError):
        return True
    text = str(exc)
    if isinstance(exc, TypeError):
        return "does not support item assignment" in text or "does not support item deletion" in text
    if isinstance(exc, AttributeError):
        return text.startswith(("'mappingproxy' object has no attribute", "'tuple' object has no attribute"))
    return False


def invoke(impl: Any, kwargs: Mapping[str, Any]) -> Any:
    """Call one implementation; anything it raises becomes a :class:`PluginFault`."""
    try:
        return impl.function(*(kwargs[name] for name in impl.argnames))
    except ThiduaError as exc:
        raise PluginFault(str(exc)) from exc
    except Exception as exc:
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if _mutation(exc):
            raise PluginFault(f"tried to change its inputs, which are read-only ({detail})") from exc
        raise PluginFault(f"raised {detail}") from exc


def check_derived(field: InputField, value: Any) -> str:
    """A problem with a derived value of ``field`` (empty when it is fine)."""
    name = field.id
    if field.type in ("integer", "decimal"):
        if isinstance(value, bool) or not isinstance(value, Decimal):
            if isinstance(value, int | float) and not isinstance(value, bool):
                return f"returned {describe(value)} for '{name}'; numbers must be Decimal, never float or int"
            return f"returned {describe(value)} for '{name}', expected a Decimal"
        if not value.is_finite():
            return f"returned {value} for '{name}', expected a finite Decimal"
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
                 derived: Mapping[str, tuple[InputField, ...]], bands: tuple[str, ...]) -> None:
        self.file = file
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

    def call(self, plugin: str, impl: Any, hook: str, unit_id: str, /, **kwargs: Any) -> Any:
        try:
            return invoke(impl, kwargs)
        except PluginFault as exc:
            raise self.fault(plugin, hook, unit_id, exc.message) from exc

    def derive(self, unit: Unit, env: dict[str, Any], data: Mapping[str, Any]) -> tuple[Derived, ...]:
        """Add every derived input to ``env``; return them for the explanation."""
        out: list[Derived] = []
        for plugin, impl, fields in self.derivers:
            names = tuple(f.id for f in fields)
            result = self.call(plugin, impl, "derive_inputs", unit.id, unit=unit,
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
        result = self.call(plugin, self.scorers[plugin], "score_criterion", unit.id, unit=unit,
                           criterion=criterion, env=MappingProxyType(dict(env)),
                           config=self.config_of(plugin))
        if result is None:
            return None
        where = f"criterion '{criterion.id}': "
        if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], Mapping)):
            raise self.fault(plugin, "score_criterion", unit.id,
                             f"{where}returned {describe(result)}, expected None or (points, facts)")
        points = result[0]
        if isinstance(points, bool) or not isinstance(points, Decimal) or not points.is_finite():
            kind = ("; numbers must be Decimal, never float or int"
                    if isinstance(points, int | float) and not isinstance(points, bool)
                    else ", expected a finite Decimal")
            raise self.fault(plugin, "score_criterion", unit.id,
                             f"{where}returned points {describe(points)}{kind}")
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
            out.append(BandCap(plugin=plugin, band=result[0], reason=result[1]))
        return tuple(out)

    def veto_check(self, plugin: str, impl: Any) -> Callable[[Any], tuple[bool, str, Mapping[str, Any]]]:
        """A title-check runner that asks one plugin's ``veto_title``."""
        def run(view: Any) -> tuple[bool, str, Mapping[str, Any]]:
            result = self.call(plugin, impl, "veto_title", view.unit, unit=view.unit_data,
                               title=view.title, env=view.env, config=self.config_of(plugin))
            if result is None:
                return True, "", _EMPTY
            if not isinstance(result, str) or not result:
                raise self.fault(plugin, "veto_title", view.unit,
                                 f"title '{view.title}': returned {describe(result)}, "
                                 "expected None or a non-empty reason")
            return False, result, _EMPTY

        return run


def installed_plugins() -> tuple[PluginInfo, ...]:
    """Every plugin installed in entry-point group ``thidua_rules``, plus the built-ins, sorted."""
    names = sorted({ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)})
    return plugin_info(make_plugin_manager(names=names))
