"""The command line's parser made cheaply (issue #11, item 5): each command's argparse parser
built when it is used, so that ``thidua evaluate ...`` builds the parser of ``evaluate`` only and
``thidua --help`` none (argparse building every command's parser in full was a third of
``thidua --help``); the terminal's width read without importing shutil.

:func:`deferring` gives ``add_subparsers`` a parser class that keeps the calls defining a
command's parser (``add_argument``, groups, ``set_defaults``) and makes them on the real parser
the first time anything else is asked of it: parsing, an error, its help, its ``_actions``. The
list of commands and their one-line help (``thidua --help``) are argparse's own, made at once.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing (milliseconds); type checkers read it as True
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

#: The calls kept for later; a group's calls are kept on the group's own :class:`Calls`.
_KEPT = ("add_argument", "add_argument_group", "add_mutually_exclusive_group", "set_defaults")
_GROUPS = ("add_argument_group", "add_mutually_exclusive_group")


class Calls:
    """Calls on an argparse container (a parser or a group), kept to be made later. The kept
    ``add_argument`` returns None: code that needs the Action builds the parser first."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any], Calls | None]] = []

    def _keep(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Calls | None:
        group = Calls() if name in _GROUPS else None
        self.calls.append((name, args, kwargs, group))
        return group

    def add_argument(self, *args: Any, **kwargs: Any) -> None:
        self._keep("add_argument", args, kwargs)

    def add_argument_group(self, *args: Any, **kwargs: Any) -> Calls | None:
        return self._keep("add_argument_group", args, kwargs)

    def add_mutually_exclusive_group(self, *args: Any, **kwargs: Any) -> Calls | None:
        return self._keep("add_mutually_exclusive_group", args, kwargs)

    def set_defaults(self, **kwargs: Any) -> None:
        self._keep("set_defaults", (), kwargs)

    def replay(self, target: Any) -> None:
        """Make the kept calls on ``target``, in the order they were made."""
        for name, args, kwargs, group in self.calls:
            made = getattr(target, name)(*args, **kwargs)
            if group is not None:
                group.replay(made)


class DeferredParser:
    """A command's parser: the calls that define it kept (:class:`Calls`) until anything else
    is asked of it, then the real parser, which answers from then on."""

    def __init__(self, make: Callable[..., Any], kwargs: dict[str, Any]) -> None:
        self._make = make
        self._kwargs = kwargs
        self._calls: Calls | None = Calls()
        self._parser: Any = None

    def built(self) -> Any:
        """The real parser, made (and the kept calls made on it) on first use."""
        if self._parser is None:
            parser = self._make(**self._kwargs)
            calls, self._calls = self._calls, None
            assert calls is not None
            calls.replay(parser)
            self._parser = parser
        return self._parser

    def __getattr__(self, name: str) -> Any:  # only for names the instance does not have
        if self._parser is None and name in _KEPT:
            return getattr(self._calls, name)
        return getattr(self.built(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("_make", "_kwargs", "_calls", "_parser"):
            object.__setattr__(self, name, value)
        else:
            setattr(self.built(), name, value)


def deferring(parser_class: Callable[..., Any]) -> Callable[..., DeferredParser]:
    """A ``parser_class`` for ``add_subparsers``: each command's parser a :class:`DeferredParser`
    of ``parser_class``."""

    def make(**kwargs: Any) -> DeferredParser:
        return DeferredParser(parser_class, kwargs)

    return make


def terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``, which argparse asks for every help formatter it
    makes, without importing shutil (and bz2, lzma and zlib with it): ``COLUMNS`` when it is a
    positive number, else the width of the terminal on stdout, else 80."""
    import os
    import sys

    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        size = os.get_terminal_size(sys.__stdout__.fileno())  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):  # no stdout, closed, detached, not a terminal
        return 80
    return size.columns or 80
