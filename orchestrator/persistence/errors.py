"""Persistence errors: each one carries a one-line `tip` telling the user what to do."""

from __future__ import annotations

from pathlib import Path

from orchestrator.domain.errors import DeployError, ExitCode


class PersistenceError(DeployError):
    """Base class of every persistence error."""


class UnreadableStateError(PersistenceError):
    """A state file exists but cannot be used; it is never overwritten."""

    def __init__(self, path: Path, message: str, tip: str) -> None:
        super().__init__(message, tip)
        self.path = path


class CorruptStateError(UnreadableStateError):
    """The state file is not valid JSON, has an unknown state, or misses fields."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            path,
            f"state file {path} is unreadable: {reason}",
            f"repair {path} or move it aside to start over; torrust-deploy never overwrites an unreadable state file",
        )
        self.reason = reason


class UnsupportedSchemaError(UnreadableStateError):
    """The state file was written by a newer torrust-deploy."""

    def __init__(self, path: Path, found: int, supported: int) -> None:
        super().__init__(
            path,
            f"state file {path} has schema_version {found}, but this torrust-deploy reads up to {supported}",
            "upgrade torrust-deploy to the version that wrote this environment; the file was left untouched",
        )
        self.found = found
        self.supported = supported


class LockTimeoutError(PersistenceError):
    """Another process held the environment lock for longer than the lock timeout."""

    exit_code = ExitCode.LOCKED

    def __init__(
        self,
        name: str,
        holder_pid: int | None,
        holder_alive: bool,
        *,
        timeout_s: float | None = None,
        lock_path: Path | None = None,
    ) -> None:
        waited = "" if timeout_s is None else f" after waiting {timeout_s:g} s"
        if holder_pid is None:
            holder = "an unknown process"
        elif holder_alive:
            holder = f"process {holder_pid} (alive)"
        else:
            holder = f"a process (PID {holder_pid} was recorded but is no longer running)"
        if holder_pid is not None and holder_alive:
            tip = (
                f"another torrust-deploy command (PID {holder_pid}) is working on '{name}'; "
                "wait for it to finish or stop it, then retry"
            )
        else:
            where = "the lock file" if lock_path is None else str(lock_path)
            tip = f"retry; if this keeps happening, find the process holding {where} (e.g. `fuser {where}`)"
        super().__init__(f"environment '{name}' is locked by {holder}; gave up{waited}", tip)
        self.name = name
        self.holder_pid = holder_pid
        self.holder_alive = holder_alive
        self.timeout_s = timeout_s
        self.lock_path = lock_path


class StaleStateError(PersistenceError):
    """Saving would replace newer state on disk with an older copy."""

    def __init__(self, name: str, on_disk_seq: int, saving_seq: int) -> None:
        super().__init__(
            f"environment '{name}' on disk is newer (transition {on_disk_seq}) than the copy being saved "
            f"(transition {saving_seq}); refusing to overwrite it",
            "load the environment again (under its lock) and repeat the change",
        )
        self.name = name
        self.on_disk_seq = on_disk_seq
        self.saving_seq = saving_seq
