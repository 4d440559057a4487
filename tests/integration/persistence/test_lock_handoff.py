"""A waiter blocks in the kernel (flock) and is woken by the release — no sleep-polling — and the lock
timeout still holds. How fast the hand-off is belongs to the bench (`python -m bench --only persistence`);
these tests check the mechanism, not wall times."""

from __future__ import annotations

import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.context import ForkServerContext, ForkServerProcess
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from pathlib import Path

import pytest

from orchestrator.domain import EnvironmentName
from orchestrator.persistence import JsonFileRepository, LockTimeoutError, locking
from tests.integration.persistence import workers

pytestmark = pytest.mark.integration

NAME = EnvironmentName("handoff")
FLOCK_SYSCALL = {"x86_64": 73, "aarch64": 32}.get(platform.machine())
QUIET_WINDOW_S = 0.3
"""How long the blocked waiter is watched; a waiter polling every 5 ms would wake about 60 times in it."""


def _threads(pid: int) -> list[Path]:
    return sorted(Path(f"/proc/{pid}/task").iterdir())


def _syscall(task: Path) -> int | None:
    try:
        field = (task / "syscall").read_text().split()[0]
    except (OSError, IndexError):
        return None
    return int(field) if field.lstrip("-").isdigit() else None


def _wakeups(pid: int) -> int:
    """Voluntary context switches of all threads of `pid`: each is one wake-up from a blocking call."""
    total = 0
    for task in _threads(pid):
        for line in (task / "status").read_text().splitlines():
            if line.startswith("voluntary_ctxt_switches:"):
                total += int(line.split()[1])
    return total


def _blocked_in_flock(pid: int, within_s: float = 30.0) -> Path:
    """The thread of `pid` that sits in the flock system call (waited for: the waiter may not be there yet)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        for task in _threads(pid):
            if _syscall(task) == FLOCK_SYSCALL:
                return task
        time.sleep(0.01)
    states = {task.name: (_syscall(task), (task / "wchan").read_text()) for task in _threads(pid)}
    raise AssertionError(f"no thread of {pid} is blocked in flock: {states}")


@pytest.fixture(autouse=True)
def _proc_syscall_readable() -> None:
    if FLOCK_SYSCALL is None or _syscall(Path(f"/proc/self/task/{os.getpid()}")) is None:
        pytest.skip("needs Linux on x86_64/aarch64 with a readable /proc/PID/task/TID/syscall")


@dataclass
class Waiter:
    process: ForkServerProcess
    asking: Event
    acquired: Event
    leave: Event
    acquired_at: Synchronized[float]
    sleeps: Synchronized[int]

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid


@contextmanager
def holder_and_waiter(data_dir: Path, mp: ForkServerContext) -> Iterator[tuple[ForkServerProcess, Event, Waiter]]:
    """A process holding the lock (until the yielded event is set) and a process waiting for it."""
    ready, release = mp.Event(), mp.Event()
    released_at = mp.Value("d", 0.0)
    holder = mp.Process(target=workers.hold_until_told, args=(str(data_dir), NAME.value, ready, release, released_at))
    asking, acquired, leave = mp.Event(), mp.Event(), mp.Event()
    acquired_at, sleeps = mp.Value("d", 0.0), mp.Value("i", 0)
    process = mp.Process(
        target=workers.wait_for_lock,
        args=(str(data_dir), NAME.value, asking, acquired, leave, acquired_at, sleeps),
    )
    waiter = Waiter(process, asking, acquired, leave, acquired_at, sleeps)
    holder.start()
    try:
        assert ready.wait(30)
        process.start()
        assert asking.wait(30)
        yield holder, release, waiter
        holder.join(30)
        process.join(30)
        assert (holder.exitcode, process.exitcode) in {(0, 0), (-signal.SIGKILL, 0)}
        if holder.exitcode == 0:
            assert acquired_at.value >= released_at.value  # got in after the release, not before
    finally:
        if holder.is_alive():  # (a killed waiter of an mp.Event would hang its set())
            release.set()
        leave.set()
        for child in (holder, process):
            child.join(10)
            if child.is_alive():
                child.kill()


def test_a_blocked_waiter_sleeps_in_flock_and_the_release_wakes_it(tmp_path: Path, mp: ForkServerContext) -> None:
    repo = JsonFileRepository(tmp_path)
    repo.save(workers.version(NAME.value, 2))  # a saved environment: its lock file stays between holds
    with holder_and_waiter(tmp_path, mp) as (_, release, waiter):
        _blocked_in_flock(waiter.pid)
        before = _wakeups(waiter.pid)
        time.sleep(QUIET_WINDOW_S)
        during = _wakeups(waiter.pid) - before
        assert not waiter.acquired.is_set()

        release.set()
        assert waiter.acquired.wait(30)
        assert repo.is_locked(NAME)  # the waiter holds the lock file that is there
        waiter.leave.set()

    assert during <= 1, f"the waiting process woke {during} times while the lock was held: it polls"
    assert waiter.sleeps.value == 0, "time.sleep was called while waiting for the lock"


def test_a_waiter_blocked_on_a_lock_file_its_holder_removes_gets_the_fresh_one(
    tmp_path: Path, mp: ForkServerContext
) -> None:
    # never saved: the holder's release removes the lock file and the directory (`_forget_if_unused`);
    # the waiter, woken on the unlinked file, must retry on a fresh one rather than "hold" the dead one
    repo = JsonFileRepository(tmp_path)
    with holder_and_waiter(tmp_path, mp) as (_, release, waiter):
        _blocked_in_flock(waiter.pid)
        waited_on = os.open(repo.lock_path(NAME), os.O_RDONLY)  # keeps its inode (and number) alive
        try:
            release.set()
            assert waiter.acquired.wait(30)

            assert os.fstat(waited_on).st_nlink == 0  # the file the waiter slept on was removed
            assert not os.path.samestat(os.fstat(waited_on), repo.lock_path(NAME).stat())
        finally:
            os.close(waited_on)
        assert repo.is_locked(NAME)  # the waiter holds the fresh file
        with pytest.raises(LockTimeoutError) as caught, JsonFileRepository(tmp_path, lock_timeout=0.2).lock(NAME):
            pass
        assert caught.value.holder_pid == waiter.pid
        waiter.leave.set()

    assert waiter.sleeps.value == 0
    assert not (tmp_path / NAME.value).exists()


def test_a_blocked_waiter_is_woken_when_the_holder_is_killed(tmp_path: Path, mp: ForkServerContext) -> None:
    with holder_and_waiter(tmp_path, mp) as (holder, _, waiter):
        _blocked_in_flock(waiter.pid)
        assert holder.pid is not None
        os.kill(holder.pid, signal.SIGKILL)

        assert waiter.acquired.wait(30)
        waiter.leave.set()

    assert waiter.sleeps.value == 0


def test_the_timeout_still_holds_names_the_live_holder_and_never_sleeps(
    tmp_path: Path, mp: ForkServerContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    ready, release, released_at = mp.Event(), mp.Event(), mp.Value("d", 0.0)
    holder = mp.Process(target=workers.hold_until_told, args=(str(tmp_path), NAME.value, ready, release, released_at))
    open_before = set(locking._OPEN_FDS)
    holder.start()
    try:
        assert ready.wait(30)

        def no_sleep(seconds: float) -> None:
            raise AssertionError(f"time.sleep({seconds}) called while waiting for the lock")

        with monkeypatch.context() as patched:
            patched.setattr(time, "sleep", no_sleep)
            with pytest.raises(LockTimeoutError) as caught, JsonFileRepository(tmp_path, lock_timeout=0.3).lock(NAME):
                pass
        # the documented cost of a timeout: its descriptor stays with a helper parked in flock
        parked = locking._OPEN_FDS - open_before
        assert len(parked) == 1
        assert any(_syscall(task) == FLOCK_SYSCALL for task in _threads(os.getpid()))
    finally:
        release.set()
        holder.join(30)

    assert (caught.value.holder_pid, caught.value.holder_alive) == (holder.pid, True)
    assert f"locked by process {holder.pid} (alive)" in str(caught.value)
    assert "after waiting 0.3 s" in str(caught.value)
    # once the holder let go, the helper takes the lock for nobody and drops it at once
    deadline = time.monotonic() + 30
    while parked & locking._OPEN_FDS and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not parked & locking._OPEN_FDS
    with JsonFileRepository(tmp_path, lock_timeout=0).lock(NAME):
        pass


KILLED_PARENT = """
import os, sys, time
from pathlib import Path
from orchestrator.domain import EnvironmentName
from orchestrator.persistence import JsonFileRepository
with JsonFileRepository(Path(sys.argv[1])).lock(EnvironmentName("handoff")):
    child = os.fork()
    if child == 0:  # a forked child (no exec) outliving its parent must not keep the parent's lock
        time.sleep(60)
        os._exit(0)
    print(child, flush=True)
    time.sleep(60)
