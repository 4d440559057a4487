"""No orphans: every process a command starts (pulumi, ansible-playbook and its workers, ssh) carries the
run's marker in its environment, and the run is recorded in `data/{env}/run.json` (its PID and marker).

A command that ends normally removes the record. One that is killed outright (SIGKILL, a crash) leaves
it — and maybe children still working on the host. The next command on the environment, holding its lock
(so no live command owns that record), finds the processes that carry the recorded marker, stops them
(SIGTERM to each, SIGKILL to what is left after a grace period) and says so, before it starts.

Runs in several threads of one process share one marker (`_SharedMark`): when that process is killed, the
next command on any of its environments stops the children of all of them, which were all left running.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

MARKER_VAR = "TORRUST_DEPLOY_RUN"
RUN_FILE = "run.json"
GRACE_S = 5.0
PRIVATE_UMASK = 0o077
"""Files the command and its children (the Pulumi CLI, ansible-runner) create: owner only."""
log = logging.getLogger("orchestrator.leftovers")


def _marked_processes(marker: str) -> list[tuple[int, str]]:
    """(PID, command name) of the processes whose environment holds `MARKER_VAR=marker`, except this one."""
    needle = f"{MARKER_VAR}={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            name = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            found.append((int(entry.name), name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def stop_leftovers(env_dir: Path) -> list[str]:
    """Stop the processes of a run that was killed outright (see the module); describe each one stopped."""
    record = env_dir / RUN_FILE
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
        marker, pid = str(data["marker"]), int(data["pid"])
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError):
        record.unlink(missing_ok=True)  # unreadable: it names nothing we could stop
        return []
    if pid == os.getpid():
        return []
    leftovers = _marked_processes(marker)
    for child, _ in leftovers:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(child, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_S
    while time.monotonic() < deadline and any(_alive(child) for child, _ in leftovers):
        time.sleep(0.05)
    for child, _ in leftovers:
        if _alive(child):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(child, signal.SIGKILL)
    record.unlink(missing_ok=True)
    stopped = [f"{name} (PID {child})" for child, name in leftovers]
    if stopped:
        log.warning(
            "stopped %d process(es) left running by an earlier run (PID %d) that was killed: %s",
            len(stopped),
            pid,
            ", ".join(stopped),
        )
    return stopped


class _SharedMark:
    """The marker and umask of the runs in progress in this process. Both live in process-wide state (the
    environment children inherit, the umask), so runs in several threads at once (a script deploying two
    environments side by side) share one marker, set by the first to start and put back by the last to
    end: each run's record names the marker its children carry, and no run's end unsets another's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs = 0
        self._marker = ""
        self._previous: tuple[str | None, int] = (None, PRIVATE_UMASK)

    def forget_in_child(self) -> None:
        """After a fork: the child runs none of the parent's runs, so its own first run takes a marker of
        its own (a killed child's leftovers must not name the parent's live children)."""
        self._lock = threading.Lock()
        self._runs = 0
        self._marker = ""

    def enter(self) -> str:
        with self._lock:
            if self._runs == 0:
                self._marker = secrets.token_hex(8)
                self._previous = (os.environ.get(MARKER_VAR), os.umask(PRIVATE_UMASK))
                os.environ[MARKER_VAR] = self._marker
            self._runs += 1
            return self._marker

    def leave(self) -> None:
        with self._lock:
            self._runs -= 1
            if self._runs == 0:
                previous_marker, previous_umask = self._previous
                if previous_marker is None:
                    os.environ.pop(MARKER_VAR, None)
                else:
                    os.environ[MARKER_VAR] = previous_marker
                os.umask(previous_umask)


_shared_mark = _SharedMark()
os.register_at_fork(after_in_child=_shared_mark.forget_in_child)


@contextlib.contextmanager
def marked_run(env_dir: Path) -> Iterator[str]:
    """While the command runs: its children carry the marker, the run is recorded, the umask is private."""
    marker = _shared_mark.enter()
    record = env_dir / RUN_FILE
    try:
        with contextlib.suppress(OSError):  # advisory: without it, leftovers are only not found later
            record.write_text(json.dumps({"pid": os.getpid(), "marker": marker}) + "\n", encoding="utf-8")
        yield marker
    finally:
        try:
            record.unlink(missing_ok=True)
        finally:
            _shared_mark.leave()
