from __future__ import annotations

import stat
from collections import Counter
from multiprocessing.context import ForkServerContext
from pathlib import Path

import pytest

from orchestrator.domain import Destroying, EnvironmentName
from orchestrator.persistence import JsonFileRepository
from tests.integration.persistence import workers
from tests.support.environments import created

pytestmark = pytest.mark.integration

PROCESSES, INCREMENTS = 16, 25


def test_concurrent_read_modify_write_under_lock_loses_no_update(tmp_path: Path, mp: ForkServerContext) -> None:
    repo = JsonFileRepository(tmp_path)
    name = EnvironmentName("counter")
    repo.save(created("counter"))
    start = mp.Barrier(PROCESSES)
    children = [
        mp.Process(target=workers.increment, args=(str(tmp_path), "counter", INCREMENTS, start))
        for _ in range(PROCESSES)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(120)
        assert child.exitcode == 0

    final = repo.load(name)
    assert final is not None
    assert isinstance(final.state, Destroying)
    assert final.last_seq == 1 + PROCESSES * INCREMENTS
    events = repo.read_events(name)
    assert [e.seq for e in events] == list(range(1, final.last_seq + 1))
    assert len(Counter(e.pid for e in events[1:])) == PROCESSES
    assert stat.S_IMODE(repo.environment_dir(name).stat().st_mode) == 0o700