"""


def test_a_killed_holder_releases_the_lock_even_if_a_child_it_forked_lives_on(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", KILLED_PARENT, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    child_pid = 0
    try:
        assert holder.stdout is not None
        child_pid = int(holder.stdout.readline())
        repo = JsonFileRepository(tmp_path, lock_timeout=30)
        assert repo.is_locked(NAME)
        holder.kill()
        holder.wait()

        with repo.lock(NAME):
            assert os.path.exists(f"/proc/{child_pid}")  # the child still runs, and the lock is ours
    finally:
        holder.kill()
        holder.wait()
        if child_pid:
            os.kill(child_pid, signal.SIGKILL)


FORK_INSIDE_A_HOLD = """
import os, sys
from pathlib import Path
from orchestrator.domain import EnvironmentName
from orchestrator.persistence import JsonFileRepository, LockTimeoutError
from orchestrator.persistence.locking import EnvironmentLocks, read_holder_pid
repo = JsonFileRepository(Path(sys.argv[1]), lock_timeout=0.1)
name = EnvironmentName("handoff")
with repo.lock(name):
    child = os.fork()
    if child == 0:  # the child leaves the parent's `with` block by unwinding, then exits
        try:
            with repo.lock(name):
                print("child got the lock", flush=True)
        except LockTimeoutError as error:
            held = EnvironmentLocks.held_here(repo.lock_path(name))
            print(f"child: held_here={held} holder={error.holder_pid}", flush=True)
    else:
        os.waitpid(child, 0)
        print(f"parent: pid={os.getpid()} note={read_holder_pid(repo.lock_path(name))}", flush=True)
        sys.stdin.readline()
"""


def test_a_child_forked_inside_a_hold_neither_shares_nor_ends_it(tmp_path: Path) -> None:
    repo = JsonFileRepository(tmp_path)
    repo.save(workers.version(NAME.value, 2))
    command = [sys.executable, "-c", FORK_INSIDE_A_HOLD, str(tmp_path)]
    parent = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None and parent.stdin is not None
        child_line, parent_line = parent.stdout.readline(), parent.stdout.readline()

        assert child_line.strip() == f"child: held_here=False holder={parent.pid}"
        assert parent_line.strip() == f"parent: pid={parent.pid} note={parent.pid}"  # the child's exit kept the note
        assert repo.is_locked(NAME)  # ... and the lock
        parent.stdin.close()
        assert parent.wait(30) == 0
    finally:
        parent.kill()
        parent.wait()
    assert not repo.is_locked(NAME)
