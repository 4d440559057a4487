"""What /proc says of a process, for tests that check which processes a run left behind."""

from __future__ import annotations

from pathlib import Path


def alive(pid: int) -> bool:
    """The process exists and is not a zombie (its state, field 3 of /proc/PID/stat, is not Z)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def descendants(pid: int) -> list[tuple[int, str]]:
    """(pid, command name) of every live process below `pid`, children first, read from /proc."""
    parents: dict[int, list[tuple[int, str]]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # it ended while the folder was listed
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        state, ppid = text.rpartition(")")[2].split()[:2]
        if state != "Z":
            parents.setdefault(int(ppid), []).append((int(stat.parent.name), name))
    found: list[tuple[int, str]] = []
    queue = [pid]
    while queue:
        for child in parents.get(queue.pop(0), []):
            found.append(child)
            queue.append(child[0])
    return found
