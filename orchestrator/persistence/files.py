"""Crash-safe file primitives: private directories, atomic replace, durable append."""

from __future__ import annotations

import contextlib
import os
import secrets
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
    temp = temp_name(path)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    try:
        try:
            os.fchmod(fd, FILE_MODE)
            _write_all(fd, data)
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


def durable_append(path: Path, data: bytes) -> None:
    """Append `data` to `path` (created 0600) in one write and fsync it."""
    if not data:
        return
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    try:
        if created:
            os.fchmod(fd, FILE_MODE)
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        fsync_dir(path.parent)


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
