from __future__ import annotations

import os
import pickle
import threading
from pathlib import Path

import pytest

from orchestrator.domain import EnvironmentName
from orchestrator.persistence import JsonFileRepository, LockTimeoutError
from orchestrator.persistence.locking import process_alive, read_holder_pid
from tests.support.environments import created

NAME = EnvironmentName("e2e")


def test_lock_is_reentrant_and_save_load_delete_inside_it_do_not_deadlock(repo: JsonFileRepository) -> None:
    with repo.lock(NAME), repo.lock(NAME):
        repo.save(created())
        assert repo.load(NAME) is not None
        repo.delete(NAME)
        assert repo.load(NAME) is None
        repo.save(created())
    assert repo.exists(NAME)


def test_holder_pid_is_recorded_beside_the_lock_while_held_and_removed_after(repo: JsonFileRepository) -> None:
    lock_path = repo.lock_path(NAME)
    with repo.lock(NAME):
        assert read_holder_pid(lock_path) == os.getpid()
        with repo.lock(NAME):
            pass
        assert read_holder_pid(lock_path) == os.getpid()
    assert read_holder_pid(lock_path) is None


def test_lock_held_by_another_thread_times_out_naming_this_live_process(data_dir: Path) -> None:
    holder = JsonFileRepository(data_dir)
    waiter = JsonFileRepository(data_dir, lock_timeout=0.2)
    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        with holder.lock(NAME):
            held.set()
            done.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert held.wait(10)
        with pytest.raises(LockTimeoutError) as caught, waiter.lock(NAME):
            pass
    finally:
        done.set()
        thread.join()

    error = caught.value
    assert (error.holder_pid, error.holder_alive) == (os.getpid(), True)
    assert f"process {os.getpid()} (alive)" in str(error)
    assert "after waiting 0.2 s" in str(error)
    assert f"PID {os.getpid()}" in error.tip
    with waiter.lock(NAME):  # free again
        pass


def test_different_environments_lock_independently(data_dir: Path) -> None:
    repo = JsonFileRepository(data_dir, lock_timeout=0.2)
    other = EnvironmentName("other")
    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        with repo.lock(NAME):
            held.set()
            done.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert held.wait(10)
        with repo.lock(other):
            repo.save(created("other"))
    finally:
        done.set()
        thread.join()


@pytest.mark.parametrize(
    ("pid", "alive", "fragment", "tip"),
    [
        (4242, True, "locked by process 4242 (alive)", "another torrust-deploy command (PID 4242)"),
        (4242, False, "PID 4242 was recorded but is no longer running", "fuser /data/e2e/environment.json.lock"),
        (None, False, "locked by an unknown process", "retry"),
    ],
)
def test_lock_timeout_message_names_the_holder_and_whether_it_is_alive(
    pid: int | None, alive: bool, fragment: str, tip: str
) -> None:
    error = LockTimeoutError("e2e", pid, alive, timeout_s=30.0, lock_path=Path("/data/e2e/environment.json.lock"))

    assert str(error).startswith("environment 'e2e' is locked by ")
    assert fragment in str(error)
    assert str(error).endswith("gave up after waiting 30 s")
    assert tip in error.tip


def test_persistence_errors_survive_pickling() -> None:
    error = LockTimeoutError("e2e", 7, True, timeout_s=1.0)

    copy = pickle.loads(pickle.dumps(error))

    assert (str(copy), copy.tip, copy.holder_pid, copy.holder_alive) == (str(error), error.tip, 7, True)


def test_process_alive_knows_this_process_and_rejects_impossible_pids() -> None:
    assert process_alive(os.getpid())
    assert not process_alive(0)
    assert not process_alive(2**22 + 1)


def test_negative_lock_timeout_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lock_timeout"):
        JsonFileRepository(tmp_path, lock_timeout=-1)


def test_a_waiter_gets_the_lock_after_the_holder_purged_the_environment(data_dir: Path) -> None:
    repo = JsonFileRepository(data_dir, lock_timeout=10)
    repo.save(created())
    acquired = threading.Event()

    def wait_for_lock() -> None:
        with repo.lock(NAME):
            acquired.set()

    with repo.lock(NAME):
        waiter = threading.Thread(target=wait_for_lock)
        waiter.start()
        assert not acquired.wait(0.2)
        repo.delete(NAME)
    waiter.join(10)

    assert acquired.is_set()
    assert repo.load(NAME) is None


def test_locking_an_environment_that_was_never_saved_leaves_nothing_behind(
    repo: JsonFileRepository, data_dir: Path
) -> None:
    with repo.lock(NAME):
        assert repo.lock_path(NAME).exists()

    assert not repo.environment_dir(NAME).exists()
    assert repo.list() == []


def test_threads_contending_for_an_environment_that_is_never_saved_stay_mutually_exclusive(
    repo: JsonFileRepository,
) -> None:
    inside, most_inside, guard = 0, 0, threading.Lock()

    errors: list[BaseException] = []

    def contend() -> None:
        try:
            rounds()
        except BaseException as error:
            errors.append(error)

    def rounds() -> None:
        nonlocal inside, most_inside
        for _ in range(50):
            with repo.lock(NAME):
                with guard:
                    inside += 1
                    most_inside = max(most_inside, inside)
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=contend) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert most_inside == 1
    assert not repo.environment_dir(NAME).exists()


def test_delete_inside_a_held_lock_keeps_the_environment_locked_until_the_lock_ends(
    repo: JsonFileRepository,
) -> None:
    repo.save(created())
    with repo.lock(NAME):
        repo.delete(NAME)

        assert not repo.exists(NAME)
        assert sorted(p.name for p in repo.environment_dir(NAME).iterdir()) == [
            "environment.json.lock",
            "environment.json.lock.pid",
        ]
        with pytest.raises(LockTimeoutError):
            threaded_lock_attempt(JsonFileRepository(repo.data_dir, lock_timeout=0.1))

    assert not repo.environment_dir(NAME).exists()


def threaded_lock_attempt(repo: JsonFileRepository) -> None:
    """Try to take the lock from another thread (its own hold); re-raise what it raised."""
    errors: list[BaseException] = []

    def attempt() -> None:
        try:
            with repo.lock(NAME):
                pass
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=attempt)
    thread.start()
    thread.join(10)
    if errors:
        raise errors[0]
