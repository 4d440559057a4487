"""Per-environment process lock: a kernel flock (released when the holder dies) plus a PID note.

The note is read by `lock_holder` (standard library only); `read_holder_pid` and `process_alive` are
re-exported here.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from filelock import BaseFileLock, FileLock, Timeout

from orchestrator.persistence.errors import LockTimeoutError
from orchestrator.persistence.files import DIR_MODE, FILE_MODE, atomic_write, ensure_private_dir
from orchestrator.persistence.lock_holder import PID_SUFFIX, process_alive, read_holder_pid

_POLL_INTERVAL_S = 0.005  # lock hand-off latency is up to one poll period
# One FileLock per lock file in this process: two flock descriptors on one file would block each other.
_REGISTRY: dict[str, BaseFileLock] = {}
_REGISTRY_GUARD = threading.Lock()

__all__ = ["EnvironmentLocks", "pid_path", "process_alive", "read_holder_pid"]


def pid_path(lock_path: Path) -> Path:
    """Where the holder of `lock_path` records its PID."""
    return lock_path.with_name(lock_path.name + PID_SUFFIX)


class EnvironmentLocks:
    """One re-entrant lock per lock file path, shared by every repository in this process."""

    @staticmethod
    def _file_lock(lock_path: Path) -> BaseFileLock:
        key = os.path.realpath(lock_path)
        with _REGISTRY_GUARD:
            lock = _REGISTRY.get(key)
            if lock is None:
                # thread_local: a hold belongs to the thread that took it, like a command run.
                lock = FileLock(
                    key,
                    mode=FILE_MODE,
                    thread_local=True,
                    preserve_lock_file=True,
                    fallback_to_soft=False,
                )
                _REGISTRY[key] = lock
            return lock

    @classmethod
    def held_here(cls, lock_path: Path) -> bool:
        """Whether this thread holds the lock on `lock_path`."""
        key = os.path.realpath(lock_path)
        with _REGISTRY_GUARD:
            lock = _REGISTRY.get(key)
        return lock is not None and lock.is_locked

    @classmethod
    @contextlib.contextmanager
    def hold(
        cls, name: str, lock_path: Path, timeout: float, before_release: Callable[[], None] | None = None
    ) -> Iterator[None]:
        """Hold the lock on `lock_path` (re-entrant in one thread); LockTimeoutError after `timeout` s.

        `before_release` runs at the end of the outermost hold, while the lock is still held.
        """
        lock = cls._file_lock(lock_path)
        outermost = not lock.is_locked
        if outermost:
            cls._acquire(name, lock, lock_path, timeout)
            with contextlib.suppress(OSError):  # a waiter may have recreated it with the default mode
                os.chmod(lock_path.parent, DIR_MODE)
        else:
            lock.acquire(timeout=0)  # count the nested hold; never blocks
        try:
            if outermost:
                with contextlib.suppress(OSError):  # the PID note is advisory
                    atomic_write(pid_path(lock_path), f"{os.getpid()}\n".encode(), durable=False)
            yield
        finally:
            try:
                if outermost:
                    with contextlib.suppress(OSError):
                        pid_path(lock_path).unlink(missing_ok=True)
                    if before_release is not None:
                        before_release()
            finally:
                lock.release()

    @staticmethod
    def _acquire(name: str, lock: BaseFileLock, lock_path: Path, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                ensure_private_dir(lock_path.parent)
                lock.acquire(timeout=max(0.0, deadline - time.monotonic()), poll_interval=_POLL_INTERVAL_S)
                return
            except Timeout:
                pass
            except (FileNotFoundError, FileExistsError):
                # The holder before us removed the environment directory; recreate it and try again.
                if time.monotonic() < deadline:
                    continue
            pid = read_holder_pid(lock_path)
            raise LockTimeoutError(
                name,
                pid,
                pid is not None and process_alive(pid),
                timeout_s=timeout,
                lock_path=lock_path,
            ) from None
