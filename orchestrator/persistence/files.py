"""Crash-safe file primitives: private directories, atomic replace, durable append before a replace."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700
TEMP_SUFFIX = ".tmp"
_FADVISE = getattr(os, "posix_fadvise", None)
"""os.posix_fadvise where the platform has it (`_start_writeback`)."""


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

    The temp file's writeback is started before the log is appended and fsync'd, so the journal commit of
    the log's fsync usually carries the temp file too, and the temp file's own fsync then finds nothing
    left to commit: one commit's wait for both files, in one thread.
    """
    temp = temp_name(path)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    try:
        try:
            os.fchmod(fd, FILE_MODE)
            _write_all(fd, data)
            if durable:
                _start_writeback(fd)
            if log is not None and lines:
                _append(log, lines, durable=durable)
            if durable:
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


def _start_writeback(fd: int) -> None:
    """Ask the kernel to start writing `fd`'s dirty pages now, without waiting (Linux: fadvise DONTNEED
    starts the writeback; the pages being written stay cached). Advisory: where it is missing or refused,
    the fsync that follows does all the work."""
    if _FADVISE is not None:
        with contextlib.suppress(OSError):
            _FADVISE(fd, 0, 0, os.POSIX_FADV_DONTNEED)


def _append(log: Path, lines: bytes, *, durable: bool) -> None:
    """Append `lines` to `log` in one write and (if `durable`) fsync it."""
    log_fd, created = _open_for_append(log)
    try:
        _write_all(log_fd, lines)
        if durable:
            os.fsync(log_fd)
    finally:
        os.close(log_fd)
    if created and durable:
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
