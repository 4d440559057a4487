from __future__ import annotations

import json
import os
import random
import signal
import time
from multiprocessing.context import ForkServerContext
from pathlib import Path

import pytest

from orchestrator.domain import Destroying, EnvironmentName
from orchestrator.persistence import JsonFileRepository
from orchestrator.persistence.files import is_temp_of
from tests.integration.persistence import workers
from tests.support.environments import created

pytestmark = pytest.mark.integration

KILLS = 120
MIN_KILLS_INSIDE_A_WRITE = KILLS // 12
"""Kills that must land inside a write (an unfinished temp file left behind) for the run to test anything.
Measured: 25-42 of 120 (idle machine and 3 runs at once on 2 busy cores); 10 leaves a wide margin."""


def _event_or_torn(line: bytes) -> bool:
    """A whole event line, or the start of one: a kill inside the append's write can end it early (Linux
    may stop a write to a file between pages once the writer is killed). Readers skip such a line, and the
    next save starts its own lines on a new one."""
    try:
        return isinstance(json.loads(line)["seq"], int)
    except ValueError:
        return line.startswith(b'{"seq":')


def test_sigkill_in_the_middle_of_saving_leaves_a_written_version_and_a_parseable_log(
    tmp_path: Path, mp: ForkServerContext, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = JsonFileRepository(tmp_path, lock_timeout=10)
    name = EnvironmentName("crash")
    repo.save(created("crash"))
    state_path, events_path = repo.state_path(name), repo.events_path(name)
    rng = random.Random(20250301)
    last_seen, kills_inside_a_write = 1, 0

    for _ in range(KILLS):
        first_saved = mp.Event()
        writer = mp.Process(target=workers.save_versions_forever, args=(str(tmp_path), "crash", first_saved))
        writer.start()
        assert first_saved.wait(30), "the writer never saved"
        time.sleep(rng.uniform(0.0, 0.012))  # lands anywhere in the save loop
        assert writer.pid is not None
        os.kill(writer.pid, signal.SIGKILL)
        writer.join(30)
        assert writer.exitcode == -signal.SIGKILL

        kills_inside_a_write += any(is_temp_of(p, state_path) for p in state_path.parent.iterdir())
        loaded = repo.load(name)  # parses, whatever the kill interrupted
        assert loaded is not None
        assert isinstance(loaded.state, Destroying)
        assert loaded.context == workers.context_for("crash", loaded.last_seq), "not a version that was written"
        assert loaded.last_seq > last_seen, "the state went backwards or the writer saved nothing"
        last_seen = loaded.last_seq
        lines = events_path.read_bytes().splitlines()
        assert all(_event_or_torn(line) for line in lines), "a line that no save began"
        seqs = [event.seq for event in repo.read_events(name)]  # torn lines skipped
        assert seqs == sorted(seqs)
        assert set(seqs) >= set(range(1, last_seen + 1)), "a saved transition is missing from the log"

    repo.save(workers.version("crash", last_seen + 1))  # a clean save removes what killed writers left
    assert sorted(p.name for p in state_path.parent.iterdir()) == [
        "environment.json",
        "environment.json.lock",
        "environment.json.lock.pid",
        "events.jsonl",
    ]
    with capsys.disabled():
        print(f"\n{KILLS} kills, {kills_inside_a_write} left an unfinished temp file (killed inside a write)")
    assert kills_inside_a_write >= MIN_KILLS_INSIDE_A_WRITE, "too few kills landed inside a write to test it"
