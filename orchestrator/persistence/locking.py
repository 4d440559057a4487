"""Per-environment process lock: a kernel flock (released when the holder dies) plus a PID note.

A waiter blocks in the kernel and is woken by the release: no polling. `flock(LOCK_EX)` has no timeout,
so the blocking call runs in a helper thread, on the waiter's own descriptor, while the waiter waits at
most the lock timeout for the helper to say that flock returned. A free lock is taken with one
non-blocking flock in the calling thread (no helper); a held one is given by the kernel to the helper at
the release, which wakes the waiter at once. On timeout the waiter gives up and leaves the descriptor to
the helper, which stays parked in flock until the holder releases or dies, then takes the lock and
drops it at once. The cost of a timeout, then: one parked daemon thread and one descriptor per
timed-out attempt until the holder lets go, and a hold of a few microseconds that nobody uses.

Why not `signal.setitimer` around a blocking flock in the calling thread: it works only on the main
thread (commands also run in others), takes SIGALRM from the application, and a timer firing just after
flock returned would raise with the lock held. Why not `filelock`, which the design names (the lab
still uses it): it acquires only by retrying a non-blocking flock with `time.sleep` in between, so a
waiter got in up to a poll period after the release (3.5-3.9 ms median hand-off in the bench, against
0.1 ms for a blocking flock), and its hold is tied to a descriptor it opens itself, so a lock taken by a
blocking flock in a helper cannot be handed to it. What it did here — a descriptor per thread, the
re-entrancy, the lock file's mode, noticing a lock file unlinked by the previous holder — is below.

The note is read by `lock_holder` (standard library only); `read_holder_pid` and `process_alive` are
re-exported here.
"""

from __future__ import annotations

import _thread
import contextlib
import fcntl
import os
import queue
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from orchestrator.persistence.errors import LockTimeoutError
from orchestrator.persistence.files import DIR_MODE, FILE_MODE, ensure_private_dir
from orchestrator.persistence.lock_holder import (
    PID_SUFFIX,
    current_lock_file,
    lock_is_held,
    process_alive,
    read_holder_pid,
)

__all__ = ["EnvironmentLocks", "pid_path", "process_alive", "read_holder_pid"]

_OPEN_FLAGS = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW


@dataclass(frozen=True, slots=True)
class _Hold:
    fd: int
    pid: int


# thread_local: a hold belongs to the thread that took it, like a command run. Each thread has its own
# descriptor, so two threads of one process exclude each other in the kernel as two processes do.
_HELD = threading.local()
# Every descriptor this process has open on a lock file (held, or parked in a helper's flock): a child
# forked without exec closes its copies, so that a killed holder's lock is not kept alive by a child.
_OPEN_FDS: set[int] = set()


_FileKey = tuple[int, int]
"""A lock file's (st_dev, st_ino): which file a hold is on, however its path is spelled. A held lock file
is never unlinked by anyone but its holder, so its inode cannot be reused while the hold lasts."""


def _file_key(stat: os.stat_result) -> _FileKey:
    return (stat.st_dev, stat.st_ino)


def _holds() -> dict[_FileKey, _Hold]:
    holds: dict[_FileKey, _Hold] | None = getattr(_HELD, "holds", None)
    if holds is None:
        holds = _HELD.holds = {}
    return holds


def _after_fork_in_child() -> None:
    _Helper.forget_all()
    _holds().clear()  # the parent's holds are not the child's (other threads' are gone with them)
    for fd in list(_OPEN_FDS):
        with contextlib.suppress(OSError):
            os.close(fd)  # closing a copy leaves the parent's lock alone (only LOCK_UN or its last close frees it)
    _OPEN_FDS.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


def pid_path(lock_path: Path) -> Path:
    """Where the holder of `lock_path` records its PID."""
    return lock_path.with_name(lock_path.name + PID_SUFFIX)


