"""Who holds an environment's lock: the PID its holder notes beside the lock file. Standard library only.

The kernel lock itself is taken in `locking` (fcntl.flock, with helper threads); reading the note needs
neither, so `show` and `list` — also on the CLI's quick path — tell whether a command is running without
importing it.
"""

from __future__ import annotations

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


def running_holder_pid(lock_path: str | os.PathLike[str]) -> int | None:
    """The PID of a live process holding `lock_path` by its note (a command is running), if any."""
    pid = read_holder_pid(lock_path)
    return pid if pid is not None and process_alive(pid) else None
