from __future__ import annotations

import itertools
import os
import signal
import time
from multiprocessing.context import ForkServerContext
from pathlib import Path

import pytest

from orchestrator.domain import EnvironmentName
from orchestrator.persistence import JsonFileRepository, LockTimeoutError
from orchestrator.persistence.locking import read_holder_pid
from tests.integration.persistence import workers

pytestmark = pytest.mark.integration

NAME = EnvironmentName("e2e")


def test_processes_on_one_environment_are_serialized(tmp_path: Path, mp: ForkServerContext) -> None:
    # "e2e" is never saved: its directory comes and goes between holds, which must not break exclusion
    processes, rounds = 3, 4
    start = mp.Barrier(processes)
    inside = mp.Value("i", 0)
    results = mp.Queue()
    children = [
        mp.Process(target=workers.critical_sections, args=(str(tmp_path), "e2e", rounds, 0.05, start, inside, results))
        for _ in range(processes)
    ]
    for child in children:
        child.start()
    records = sorted((results.get(timeout=60) for _ in range(processes * rounds)), key=lambda r: r[2])
    for child in children:
        child.join(30)
        assert child.exitcode == 0

    assert {seen for *_, seen in records} == {1}
    for before, after in itertools.pairwise(records):
        assert after[2] >= before[3], f"{after} entered before {before} left"
    # some request was made before another process left its section and granted only after that
    waited = [r for r in records for o in records if o[0] != r[0] and r[1] < o[3] <= r[2]]
    assert waited, "no process ever had to wait for another: the test did not create contention"
    assert not (tmp_path / "e2e").exists()


def test_processes_on_different_environments_hold_their_locks_at_the_same_time(
    tmp_path: Path, mp: ForkServerContext
) -> None:
    meeting = mp.Barrier(2)  # each child waits here while holding its lock: needs both inside at once
    results = mp.Queue()
    children = [
        mp.Process(target=workers.meet_while_holding, args=(str(tmp_path), name, meeting, results))
        for name in ("alpha", "beta")
    ]
    for child in children:
        child.start()
    records = [results.get(timeout=60) for _ in children]
    for child in children:
        child.join(30)
        assert child.exitcode == 0

    assert max(entered for _, entered, _ in records) < min(left for *_, left in records)


def test_lock_timeout_names_a_live_holder_process(tmp_path: Path, mp: ForkServerContext) -> None:
    ready, release = mp.Event(), mp.Event()
    holder = mp.Process(target=workers.hold_lock, args=(str(tmp_path), "e2e", ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        with pytest.raises(LockTimeoutError) as caught, JsonFileRepository(tmp_path, lock_timeout=0.3).lock(NAME):
            pass
    finally:
        release.set()
        holder.join(30)

    assert (caught.value.holder_pid, caught.value.holder_alive) == (holder.pid, True)
    assert f"locked by process {holder.pid} (alive)" in str(caught.value)
    assert f"PID {holder.pid}" in caught.value.tip


def test_a_lock_holder_killed_with_sigkill_does_not_block_the_next_one(tmp_path: Path, mp: ForkServerContext) -> None:
    ready, release = mp.Event(), mp.Event()
    holder = mp.Process(target=workers.hold_lock, args=(str(tmp_path), "e2e", ready, release))
    holder.start()
    repo = JsonFileRepository(tmp_path, lock_timeout=5)
    try:
        assert ready.wait(30)
        assert read_holder_pid(repo.lock_path(NAME)) == holder.pid
        assert holder.pid is not None
        os.kill(holder.pid, signal.SIGKILL)  # not reaped yet: a zombie holds no lock

        asked = time.monotonic()
        with repo.lock(NAME):
            got_it_after = time.monotonic() - asked
            assert read_holder_pid(repo.lock_path(NAME)) == os.getpid()
    finally:
        holder.join(30)

    assert holder.exitcode == -signal.SIGKILL
    assert got_it_after < repo.lock_timeout
