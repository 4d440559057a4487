"""`EnvironmentRepository` and its JSON-file implementation, the only code that touches state files."""

from __future__ import annotations

import builtins
import contextlib
import json
import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Protocol

from pydantic import ValidationError

from orchestrator.domain import AnyEnvironment, Environment, EnvironmentName, InvalidEnvironmentNameError, State
from orchestrator.domain.names import as_environment_name
from orchestrator.persistence.errors import CorruptStateError, StaleStateError
from orchestrator.persistence.files import atomic_write, durable_append, ensure_private_dir, remove_temp_files
from orchestrator.persistence.locking import EnvironmentLocks, pid_path
from orchestrator.persistence.models import TransitionEvent, dump_document, parse_document, to_environment
from orchestrator.persistence.strict_read import LOCK_FILE, STATE_FILE

EVENTS_FILE = "events.jsonl"

_log = logging.getLogger(__name__)


class EnvironmentRepository(Protocol):
    """Where environments live between commands."""

    def save(self, env: AnyEnvironment) -> None:
        """Persist `env` and append its new transitions to the audit log."""

    def load(self, name: EnvironmentName) -> AnyEnvironment | None:
        """The saved environment, or None if there is none."""

    def exists(self, name: EnvironmentName) -> bool:
        """Whether a state file exists for `name`."""

    def list(self) -> builtins.list[EnvironmentName]:
        """Names of saved environments, sorted."""

    def delete(self, name: EnvironmentName) -> None:
        """Remove everything stored for `name`."""

    def is_locked(self, name: EnvironmentName) -> bool:
        """Whether a command (in any process, this thread included) holds the environment's lock now."""

    def read_events(self, name: EnvironmentName) -> builtins.list[TransitionEvent]:
        """The environment's audit trail (events.jsonl), oldest first."""

    def lock(self, name: EnvironmentName) -> AbstractContextManager[None]:
        """Exclusive, re-entrant lock on `name`, held by a command for its whole run."""

    def environment_dir(self, name: EnvironmentName) -> Path:
        """The directory holding `name`'s files."""


