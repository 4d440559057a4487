"""`lock_holder` reads the PID note the lock's holder writes (`locking`), without filelock."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from orchestrator.persistence import JsonFileRepository
from orchestrator.persistence.lock_holder import read_holder_pid, running_holder_pid
from orchestrator.persistence.locking import pid_path
from tests.support.environments import created


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_names_this_process_while_it_holds_the_lock(repo: JsonFileRepository) -> None:
    env = created()
    repo.save(env)
    lock_path = repo.lock_path(env.name)

    with repo.lock(env.name):
        assert pid_path(lock_path) == Path(f"{lock_path}.pid")
        assert running_holder_pid(lock_path) == os.getpid()
        assert running_holder_pid(str(lock_path)) == os.getpid()

    assert running_holder_pid(lock_path) is None


def test_names_no_one_for_a_dead_holder_or_a_garbled_note(tmp_path: Path) -> None:
    lock_path = tmp_path / "environment.json.lock"
    note = pid_path(lock_path)

    note.write_text(f"{_dead_pid()}\n")
    assert read_holder_pid(lock_path) is not None
    assert running_holder_pid(lock_path) is None

    for garbled in ("", "pid", "-1", "12 34"):
        note.write_text(garbled)
        assert read_holder_pid(lock_path) is None
        assert running_holder_pid(lock_path) is None


def test_the_note_outlives_the_hold_and_is_rewritten_only_for_another_holder(repo: JsonFileRepository) -> None:
    env = created()
    repo.save(env)
    lock_path = repo.lock_path(env.name)
    note = pid_path(lock_path)
    written = note.stat()

    with repo.lock(env.name):
        pass

    again = note.stat()
    assert (again.st_ino, again.st_mtime_ns, again.st_ctime_ns) == (
        written.st_ino,
        written.st_mtime_ns,
        written.st_ctime_ns,
    )
    assert read_holder_pid(lock_path) == os.getpid()  # the last holder, alive,
    assert running_holder_pid(lock_path) is None  # but the lock is free

    note.write_text(f"{_dead_pid()}\n")  # as another process leaves it
    with repo.lock(env.name):
        assert read_holder_pid(lock_path) == os.getpid()
