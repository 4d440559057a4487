"""Who holds an environment's lock: the PID its holder notes beside the lock file. Standard library only.

The kernel lock itself is taken in `locking` (fcntl.flock, with helper threads); asking whether it is
held and reading the note need neither, so `show` and `list` — also on the CLI's quick path — tell
whether a command is running without importing it.

The note stays after the hold ends (its last holder rewrites it only when another process held the lock
before), so it tells who holds the lock only while the lock is held: `running_holder_pid` asks the lock.
"""

from __future__ import annotations

import fcntl
import io
import os

PID_SUFFIX = ".pid"
"""The holder's PID note is the lock file's path plus this suffix."""


def read_holder_pid(lock_path: str | os.PathLike[str]) -> int | None:
    """The PID the current (or last) holder of `lock_path` recorded, if any."""
    try:
        with open(os.fspath(lock_path) + PID_SUFFIX, encoding=io.text_encoding(None)) as note:
            text = note.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def process_alive(pid: int) -> bool:
    """Whether process `pid` exists and is not a zombie."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # Linux: a killed but unreaped process is a zombie and holds no lock
        with open(f"/proc/{pid}/stat", encoding=io.text_encoding(None)) as stat_file:
            stat = stat_file.read()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] not in (["Z"], ["X"])


def current_lock_file(fd: int, lock_path: str | os.PathLike[str]) -> os.stat_result | None:
    """The file open as `fd` if it is still the one at `lock_path`, else None.

    The holder before may have unlinked it (the end of an environment that had nothing but its lock): then
    its link count is 0, and a fresh lock file, maybe already held, is the lock now.
    """
    opened = os.fstat(fd)
    if opened.st_nlink == 0:
        return None
    try:
        return opened if os.path.samestat(opened, os.stat(lock_path)) else None
    except (FileNotFoundError, NotADirectoryError):
        return None


def lock_is_held(lock_path: str | os.PathLike[str]) -> bool:
    """Whether any descriptor (in this process too) holds the flock on `lock_path` now; never waits and
    creates nothing. The probe's own shared lock lasts a few microseconds. OSError if it cannot tell
    (the lock file unreadable)."""
    while True:
        try:
            fd = os.open(lock_path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
        except (FileNotFoundError, NotADirectoryError):
            return False  # never locked, or purged by its last holder: free
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            if current_lock_file(fd, lock_path) is not None:
                return False
        finally:
            os.close(fd)  # releases the probe's own brief hold
        # we locked a file its holder had unlinked: look at the fresh one


def running_holder_pid(lock_path: str | os.PathLike[str]) -> int | None:
    """The PID of a live process holding `lock_path` (a command is running), by its note, if any."""
    pid = read_holder_pid(lock_path)
    if pid is None or not process_alive(pid):
        return None
    try:
        held = lock_is_held(lock_path)
    except OSError:  # the lock cannot be asked: a live process noted is all there is to go by
        held = True
    return pid if held else None
