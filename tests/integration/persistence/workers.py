"""Code that runs in the child processes of the persistence integration tests."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from multiprocessing.queues import Queue
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Barrier, Event
from pathlib import Path

from orchestrator.domain import (
    Destroying,
    Environment,
    EnvironmentContext,
    EnvironmentName,
    LxdTarget,
    SshCredentials,
)
from orchestrator.persistence import JsonFileRepository

T0 = datetime(2025, 1, 1, tzinfo=UTC)
SSH = SshCredentials(Path("/keys/id"), Path("/keys/id.pub"))


def context_for(name: str, seq: int) -> EnvironmentContext:
    """The context written by version `seq` of the crash test: the IP encodes the version."""
    return EnvironmentContext(
        name=EnvironmentName(name),
        instance_name=f"torrust-{name}",
        ssh=SSH,
        lxd=LxdTarget(),
        instance_ip=f"10.{(seq >> 16) & 255}.{(seq >> 8) & 255}.{seq & 255}",
        created_at=T0,
    )


def version(name: str, seq: int) -> Environment[Destroying]:
    """Version `seq` (>= 2) of the crash test: context_for(seq), Destroying, pending transition `seq`."""
    before = Environment.restore(context_for(name, seq), Destroying(), state_since=T0, last_seq=seq - 1)
    return before.start_destroying()


def hold_lock(data_dir: str, name: str, ready: Event, release: Event) -> None:
    """Take the lock, say so, and keep it until `release` is set (or the process is killed)."""
    repo = JsonFileRepository(Path(data_dir))
    with repo.lock(EnvironmentName(name)):
        ready.set()
        release.wait(120)


def critical_sections(
    data_dir: str,
    name: str,
    rounds: int,
    hold_s: float,
    start: Barrier,
    inside: Synchronized[int],
    results: Queue[tuple[int, float, float, float, int]],
) -> None:
    """Enter the lock `rounds` times; report (pid, requested, entered, left, holders seen inside)."""
    repo = JsonFileRepository(Path(data_dir), lock_timeout=60)
    start.wait(30)
    for _ in range(rounds):
        requested = time.monotonic()
        with repo.lock(EnvironmentName(name)):
            entered = time.monotonic()
            with inside.get_lock():
                inside.value += 1
                seen = inside.value
            time.sleep(hold_s)
            with inside.get_lock():
                inside.value -= 1
            left = time.monotonic()
        results.put((os.getpid(), requested, entered, left, seen))


def meet_while_holding(data_dir: str, name: str, meeting: Barrier, results: Queue[tuple[str, float, float]]) -> None:
    """Hold the lock of `name` while waiting for the other process at `meeting` (which needs both inside)."""
    repo = JsonFileRepository(Path(data_dir), lock_timeout=30)
    with repo.lock(EnvironmentName(name)):
        entered = time.monotonic()
        meeting.wait(30)
        left = time.monotonic()
    results.put((name, entered, left))


def save_versions_forever(data_dir: str, name: str, first_saved: Event) -> None:
    """Save version after version of `name`, continuing from what is on disk, until killed."""
    repo = JsonFileRepository(Path(data_dir), lock_timeout=30)
    env_name = EnvironmentName(name)
    loaded = repo.load(env_name)
    assert loaded is not None
    seq = loaded.last_seq
    while True:
        seq += 1
        repo.save(version(name, seq))
        first_saved.set()


def increment(data_dir: str, name: str, times: int, start: Barrier) -> None:
    """Read-modify-write `times` times under the lock: each adds one transition (last_seq += 1)."""
    repo = JsonFileRepository(Path(data_dir), lock_timeout=60)
    env_name = EnvironmentName(name)
    start.wait(30)
    for _ in range(times):
        with repo.lock(env_name):
            env = repo.load(env_name)
            assert env is not None
            repo.save(env.start_destroying())


def hold_until_told(data_dir: str, name: str, ready: Event, release: Event, released_at: Synchronized[float]) -> None:
    """Take the lock, say so, keep it until `release`; note the time just before leaving the block."""
    repo = JsonFileRepository(Path(data_dir))
    with repo.lock(EnvironmentName(name)):
        ready.set()
        release.wait(120)
        released_at.value = time.monotonic()


def wait_for_lock(
    data_dir: str,
    name: str,
    asking: Event,
    acquired: Event,
    leave: Event,
    acquired_at: Synchronized[float],
    sleeps: Synchronized[int],
) -> None:
    """Ask for the lock (with `time.sleep` counting its calls: a polling lock would call it) and hold it
    until `leave`; record when it got in and how often anything slept."""
    real_sleep = time.sleep

    def counted_sleep(seconds: float) -> None:
        sleeps.value += 1
        real_sleep(seconds)

    time.sleep = counted_sleep  # type: ignore[assignment]
    repo = JsonFileRepository(Path(data_dir), lock_timeout=120)
    asking.set()
    with repo.lock(EnvironmentName(name)):
        acquired_at.value = time.monotonic()
        time.sleep = real_sleep
        acquired.set()
        leave.wait(120)