def _open(lock_path: Path) -> int:
    fd = os.open(lock_path, _OPEN_FLAGS, FILE_MODE)
    _OPEN_FDS.add(fd)
    return fd


def _close(fd: int) -> None:
    """Close a lock descriptor; if it held the lock, this releases it."""
    _OPEN_FDS.discard(fd)
    os.close(fd)


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class _Wait:
    """One waiter's blocking `flock(fd, LOCK_EX)`, run by a helper; handed back to the waiter or dropped.

    Who owns `fd` is settled under `_guard`: the waiter once flock has returned, else the helper (which
    closes it, releasing the lock if it got it, as soon as flock returns).
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.queued = False
        self._wakeup = _thread.allocate_lock()  # released by the helper when flock has returned
        self._wakeup.acquire()
        self._guard = _thread.allocate_lock()
        self._returned = False
        self._abandoned = False
        self._error: OSError | None = None

    def run(self) -> None:
        """In the helper: block in the kernel until the holder releases (or dies), then hand over."""
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except OSError as error:
            self._error = error
        with self._guard:
            self._returned = True
            abandoned = self._abandoned
        self._wakeup.release()
        if abandoned:  # the waiter gave up: drop the lock nobody wants any more
            with contextlib.suppress(OSError):
                _close(self.fd)

    def settle(self) -> bool:
        """True: flock has returned and `fd` is the waiter's. False: the helper keeps `fd` and closes it."""
        with self._guard:
            self._abandoned = not self._returned
            return self._returned

    def result(self, timeout: float) -> bool:
        """In the waiter: True, the lock is held through `fd`, which is the caller's again; False, timed
        out, and `fd` is the helper's. On an error (flock's, or an interruption) `fd` is not the caller's."""
        try:
            self._wakeup.acquire(timeout=min(timeout, threading.TIMEOUT_MAX))  # woken at once by the helper
        except BaseException:
            if self.settle():
                _close(self.fd)
            raise
        if not self.settle():
            return False
        if self._error is not None:
            _close(self.fd)
            raise self._error
        return True


class _Helper:
    """A daemon thread that runs waiters' blocking flocks, one after another.

    Helpers are kept (up to `_MAX_IDLE`) for the next wait: starting a thread costs about as much as a
    hand-off, and one that exits right after waking its waiter holds the GIL the waiter needs.
    """

    _MAX_IDLE = 8
    _idle: ClassVar[list[_Helper]] = []
    _idle_guard = _thread.allocate_lock()

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[_Wait] = queue.SimpleQueue()
        threading.Thread(target=self._serve, name="environment-lock-wait", daemon=True).start()

    @classmethod
    def run(cls, wait: _Wait) -> None:
        """Hand `wait` to an idle helper, or to a new one."""
        with cls._idle_guard:
            helper = cls._idle.pop() if cls._idle else None
        jobs = (helper or cls())._jobs
        wait.queued = True
        jobs.put(wait)

    def _serve(self) -> None:
        while True:
            self._jobs.get().run()
            with self._idle_guard:
                if len(self._idle) >= self._MAX_IDLE:
                    return
                self._idle.append(self)

    @classmethod
    def forget_all(cls) -> None:
        """After fork, in the child: the helper threads are the parent's."""
        cls._idle.clear()
        cls._idle_guard = _thread.allocate_lock()


def _lock_within(fd: int, deadline: float) -> bool:
    """Lock `fd` by `deadline` (time.monotonic): True and `fd` is the caller's, locked; False or an
    error and `fd` is no longer the caller's (closed, or left to a helper that closes it)."""
    try:
        if _try_lock(fd):
            return True
    except BaseException:
        _close(fd)
        raise
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        _close(fd)
        return False
    wait = _Wait(fd)
    try:
        _Helper.run(wait)
    except BaseException:
        if not wait.queued or wait.settle():  # else a helper has it and closes it
            _close(fd)
        raise
    return wait.result(remaining)


