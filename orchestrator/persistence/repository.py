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
from orchestrator.persistence.files import append_then_replace, remove_temp_files
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
        self._last_seen: dict[str, tuple[bytes, int]] = {}
        """The state file's bytes as this repository last read or wrote them, and their last_seq: a save
        outside the lock that finds the same bytes on disk knows their last_seq without parsing them."""
        self._log_end: dict[str, tuple[int, int, int]] = {}
        """events.jsonl as this repository's last save left it (inode, size) and the last_seq it saved: a
        save that finds the log so and the state file at that seq knows nothing past it is in the log."""

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
        raw = _read_bytes(path)
        if raw is None:
            return None
        env = _to_environment(name, raw, path)
        self._last_seen[name.value] = (raw, env.last_seq)
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
        directory = self.environment_dir(name)
        path = directory / STATE_FILE
        with self.lock(name):  # which also made the directory
            remove_temp_files(path)  # left by writers killed mid-save; we hold the lock
            disk_seq = self._seq_under_lock.get(name.value)
            if disk_seq is None:
                disk_seq = self._seq_on_disk(name, path)
            if disk_seq > env.last_seq:
                raise StaleStateError(name.value, disk_seq, env.last_seq)
            data = dump_document(env)  # first: a document that cannot be written appends no events
            events = directory / EVENTS_FILE
            log_end = self._log_end.pop(name.value, None)
            log_as_left = log_end is not None and log_end[2] == disk_seq and _inode_and_size(events) == log_end[:2]
            lines = _unsaved_event_lines(events, name, env, disk_seq, log_as_left=log_as_left)
            self._last_seen.pop(name.value, None)
            append_then_replace(events, lines, path, data)
            self._last_seen[name.value] = (data, env.last_seq)
            self._seq_under_lock[name.value] = env.last_seq  # forgotten when the outermost lock() ends
            log_key = _inode_and_size(events)
            if log_key is not None:
                self._log_end[name.value] = (*log_key, env.last_seq)

    def _seq_on_disk(self, name: EnvironmentName, path: Path) -> int:
        """last_seq of the state file (0 if there is none); CorruptStateError if it is unreadable."""
        raw = _read_bytes(path)
        if raw is None:
            return 0
        seen = self._last_seen.get(name.value)
        if seen is not None and seen[0] == raw:
            return seen[1]
        seq = _to_environment(name, raw, path).last_seq
        self._last_seen[name.value] = (raw, seq)
        return seq

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
            self._last_seen.pop(name.value, None)
            self._log_end.pop(name.value, None)
            keep = {lock_path.name, pid_path(lock_path).name}
            for entry in env_dir.iterdir():
                if entry.name in keep:
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()


def _unsaved_event_lines(
    path: Path, name: EnvironmentName, env: Environment[State], disk_seq: int, *, log_as_left: bool
) -> bytes:
    """The lines to append to the log at `path` for `env`'s transitions past `disk_seq` (maybe none).

    `log_as_left`: the log is as this repository's last save (at `disk_seq`) left it, so it has nothing
    past `disk_seq` and ends with a newline, and its tail need not be read.
    """
    unsaved = [t for t in env.pending_transitions if t.seq > disk_seq]
    if not unsaved:
        return b""
    # A save stopped between appending events and replacing environment.json leaves events past
    # disk_seq at the end of the log; skip the ones this very object appended (same seq and time).
    already, ends_with_newline = (set(), True) if log_as_left else _events_after(path, disk_seq)
    pid = os.getpid()
    lines = b"".join(TransitionEvent.of(name, t, pid).to_line() for t in unsaved if (t.seq, t.at) not in already)
    return lines if ends_with_newline or not lines else b"\n" + lines


def _inode_and_size(path: Path) -> tuple[int, int] | None:
    """(inode, size) of `path`, None if there is none."""
    try:
        stat = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return stat.st_ino, stat.st_size


def _read_bytes(path: Path) -> bytes | None:
    """The bytes of `path`, None if there is no such file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _to_environment(name: EnvironmentName, raw: bytes, path: Path) -> AnyEnvironment:
    """The environment in state file `path` (its bytes `raw`); CorruptStateError if it is unreadable or
    not `name`'s."""
    env = to_environment(parse_document(raw, path), path)
    if env.name != name:
        raise CorruptStateError(path, f"it describes environment '{env.name}', not '{name}'")
    return env


def _forget_if_unused(lock_path: Path) -> None:
    """End of the outermost hold: remove the directory of an environment that has nothing but its lock
    (and the holder note).

    The lock file is unlinked while still locked; waiters that opened it notice (link count 0) and retry
    on a fresh one.
    """
    env_dir = lock_path.parent
    note = pid_path(lock_path)
    try:
        if os.path.lexists(env_dir / STATE_FILE):  # the usual case, told by one stat
            return
        if any(entry.name not in (lock_path.name, note.name) for entry in env_dir.iterdir()):
            return
        note.unlink(missing_ok=True)
        lock_path.unlink()
        env_dir.rmdir()
    except OSError:  # gone already, or something appeared meanwhile: leave it
        return


_TAIL_BLOCK = 4096
"""Bytes `_events_after` reads at a time from the end of the log: the lines of one save's transitions."""


def _events_after(path: Path, disk_seq: int) -> tuple[set[tuple[int, datetime]], bool]:
    """(seq, time) of the events past `disk_seq` at the end of the log, and whether the log is empty or
    ends with a newline.

    Reads backwards a block at a time and stops at the first line at or before `disk_seq`, so a save reads
    only the few newest lines, however long the log is.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return set(), True
    found: set[tuple[int, datetime]] = set()
    try:
        end = os.fstat(fd).st_size
        if end == 0:
            return found, True
        position, partial = end, b""
        ends_with_newline = True
        while position > 0:
            start = max(0, position - _TAIL_BLOCK)
            chunk = os.pread(fd, position - start, start)
            if position == end:
                ends_with_newline = chunk.endswith(b"\n")
            chunk += partial
            position = start
            lines = chunk.split(b"\n")
            partial = lines.pop(0) if position > 0 else b""  # maybe cut: completed by the next block
            for line in reversed(lines):
                event = _seq_and_time(line)
                if event is None:
                    continue  # empty, torn or foreign; the full reader warns about it
                if event[0] <= disk_seq:
                    return found, ends_with_newline
                found.add(event)
    finally:
        os.close(fd)
    return found, ends_with_newline


def _seq_and_time(line: bytes) -> tuple[int, datetime] | None:
    if not line.strip():
        return None
    try:
        event = json.loads(line)
        return int(event["seq"]), datetime.fromisoformat(event["time"])
    except (ValueError, KeyError, TypeError):
        return None


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
