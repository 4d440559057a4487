"""Waiting for the lock blocks in the kernel (a helper thread in flock), never in `time.sleep`; the timeout,
re-entrancy and per-thread holds stay as they were."""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.domain import EnvironmentName
from orchestrator.persistence import JsonFileRepository, LockTimeoutError, locking
from tests.support.environments import created

NAME = EnvironmentName("e2e")


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(seconds: float) -> None:
        raise AssertionError(f"time.sleep({seconds}) called: the lock polls")

    monkeypatch.setattr(time, "sleep", forbidden)


@pytest.fixture
def held_by_another_thread(data_dir: Path) -> Iterator[threading.Event]:
    """`NAME` locked by a thread of this process until the yielded event is set."""
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with JsonFileRepository(data_dir).lock(NAME):
            held.set()
            release.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(10)
    try:
        yield release
    finally:
        release.set()
        thread.join(10)


def test_a_waiting_thread_gets_the_lock_when_the_holder_releases_without_sleeping(
    data_dir: Path, held_by_another_thread: threading.Event, no_sleep: None
) -> None:
    got_it = threading.Event()
    errors: list[BaseException] = []

    def wait() -> None:
        try:
            with JsonFileRepository(data_dir, lock_timeout=30).lock(NAME):
                got_it.set()
        except BaseException as error:
            errors.append(error)

    waiter = threading.Thread(target=wait)
    waiter.start()
    assert not got_it.wait(0.1)  # blocked behind the holder
    held_by_another_thread.set()
    waiter.join(10)

    assert errors == []
    assert got_it.is_set()


def test_a_timed_out_wait_names_this_process_and_leaves_no_lock_behind(
    data_dir: Path, held_by_another_thread: threading.Event, no_sleep: None
) -> None:
    open_before = set(locking._OPEN_FDS)

    with pytest.raises(LockTimeoutError) as caught, JsonFileRepository(data_dir, lock_timeout=0.05).lock(NAME):
        pass

    assert (caught.value.holder_pid, caught.value.holder_alive) == (os.getpid(), True)
    parked = locking._OPEN_FDS - open_before
    assert len(parked) == 1  # the helper still waits in flock with the timed-out descriptor
    held_by_another_thread.set()
    with JsonFileRepository(data_dir, lock_timeout=10).lock(NAME):
        pass
    deadline = time.monotonic() + 10
    while parked & locking._OPEN_FDS and time.monotonic() < deadline:
        threading.Event().wait(0.01)
    assert not parked & locking._OPEN_FDS  # it took the lock for nobody and dropped it
    assert not JsonFileRepository(data_dir).is_locked(NAME)


def test_a_zero_timeout_fails_at_once_without_a_helper(data_dir: Path, held_by_another_thread: threading.Event) -> None:
    open_before = set(locking._OPEN_FDS)

    with (
        pytest.raises(LockTimeoutError, match="after waiting 0 s"),
        JsonFileRepository(data_dir, lock_timeout=0).lock(NAME),
    ):
        pass

    assert open_before == locking._OPEN_FDS


def test_an_infinite_timeout_waits_for_the_release(data_dir: Path, held_by_another_thread: threading.Event) -> None:
    threading.Timer(0.05, held_by_another_thread.set).start()

    with JsonFileRepository(data_dir, lock_timeout=math.inf).lock(NAME):
        pass


def test_the_lock_is_reentrant_through_another_spelling_of_the_same_directory(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "data")
    direct = JsonFileRepository(tmp_path / "data", lock_timeout=0.1)
    aliased = JsonFileRepository(tmp_path / "alias", lock_timeout=0.1)

    with direct.lock(NAME), aliased.lock(NAME):
        aliased.save(created())
        assert direct.is_locked(NAME)

    assert direct.exists(NAME)
    assert not direct.is_locked(NAME)


def test_a_hold_belongs_to_its_thread(repo: JsonFileRepository) -> None:
    seen: list[bool] = []
    with repo.lock(NAME):
        thread = threading.Thread(target=lambda: seen.append(locking.EnvironmentLocks.held_here(repo.lock_path(NAME))))
        thread.start()
        thread.join(10)
        assert locking.EnvironmentLocks.held_here(repo.lock_path(NAME))

    assert seen == [False]


def test_probing_an_environment_never_locked_creates_nothing(repo: JsonFileRepository, data_dir: Path) -> None:
    assert not repo.is_locked(NAME)

    assert not data_dir.exists()


def test_the_lock_file_and_directory_are_private_even_under_a_permissive_umask(repo: JsonFileRepository) -> None:
    repo.save(created())
    old = os.umask(0)
    try:
        repo.lock_path(NAME).unlink()
        repo.environment_dir(NAME).chmod(0o755)
        with repo.lock(NAME):
            assert repo.lock_path(NAME).stat().st_mode & 0o777 == 0o600
            assert repo.environment_dir(NAME).stat().st_mode & 0o777 == 0o700
    finally:
        os.umask(old)
