"""Processes the lab starts: detached launch, PID records, and the check that a PID is still ours.

A PID record stores the PID together with the process's start time (field 22 of
``/proc/PID/stat``, clock ticks since boot) and the program name. A recorded PID counts as the
lab's only while a live (non-zombie) process has that PID, that start time and that program:
a PID that the kernel reused for another process is never signalled.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class ProcessInfo:
    """What ``/proc`` says about one process."""

    pid: int
    state: str
    start_time: int
    argv: tuple[str, ...]

    @property
    def program(self) -> str:
        return os.path.basename(self.argv[0]) if self.argv else ""

    @property
    def alive(self) -> bool:
        return self.state not in {"Z", "X", "x"}


@dataclass(frozen=True)
class PidRecord:
    """A daemon the lab started."""

    program: str
    pid: int
    start_time: int
    argv: tuple[str, ...]
    log: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> PidRecord:
        data = json.loads(text)
        return cls(
            program=str(data["program"]),
            pid=int(data["pid"]),
            start_time=int(data["start_time"]),
            argv=tuple(str(a) for a in data.get("argv", ())),
            log=str(data.get("log", "")),
        )


def parse_stat(text: str) -> tuple[str, int]:
    """(state, start_time) from the text of ``/proc/PID/stat``; the command name may hold spaces or ')'."""
    rest = text[text.rindex(")") + 2 :].split()
    return rest[0], int(rest[19])


def read_process(pid: int, proc: Path = PROC) -> ProcessInfo | None:
    """The process with this PID, or ``None`` when there is none."""
    base = proc / str(pid)
    try:
        state, start_time = parse_stat((base / "stat").read_text(encoding="utf-8", errors="replace"))
        raw = (base / "cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return None
    argv = tuple(part.decode("utf-8", "replace") for part in raw.split(b"\0") if part)
    return ProcessInfo(pid=pid, state=state, start_time=start_time, argv=argv)


def is_recorded_process(record: PidRecord, info: ProcessInfo | None) -> bool:
    """Whether ``info`` is still the very process ``record`` describes (same PID, start, program)."""
    return (
        info is not None
        and info.alive
        and info.pid == record.pid
        and info.start_time == record.start_time
        and info.program == record.program
    )


def is_daemon_process(info: ProcessInfo, program: str) -> bool:
    """Whether ``info`` is ``program`` running as a daemon (not one of its sub-commands such as
    ``lxd waitready`` or ``lxd forkexec``): every argument after the program is an option or
    follows one (``lxcfs /var/lib/lxcfs`` takes its mount point as a positional)."""
    if not info.alive or info.program != program:
        return False
    if program == "lxd":
        return all(arg.startswith("-") for arg in info.argv[1:2])
    return True


def find_daemons(program: str, proc: Path = PROC) -> list[ProcessInfo]:
    """Running daemons named ``program``, oldest first."""
    found: list[ProcessInfo] = []
    try:
        entries = list(proc.iterdir())
    except OSError:
        return found
    for entry in entries:
        if not entry.name.isdigit():
            continue
        info = read_process(int(entry.name), proc)
        if info is not None and is_daemon_process(info, program):
            found.append(info)
    return sorted(found, key=lambda i: (i.start_time, i.pid))


class PidStore:
    """PID records in the lab's state directory: ``<program>.pid.json``."""

    def __init__(self, state_dir: Path, proc: Path = PROC) -> None:
        self.state_dir = state_dir
        self.proc = proc

    def path(self, program: str) -> Path:
        return self.state_dir / f"{program}.pid.json"

    def load(self, program: str) -> PidRecord | None:
        try:
            return PidRecord.from_json(self.path(program).read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, record: PidRecord) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = self.path(record.program)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(record.to_json(), encoding="utf-8")
        os.replace(tmp, target)

    def forget(self, program: str) -> None:
        self.path(program).unlink(missing_ok=True)

    def owned(self, program: str) -> ProcessInfo | None:
        """The live process the lab started for ``program``, or ``None`` (no record, or a stale one)."""
        record = self.load(program)
        if record is None:
            return None
        info = read_process(record.pid, self.proc)
        return info if is_recorded_process(record, info) else None


def start_detached(argv: list[str], log_path: Path, env: dict[str, str] | None = None) -> PidRecord:
    """Start ``argv`` in the background, detached from this process (its own session, re-parented
    to PID 1), with stdin from /dev/null and stdout/stderr appended to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    launcher = subprocess.run(
        ["sh", "-c", '"$@" </dev/null >>"$TORRUST_LAB_LOG" 2>&1 & echo $!', "sh", *argv],
        env={**(env or dict(os.environ)), "TORRUST_LAB_LOG": str(log_path)},
        capture_output=True,
        text=True,
        check=True,
        start_new_session=True,
    )
    pid = int(launcher.stdout.strip())
    info = read_process(pid)
    start_time = info.start_time if info is not None else -1
    return PidRecord(
        program=os.path.basename(argv[0]), pid=pid, start_time=start_time, argv=tuple(argv), log=str(log_path)
    )


def wait_gone(record: PidRecord, timeout: float, proc: Path = PROC) -> bool:
    """Wait until the recorded process has exited; True when it has."""
    deadline = time.monotonic() + timeout
    while True:
        if not is_recorded_process(record, read_process(record.pid, proc)):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)


def terminate(record: PidRecord, timeout: float = 20.0) -> bool:
    """SIGTERM, then SIGKILL, the recorded process — only while it still is that process."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        if not is_recorded_process(record, read_process(record.pid)):
            return True
        try:
            os.kill(record.pid, sig)
        except ProcessLookupError:
            return True
        if wait_gone(record, wait):
            return True
    return False
