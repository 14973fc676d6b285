"""The per-call time limit of plugin code: a watchdog timer that turns a hang into an error.

A plugin that never returns would hang the run forever. Arming a timer around every plugin call
costs two system calls (about 5 µs here, more than the call itself), and hooks are called per
unit, so the limit is kept by one periodic timer instead:

* :func:`guarded_call` marks the outermost plugin call running (a counter and a depth: plain
  attribute stores, no system call) and arms the timer the first time plugin code runs;
* every ``tick`` the ``SIGALRM`` handler looks at the marks: the same outermost call still
  running after ``limit`` seconds raises :class:`PluginTimeout` inside the plugin's Python code;
  a tick that finds no plugin call started since the one before stops the timer and puts the
  default handler back (so does the end of the process), so a host that embeds the engine gets
  its signal state back within two ticks (at most a second) of the last plugin call.

It applies in the main thread on POSIX (``signal.setitimer``), and only while the process has no
``SIGALRM`` handler or timer of its own, which it never disturbs. In other threads, on Windows,
or under a host's own ``SIGALRM`` handler, plugin calls have no time limit. A plugin stuck inside
one long C call (a single huge ``Decimal`` power, a blocking read without a timeout) is stopped
only when that call returns to Python code.

Determinism: the limit only ever turns a run that would not end into an error; it never changes
a result, because a call that returns is used whatever time it took.
"""

from __future__ import annotations

import atexit
import os
import signal
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

#: The time limit of one plugin call when the policy sets none (``[policy] plugin_timeout``).
DEFAULT_LIMIT = Decimal(10)
#: The largest ``plugin_timeout`` a policy may set, in seconds (an hour).
MAX_LIMIT = Decimal(3600)

_MAIN = threading.main_thread().ident
_CAN_ARM = hasattr(signal, "setitimer") and hasattr(signal, "SIGALRM")


class PluginTimeout(BaseException):
    """Raised inside plugin code that ran past its time limit.

    A ``BaseException``, so that a plugin's ``except Exception`` cannot swallow it; the outermost
    :func:`guarded_call` turns it into the plugin's fault.
    """


class _Watch:
    """The marks the handler reads (one instance: the process has one main thread)."""

    __slots__ = ("armed", "calls", "depth", "limit", "seen", "stale", "tick")

    def __init__(self) -> None:
        self.armed = False
        self.calls = 0      # outermost calls started so far
        self.depth = 0      # plugin calls running now (nested ones included)
        self.limit = 10.0   # of the outermost call running now, in seconds
        self.tick = 0.5
        self.seen = -1      # the call the handler saw at its last tick
        self.stale = 0      # ticks that call has been seen running


_W = _Watch()


def _on_alarm(signum: int, frame: Any) -> None:
    watch = _W
    if watch.depth == 0:
        if watch.seen == watch.calls:  # no plugin call since the last tick: stop
            _disarm()
        watch.seen, watch.stale = watch.calls, 0
        return
    if watch.seen != watch.calls:
        watch.seen, watch.stale = watch.calls, 0
        return
    watch.stale += 1
    if watch.stale * watch.tick >= watch.limit:
        # Raised again at every later tick, should the plugin swallow it with a bare except.
        raise PluginTimeout


def _arm(limit: float) -> None:
    handler = signal.getsignal(signal.SIGALRM)
    if handler is not _on_alarm and (handler not in (signal.SIG_DFL, None)
                                     or signal.getitimer(signal.ITIMER_REAL)[0]):
        return  # the host's own handler or timer: leave them alone (no time limit then)
    tick = min(0.5, limit / 8)
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, tick, tick)
    _W.armed, _W.tick, _W.seen, _W.stale = True, tick, -1, 0


def _disarm() -> None:
    if signal.getsignal(signal.SIGALRM) is _on_alarm:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
    _W.armed = False


def _forked() -> None:
    # A child process inherits the handler but not the timer: it arms its own when it needs one.
    if _CAN_ARM and signal.getsignal(signal.SIGALRM) is _on_alarm:
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
    _W.armed, _W.depth = False, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)


@atexit.register
def _at_exit() -> None:
    # Python puts the default SIGALRM action back while it shuts down, and a tick then would kill
    # the process ("Alarm clock"): stop the timer first.
    if _W.armed and threading.get_ident() == _MAIN:
        _disarm()


def stop() -> None:
    """Stop the watchdog now (tests; a host that wants its signal state back at once)."""
    if _W.armed and threading.get_ident() == _MAIN:
        _disarm()


def guarded_call(limit: float, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """``fn(*args)`` under the time limit; :class:`PluginTimeout` when it runs past ``limit``
    seconds (raised from the outermost guarded call only)."""
    watch = _W
    if not _CAN_ARM or threading.get_ident() != _MAIN:
        return fn(*args)
    if watch.depth == 0:
        watch.calls += 1
        watch.limit = limit
        if not watch.armed or limit < watch.tick * 8:
            _arm(limit)
    watch.depth += 1
    try:
        return fn(*args)
    finally:
        watch.depth -= 1


def nested() -> bool:
    """Whether a guarded call is still running (the caller is itself inside plugin code)."""
    return _W.depth > 0
