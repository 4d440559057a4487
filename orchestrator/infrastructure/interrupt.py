"""Ctrl-C / SIGTERM during a command: a clean, recorded failure instead of orphans and stale locks.

While installed (main thread only), the first SIGINT or SIGTERM marks the run as interrupted and forwards
SIGINT to this process's children (the `pulumi` CLI, which then cancels its update, saves its state and
releases its lock; `ansible-playbook`; `ssh`). Children still alive after `grace_s` get SIGKILL; a second
signal sends SIGKILL at once. The running step then fails, and the command records the *Failed state with
that step and error kind "Interrupted".
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

DEFAULT_GRACE_S = 30.0


def _start_time(pid: int) -> str | None:
    """The process's start time (field 22 of /proc/PID/stat), to tell it from a later process with its PID."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None


def child_processes(parent: int) -> dict[int, str]:
    """PID → start time of the direct children of `parent`."""
    children: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if len(fields) > 19 and fields[1] == str(parent):
            children[int(entry.name)] = fields[19]
    return children


def _signal_if_same(pid: int, started: str, signum: int) -> None:
    if _start_time(pid) == started:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


class SignalInterruption:
    """A cancellation token set by SIGINT/SIGTERM while `installed()` is active."""

    def __init__(self, grace_s: float = DEFAULT_GRACE_S) -> None:
        self._grace_s = grace_s
        self._event = threading.Event()
        self._children: dict[int, str] = {}
        self.signal_name: str | None = None

    def requested(self) -> bool:
        return self._event.is_set()

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # only the main thread may handle signals; elsewhere the caller handles them
            return
        previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
        for signum in previous:
            signal.signal(signum, self._handle)
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self._event.is_set():
            self._kill_children()
            return
        self.signal_name = signal.Signals(signum).name
        self._event.set()
        self._children = child_processes(os.getpid())
        for pid, started in self._children.items():
            _signal_if_same(pid, started, signal.SIGINT)
        timer = threading.Timer(self._grace_s, self._kill_recorded_children)
        timer.daemon = True
        timer.start()

    def _kill_recorded_children(self) -> None:
        """After the grace period: SIGKILL the children that got SIGINT and are still there."""
        for pid, started in self._children.items():
            _signal_if_same(pid, started, signal.SIGKILL)

    def _kill_children(self) -> None:
        """On a second signal: SIGKILL every child now."""
        for pid, started in {**self._children, **child_processes(os.getpid())}.items():
            _signal_if_same(pid, started, signal.SIGKILL)
