"""Plugin manager: built-in plugins, the entry points a policy names, sorted calls and provenance."""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
from collections.abc import Iterable, Sequence
from types import ModuleType
from typing import Any

import pluggy

from . import hookspecs
from .errors import PluginError
from .model import PluginInfo

ENTRY_POINT_GROUP = "thidua_rules"

#: Built-in plugins, registered under these names in every manager.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "thidua_rules.builtin.functions",
    "thidua_rules.builtin.methods",
    "thidua_rules.builtin.titles",
)


def engine_version() -> str:
    try:
        return importlib.metadata.version("thidua_rules")
    except importlib.metadata.PackageNotFoundError:  # running from a source tree
        return "0+unknown"


def make_plugin_manager(
    *,
    names: Sequence[str] = (),
    extra: Iterable[tuple[str, object]] = (),
) -> pluggy.PluginManager:
    """A fresh manager with the built-ins, the named entry points and ``extra`` (tests).

    Only the entry points in ``names`` are loaded, so installing an unrelated plugin can never
    change a result. Registration order does not matter: every call goes through
    :func:`collect`, which orders implementations by plugin name.
    """
    pm = pluggy.PluginManager("thidua_rules")
    pm.add_hookspecs(hookspecs)
    for dotted in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(dotted), name=dotted)
    if names:
        available = {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
        for name in sorted(set(names)):
            ep = available.get(name)
            if ep is None:
                raise PluginError(
                    "the policy needs it but it is not installed; install the distribution "
                    f"that provides entry point '{name}' in group '{ENTRY_POINT_GROUP}' "
                    "(for example: pip install -e plugins/<its folder>)",
                    plugin=name,
                )
            try:
                module = ep.load()
            except Exception as exc:  # a broken plugin must not show a traceback
                raise PluginError(f"failed to import: {type(exc).__name__}: {exc}", plugin=name) from exc
            pm.register(module, name=name)
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
        dist, version = _distribution_of(plugin)
        infos.append(PluginInfo(name=name, distribution=dist, version=version, hooks=tuple(sorted(hooks))))
    return tuple(infos)


def _distribution_of(plugin: object) -> tuple[str, str]:
    module_name = plugin.__name__ if isinstance(plugin, ModuleType) else type(plugin).__module__
    top = module_name.split(".")[0]
    dists = _packages_distributions().get(top, [])
    if not dists:
        return ("unversioned", "0")
    dist = sorted(dists)[0]
    try:
        return (dist, importlib.metadata.version(dist))
    except importlib.metadata.PackageNotFoundError:
        return (dist, "0")


@functools.cache
def _packages_distributions() -> dict[str, list[str]]:
    return dict(importlib.metadata.packages_distributions())