class JsonFileRepository:
    """Environments as `data_dir/{name}/environment.json` + `events.jsonl`, guarded by a per-env file lock.

    `lock_timeout` is how long `lock()` (and `save()`/`delete()` outside a held lock) waits, in seconds.
    Every method that takes a name takes an `EnvironmentName` or a `str` (validated: a bad one raises
    InvalidEnvironmentNameError); anything else is a TypeError saying what to pass.
    """

    def __init__(self, data_dir: Path | str, lock_timeout: float = 30.0) -> None:
        if lock_timeout < 0:
            raise ValueError("lock_timeout must not be negative")
        self._data_dir = Path(data_dir)
        self._lock_timeout = lock_timeout
        self._seq_under_lock: dict[str, int] = {}
        """The last sequence number this repository read or wrote for an environment, while it holds the
        environment's lock: no other process can have changed the file since, so `save` needn't reread it."""

    @property
    def data_dir(self) -> Path:
        """The directory holding one subdirectory per environment."""
        return self._data_dir

    @property
    def lock_timeout(self) -> float:
        """Seconds `lock()` waits before raising LockTimeoutError."""
        return self._lock_timeout

    def environment_dir(self, name: EnvironmentName | str) -> Path:
        """`data_dir/{name}`."""
        return self._data_dir / as_environment_name(name).value

    def state_path(self, name: EnvironmentName | str) -> Path:
        """`data_dir/{name}/environment.json`."""
        return self.environment_dir(name) / STATE_FILE

    def lock_path(self, name: EnvironmentName | str) -> Path:
        """`data_dir/{name}/environment.json.lock`."""
        return self.environment_dir(name) / LOCK_FILE

    def events_path(self, name: EnvironmentName | str) -> Path:
        """`data_dir/{name}/events.jsonl`."""
        return self.environment_dir(name) / EVENTS_FILE

    @contextlib.contextmanager
    def lock(self, name: EnvironmentName | str) -> Iterator[None]:
        """Exclusive lock on `name` across processes; re-entrant within a thread.

        Raises LockTimeoutError (naming the holder PID) after `lock_timeout` seconds.
        """
        name = as_environment_name(name)
        lock_path = self.lock_path(name)
        outermost = not EnvironmentLocks.held_here(lock_path)
        try:
            with EnvironmentLocks.hold(
                name.value, lock_path, self._lock_timeout, before_release=lambda: _forget_if_unused(lock_path)
            ):
                yield
        finally:
            if outermost:
                self._seq_under_lock.pop(name.value, None)

    def is_locked(self, name: EnvironmentName | str) -> bool:
        """Whether a command (in any process, this thread included) holds the environment's lock now.

        Probes without waiting and creates nothing; an environment that was never locked has no lock file
        and is free.
        """
        return EnvironmentLocks.probe(self.lock_path(name))

    def load(self, name: EnvironmentName | str) -> AnyEnvironment | None:
        """The saved environment, None if absent; CorruptStateError / UnsupportedSchemaError if unreadable."""
        name = as_environment_name(name)
        path = self.state_path(name)
        try:
            raw = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        env = to_environment(parse_document(raw, path), path)
        if env.name != name:
            raise CorruptStateError(path, f"it describes environment '{env.name}', not '{name}'")
        if EnvironmentLocks.held_here(self.lock_path(name)):
            self._seq_under_lock[name.value] = env.last_seq
        return env

    def save(self, env: Environment[State]) -> None:
        """Write `env` atomically and append its unsaved transitions to events.jsonl exactly once.

        Takes the environment lock unless this thread holds it already. Refuses (raises) if the file on
        disk is unreadable or newer than `env`.
        """
        if not isinstance(env, Environment):
            raise TypeError(f"save() takes an Environment (from load() or Environment.new), got {type(env).__name__}")
        name = env.name
        path = self.state_path(name)
        with self.lock(name):
            ensure_private_dir(path.parent)
            remove_temp_files(path)  # left by writers killed mid-save; we hold the lock
            disk_seq = self._seq_under_lock.get(name.value)
            if disk_seq is None:
                on_disk = self.load(name)
                disk_seq = 0 if on_disk is None else on_disk.last_seq
            if disk_seq > env.last_seq:
                raise StaleStateError(name.value, disk_seq, env.last_seq)
            self._append_events(name, env, disk_seq)
            atomic_write(path, dump_document(env))
            if EnvironmentLocks.held_here(self.lock_path(name)):
                self._seq_under_lock[name.value] = env.last_seq

    def _append_events(self, name: EnvironmentName, env: Environment[State], disk_seq: int) -> None:
        unsaved = [t for t in env.pending_transitions if t.seq > disk_seq]
        if not unsaved:
            return
        path = self.events_path(name)
        # A save stopped between appending events and replacing environment.json leaves events past
        # disk_seq at the end of the log; skip the ones this very object appended (same seq and time).
        tail, ends_with_newline = _read_tail(path)
        already = _events_after(tail, disk_seq)
        pid = os.getpid()
        lines = b"".join(TransitionEvent.of(name, t, pid).to_line() for t in unsaved if (t.seq, t.at) not in already)
        if lines:
            durable_append(path, lines if ends_with_newline else b"\n" + lines)

    def read_events(self, name: EnvironmentName | str) -> builtins.list[TransitionEvent]:
        """The audit log of `name`, oldest first; torn lines are skipped."""
        path = self.events_path(name)
        try:
            raw = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return []
        return _parse_events(raw, path)

    def exists(self, name: EnvironmentName | str) -> bool:
        """Whether `name` has a state file (readable or not)."""
        return self.state_path(name).is_file()

    def list(self) -> builtins.list[EnvironmentName]:
        """Sorted names of the environments that have a state file (readable or not)."""
        if not self._data_dir.is_dir():
            return []
        names = []
        for entry in self._data_dir.iterdir():
            try:
                name = EnvironmentName(entry.name)
            except InvalidEnvironmentNameError:
                continue
            if (entry / STATE_FILE).is_file():
                names.append(name)
        return sorted(names, key=str)

    def delete(self, name: EnvironmentName | str) -> None:
        """Purge `data_dir/{name}`: state, events, traces, everything.

        Inside a held lock only the lock file stays, so the environment remains locked for the rest of
        the command; the directory goes when the outermost `lock()` ends.
        """
        name = as_environment_name(name)
        env_dir = self.environment_dir(name)
        if not env_dir.exists():
            return
        lock_path = self.lock_path(name)
        with self.lock(name):
            self._seq_under_lock.pop(name.value, None)
            keep = {lock_path.name, pid_path(lock_path).name}
            for entry in env_dir.iterdir():
                if entry.name in keep:
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()


def _forget_if_unused(lock_path: Path) -> None:
    """End of the outermost hold: remove the directory of an environment that has nothing but its lock.

    The lock file is unlinked while still locked; waiters that opened it notice (link count 0) and retry
    on a fresh one.
    """
    env_dir = lock_path.parent
    try:
        if any(entry.name != lock_path.name for entry in env_dir.iterdir()):
            return
        lock_path.unlink()
        env_dir.rmdir()
    except OSError:  # gone already, or something appeared meanwhile: leave it
        return


def _read_tail(path: Path, size: int = 64 * 1024) -> tuple[bytes, bool]:
    """The last lines of `path` (at most `size` bytes), and whether it is empty or ends with a newline."""
    try:
        with path.open("rb") as file:
            end = file.seek(0, os.SEEK_END)
            file.seek(max(0, end - size))
            tail = file.read()
    except FileNotFoundError:
        return b"", True
    ends_with_newline = not tail or tail.endswith(b"\n")
    return (tail.partition(b"\n")[2] if end > size else tail), ends_with_newline


def _events_after(tail: bytes, disk_seq: int) -> set[tuple[int, datetime]]:
    """(seq, time) of the events past `disk_seq` at the end of the log, read from the last line backwards
    (a save reads only the few newest lines, however long the log is)."""
    found: set[tuple[int, datetime]] = set()
    for line in reversed(tail.splitlines()):
        try:
            event = json.loads(line)
            seq, at = int(event["seq"]), datetime.fromisoformat(event["time"])
        except (ValueError, KeyError, TypeError):
            continue  # a torn or foreign line; the full reader warns about it
        if seq <= disk_seq:
            break
        found.add((seq, at))
    return found


def _parse_events(raw: bytes, path: Path) -> builtins.list[TransitionEvent]:
    events = []
    for line in raw.splitlines():
        if not line.strip():
            continue
        try:
            events.append(TransitionEvent.model_validate_json(line))
        except ValidationError:
            _log.warning("skipping an unreadable line in %s", path)
    return events