def _private_dir(directory: Path) -> None:
    """Make the environment's directory (`ensure_private_dir`) or keep it private, whoever made it, with one
    `stat`; a chmod only when its mode is wrong (a chmod changes the inode even to the same mode, which the
    next fsync then has to write)."""
    try:
        mode = os.stat(directory).st_mode
    except OSError:
        mode = 0
    if not stat.S_ISDIR(mode):
        ensure_private_dir(directory)
    elif mode & 0o777 != DIR_MODE:
        with contextlib.suppress(OSError):
            os.chmod(directory, DIR_MODE)


def _note_holder(note: Path) -> None:
    """Make the holder note say this process's PID (advisory: a failure is ignored).

    The note outlives the hold and is rewritten only when it names another process, so a process that
    takes the lock again and again reads it and changes no file (a file created and removed at each hold
    cost every save a journal commit's worth of extra metadata). Only the holder writes it, in place: a
    reader that catches it empty between the truncation and the one small write reads no PID.
    """
    mine = f"{os.getpid()}\n".encode()
    with contextlib.suppress(OSError):
        fd = os.open(note, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, FILE_MODE)
        try:
            if os.pread(fd, 32, 0) != mine:
                os.ftruncate(fd, 0)
                os.pwrite(fd, mine, 0)
        finally:
            os.close(fd)


class EnvironmentLocks:
    """One re-entrant lock per lock file path and thread; processes and threads exclude each other."""

    @staticmethod
    def held_here(lock_path: Path) -> bool:
        """Whether this thread holds the lock on `lock_path`."""
        holds = _holds()
        if not holds:
            return False
        try:
            return _file_key(os.stat(lock_path)) in holds
        except (FileNotFoundError, NotADirectoryError):
            return False

    @classmethod
    def probe(cls, lock_path: Path) -> bool:
        """Whether anyone (this thread included) holds the lock on `lock_path` now; never waits, creates
        nothing."""
        return cls.held_here(lock_path) or lock_is_held(lock_path)

    @classmethod
    @contextlib.contextmanager
    def hold(
        cls, name: str, lock_path: Path, timeout: float, before_release: Callable[[], None] | None = None
    ) -> Iterator[None]:
        """Hold the lock on `lock_path` (re-entrant in one thread); LockTimeoutError after `timeout` s.

        `before_release` runs at the end of the outermost hold, while the lock is still held.
        """
        holds = _holds()
        if cls.held_here(lock_path):  # nested in this thread's own hold
            yield
            return
        fd, key = cls._acquire(name, lock_path, timeout)
        hold = holds[key] = _Hold(fd, os.getpid())
        try:
            _note_holder(pid_path(lock_path))
            yield
        finally:
            if hold.pid == os.getpid():  # else a child forked inside the hold: the hold is its parent's
                try:
                    if before_release is not None:
                        before_release()
                finally:
                    del holds[key]
                    _close(fd)

    @staticmethod
    def _acquire(name: str, lock_path: Path, timeout: float) -> tuple[int, _FileKey]:
        """Lock `lock_path` (creating it and its directory if need be); the descriptor holding the lock and
        the locked file's key."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                _private_dir(lock_path.parent)
                fd = _open(lock_path)
            except FileNotFoundError:  # the holder before us removed the directory meanwhile: recreate it
                if time.monotonic() < deadline:
                    continue
                break
            if not _lock_within(fd, deadline):
                break
            try:
                current = current_lock_file(fd, lock_path)
                if current is not None and current.st_mode & 0o777 != FILE_MODE:
                    with contextlib.suppress(PermissionError):
                        os.fchmod(fd, FILE_MODE)
            except BaseException:
                _close(fd)
                raise
            if current is not None:
                return fd, _file_key(current)
            _close(fd)  # the holder before us unlinked it while we waited: the lock is a fresh file now
        pid = read_holder_pid(lock_path)
        raise LockTimeoutError(
            name, pid, pid is not None and process_alive(pid), timeout_s=timeout, lock_path=lock_path
        )
