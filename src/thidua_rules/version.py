"""The installed engine's version, apart from the plugin manager so that ``thidua --version``
reads it without importing the engine.

Importing :mod:`importlib.metadata` (email, zipfile, csv, ...) costs more than the rest of a
small run, so the plain case, the first ``thidua_rules-*.dist-info`` on ``sys.path``, is read
here directly, exactly as importlib.metadata finds and reads it; anything else (an egg, a zip, a
finder of its own, two candidates in one folder) is left to importlib.metadata itself.
"""

from __future__ import annotations

import functools
import os
import sys

DISTRIBUTION = "thidua_rules"


class _Unusual(Exception):
    """The metadata is not in the plain form: importlib.metadata must answer."""


@functools.cache
def engine_version() -> str:
    """The installed engine's version, looked up once per process (it cannot change while the
    process runs; reading a distribution's metadata costs milliseconds)."""
    found = own_distribution()
    return found[1] if found is not None else "0+unknown"  # None: running from a source tree


@functools.cache
def own_distribution() -> tuple[str, str] | None:
    """The engine's distribution as importlib.metadata names it, with its version, or None when
    it is not installed."""
    try:
        return _plain_lookup()
    except _Unusual:
        import importlib.metadata

        try:
            dist = importlib.metadata.distribution(DISTRIBUTION)
        except importlib.metadata.PackageNotFoundError:
            return None
        return (dist.name, dist.version)


def _normalized(name: str) -> str:
    """importlib.metadata's ``Prepared.normalize``: each run of ``-_.`` one ``_``, lower case."""
    text = name.lower().replace("-", "_").replace(".", "_")
    while "__" in text:
        text = text.replace("__", "_")
    return text


def _plain_lookup() -> tuple[str, str] | None:
    """(Name, Version) of the first ``thidua_rules`` distribution importlib.metadata's path
    finder would find, or None when there is none; :class:`_Unusual` when unsure."""
    from importlib.machinery import PathFinder

    finders = [f for f in sys.meta_path if f is PathFinder or hasattr(f, "find_distributions")]
    if not finders or finders[0] is not PathFinder:
        raise _Unusual
    for entry in sys.path:
        directory = entry or "."
        if directory.lower().endswith(".egg") or (os.path.exists(directory) and not os.path.isdir(directory)):
            raise _Unusual
        try:
            children = os.listdir(directory)
        except OSError:
            continue
        found = [child for child in children if child.lower().endswith((".dist-info", ".egg-info"))
                 and _normalized(child.lower().rpartition(".")[0].partition("-")[0]) == DISTRIBUTION]
        if not found:
            continue
        if len(found) > 1 or not found[0].lower().endswith(".dist-info"):
            raise _Unusual
        return _name_and_version(os.path.join(directory, found[0], "METADATA"))
    if len(finders) > 1:  # another finder after the path finder could still answer
        raise _Unusual
    return None


def _name_and_version(path: str) -> tuple[str, str]:
    """The ``Name`` and ``Version`` headers of a METADATA file (the first of each)."""
    headers: dict[str, str] = {}
    key = ""
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line in ("\n", "\r\n"):
                    break
                if line[:1] in (" ", "\t"):  # a folded header line
                    if key in ("name", "version"):  # email's parser's job
                        raise _Unusual
                    continue
                key, colon, value = line.partition(":")
                key = key.lower() if colon else ""
                if colon:
                    headers.setdefault(key, value.strip())
    except (OSError, UnicodeDecodeError):
        raise _Unusual from None
    if "name" not in headers or "version" not in headers:
        raise _Unusual
    return (headers["name"], headers["version"])
