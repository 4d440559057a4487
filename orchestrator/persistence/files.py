"""Crash-safe file primitives: private directories, atomic replace, durable append before a replace."""

from __future__ import annotations

import _thread
import contextlib
import os
import queue
import secrets
import threading
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700
TEMP_SUFFIX = ".tmp"


def fsync_dir(path: Path) -> None:
    """Make the directory entries of `path` (renames, creations) durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) with mode 0700 if it does not exist; return it."""
    if path.is_dir():
        return path
    ensure_private_dir(path.parent)
    try:
        path.mkdir(mode=DIR_MODE)
    except FileExistsError:
        return path
    os.chmod(path, DIR_MODE)  # mkdir's mode is filtered by the umask
    fsync_dir(path.parent)
    return path


def temp_name(path: Path) -> Path:
    """A fresh temp path beside `path`; `is_temp_of` recognizes it."""
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{TEMP_SUFFIX}")


def is_temp_of(candidate: Path, path: Path) -> bool:
    """Whether `candidate` is a temp file left by `atomic_write(path, ...)`."""
    return _is_temp_name(candidate.name, path.name)


def _is_temp_name(name: str, target: str) -> bool:
    return name.startswith(f".{target}.") and name.endswith(TEMP_SUFFIX)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def atomic_write(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace `path` with `data` (mode 0600): readers see the old or the new file, never a mix."""
    append_then_replace(None, b"", path, data, durable=durable)


def append_then_replace(log: Path | None, lines: bytes, path: Path, data: bytes, *, durable: bool = True) -> None:
    """Append `lines` to `log` (created 0600) in one write, then replace `path` with `data` as `atomic_write`
    does: `path` changes only once `lines` are durable, and if appending fails, `path` is left as it was.

    Both files are written before either is fsync'd, and the two fsyncs run side by side (one in a
    helper thread): the filesystem's journal then commits them together, where one after the other
    costs two commits.
    """
    temp = temp_name(path)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    try:
        try:
            os.fchmod(fd, FILE_MODE)
            _write_all(fd, data)
            if log is not None and lines:
                _append_beside(log, lines, fd if durable else None)
            elif durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    if durable:
        fsync_dir(path.parent)


def _append_beside(log: Path, lines: bytes, other_fd: int | None) -> None:
    """Append `lines` to `log` and fsync it, and `other_fd` at the same time."""
    log_fd, created = _open_for_append(log)
    try:
        _write_all(log_fd, lines)
        if other_fd is None:
            os.fsync(log_fd)
        else:
            _SideSync.fsync_both(log_fd, other_fd)
    finally:
        os.close(log_fd)
    if created:
        fsync_dir(log.parent)


def _open_for_append(path: Path) -> tuple[int, bool]:
    """A descriptor appending to `path` (created 0600), and whether this created the file."""
    try:
        return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC), False
    except FileNotFoundError:
        pass
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return fd, True


class _SideSync:
    """A daemon thread that fsyncs one descriptor while its caller fsyncs another (one per process: a
    forked child starts its own)."""

    _jobs: queue.SimpleQueue[tuple[int, _thread.LockType, list[OSError]]] | None = None
    _pid = 0
    _guard = threading.Lock()

    @classmethod
    def fsync_both(cls, first: int, second: int) -> None:
        """fsync `first` (in the helper) and `second` (here) at once; the first OSError is raised once both
        have returned, so neither descriptor is closed while it is being synced."""
        done = _thread.allocate_lock()
        done.acquire()
        failed: list[OSError] = []
        cls._queue().put((first, done, failed))
        try:
            os.fsync(second)
        finally:
            done.acquire()
        if failed:
            raise failed[0]

    @classmethod
    def _queue(cls) -> queue.SimpleQueue[tuple[int, _thread.LockType, list[OSError]]]:
        with cls._guard:
            if cls._jobs is None or cls._pid != os.getpid():
                cls._jobs, cls._pid = queue.SimpleQueue(), os.getpid()
                threading.Thread(target=cls._serve, args=(cls._jobs,), name="fsync-beside", daemon=True).start()
            return cls._jobs

    @classmethod
    def forget(cls) -> None:
        """After fork, in the child: the helper thread (and maybe the guard's holder) is the parent's."""
        cls._jobs, cls._guard = None, threading.Lock()

    @staticmethod
    def _serve(jobs: queue.SimpleQueue[tuple[int, _thread.LockType, list[OSError]]]) -> None:
        while True:
            fd, done, failed = jobs.get()
            try:
                os.fsync(fd)
            except OSError as error:
                failed.append(error)
            finally:
                done.release()


def remove_temp_files(path: Path) -> int:
    """Delete temp files that interrupted `atomic_write(path, ...)` calls left; return how many."""
    removed = 0
    with os.scandir(path.parent) as entries:
        leftovers = [entry.path for entry in entries if _is_temp_name(entry.name, path.name)]
    for leftover in leftovers:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(leftover)
            removed += 1
    return removed


os.register_at_fork(after_in_child=_SideSync.forget)
