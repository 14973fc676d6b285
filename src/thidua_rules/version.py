"""The installed engine's version, apart from the plugin manager so that ``thidua --version``
reads it without importing the engine."""

from __future__ import annotations

import functools


@functools.cache
def engine_version() -> str:
    """The installed engine's version, looked up once per process (it cannot change while the
    process runs; reading a distribution's metadata costs milliseconds)."""
    import importlib.metadata

    try:
        return importlib.metadata.version("thidua_rules")
    except importlib.metadata.PackageNotFoundError:  # running from a source tree
        return "0+unknown"
