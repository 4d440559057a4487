"""What /proc says of a process, for tests that check which processes a run left behind."""

from __future__ import annotations

from orchestrator.lab.processes import read_process


def alive(pid: int) -> bool:
    """The process exists and has not ended (the lab's `ProcessInfo.alive`: not a zombie, not dead)."""
    info = read_process(pid)
    return info is not None and info.alive
