"""The machine's busy CPU time, from `/proc/stat`, for the scaling section: how many CPU-seconds one deploy
costs the whole machine (the orchestrator, the Pulumi CLI and plugin, ansible, LXD, and everything the
instance runs), and so the least time n deploys at once can take on this machine's cores.

Busy = user + nice + system + irq + softirq + steal of the aggregate `cpu` line (idle and iowait are not
busy; guest time is already counted in user). A sampler thread reads it every `interval_s` and
`busy_between` interpolates between samples, so intervals measured in other processes (their
`time.monotonic()`, the same clock) can be priced after the fact.
"""

from __future__ import annotations

import bisect
import os
import threading
import time
from pathlib import Path
from types import TracebackType

PROC_STAT = Path("/proc/stat")
BUSY_FIELDS = (0, 1, 2, 5, 6, 7)
"""user, nice, system, irq, softirq, steal: the fields of the `cpu` line counted as busy."""


def parse_busy_ticks(stat_text: str) -> int:
    """Busy clock ticks of all CPUs together, from the text of `/proc/stat`."""
    for line in stat_text.splitlines():
        fields = line.split()
        if fields and fields[0] == "cpu":
            values = [int(value) for value in fields[1:]]
            return sum(values[index] for index in BUSY_FIELDS if index < len(values))
    raise ValueError("no aggregate 'cpu' line in /proc/stat")


def busy_seconds() -> float:
    """The machine's busy CPU-seconds since boot (all cores)."""
    return parse_busy_ticks(PROC_STAT.read_text(encoding="ascii")) / os.sysconf("SC_CLK_TCK")


def cores() -> int:
    return os.cpu_count() or 1


def interpolate(samples: list[tuple[float, float]], at: float) -> float:
    """The busy seconds at time `at`, linear between the (time, busy) samples around it (clamped at the
    ends)."""
    if not samples:
        raise ValueError("no CPU samples")
    times = [when for when, _ in samples]
    index = bisect.bisect_left(times, at)
    if index == 0:
        return samples[0][1]
    if index == len(samples):
        return samples[-1][1]
    (t0, b0), (t1, b1) = samples[index - 1], samples[index]
    if t1 == t0:
        return b1
    return b0 + (b1 - b0) * (at - t0) / (t1 - t0)


class CpuSampler:
    """`with CpuSampler() as cpu: …` then `cpu.busy_between(start, end)`: the machine's busy CPU-seconds
    within [start, end] (monotonic times)."""

    def __init__(self, interval_s: float = 0.05) -> None:
        self.interval_s = interval_s
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="cpu-sampler", daemon=True)

    def _take(self) -> None:
        self.samples.append((time.monotonic(), busy_seconds()))

    def _sample(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._take()

    def __enter__(self) -> CpuSampler:
        self._take()
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._take()

    def busy_between(self, start: float, end: float) -> float:
        return interpolate(self.samples, end) - interpolate(self.samples, start)
