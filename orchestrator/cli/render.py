"""Rendering for the CLI: progress on stderr, results on stdout, errors as one line + a tip.

Progress: `StderrProgress` prints plain `[2/6] Wait ssh … done (3.1 s)` lines (pipes, files, CI);
`RichProgress` shows a live spinner with the step's elapsed time when stderr is a terminal. Both
record the steps they saw, so `--json` results can list them.

The JSON documents built here are described in docs/cli-json.md and checked against the models in
`orchestrator.cli.schemas`. An environment's document and text come from `environment_view` (standard
library only, shared with the quick path); this module feeds it the domain objects.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from orchestrator.cli import environment_view as view
from orchestrator.domain import EXIT_CODE_MEANINGS, AnyEnvironment, ExitCode, TrackerSettings

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

# The exit codes by their CLI names; the codes and their meanings are defined once, in the domain.
EXIT_OK = int(ExitCode.OK)
EXIT_FAILED = int(ExitCode.FAILED)
EXIT_USAGE = int(ExitCode.USAGE)
EXIT_LOCKED = int(ExitCode.LOCKED)
EXIT_NOT_FOUND = int(ExitCode.NOT_FOUND)
EXIT_DRIFT = int(ExitCode.DRIFT)
EXIT_INTERRUPTED = int(ExitCode.INTERRUPTED)

EXIT_CODES: dict[int, str] = {int(code): meaning for code, meaning in EXIT_CODE_MEANINGS.items()}
"""Every exit code and what it means (docs/cli.md's table), from `orchestrator.domain.EXIT_CODE_MEANINGS`."""


# --- progress ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepRecord:
    command: str
    index: int
    total: int
    title: str
    status: str
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "index": self.index,
            "total": self.total,
            "title": self.title,
            "status": self.status,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class _Recorder:
    steps: list[StepRecord] = field(default_factory=list)

    def _record(self, command: str, index: int, total: int, title: str, status: str, seconds: float) -> None:
        self.steps.append(StepRecord(command, index, total, title, status, seconds))


class StderrProgress(_Recorder):
    """`[2/6] Wait ssh … done (3.1 s)` lines on stderr; tool output only when verbose."""

    def __init__(self, verbose: bool = False, stream: TextIO | None = None) -> None:
        super().__init__()
        self.verbose = verbose
        self._stream = stream

    @property
    def stream(self) -> TextIO:
        return self._stream or sys.stderr

    def _print(self, line: str) -> None:
        print(line, file=self.stream, flush=True)

    def step_started(self, command: str, index: int, total: int, title: str) -> None:
        self._print(f"[{index}/{total}] {title} …")

    def step_finished(self, command: str, index: int, total: int, title: str, seconds: float) -> None:
        self._record(command, index, total, title, "done", seconds)
        self._print(f"[{index}/{total}] {title} … done ({seconds:.1f} s)")

    def step_failed(self, command: str, index: int, total: int, title: str, seconds: float) -> None:
        self._record(command, index, total, title, "failed", seconds)
        self._print(f"[{index}/{total}] {title} … FAILED ({seconds:.1f} s)")

    def detail(self, line: str) -> None:
        if self.verbose:
            self._print(f"      {line}")

    def close(self) -> None:
        pass


class RichProgress(_Recorder):
    """A live spinner line per running step (with its elapsed time) on a terminal; a ✓/✗ line per step."""

    def __init__(self, console: Console, verbose: bool = False) -> None:
        super().__init__()
        self.verbose = verbose
        self._console = console
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def _live(self) -> Progress:
        if self._progress is None:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}", markup=False),
                TimeElapsedColumn(),
                console=self._console,
                transient=True,
            )
            self._progress.start()
        return self._progress

    def _line(self, mark: str, style: str, text: str) -> None:
        from rich.text import Text

        self._console.print(Text.assemble((mark, style), " ", text))

    def _end_task(self) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.remove_task(self._task)
            self._task = None

    def step_started(self, command: str, index: int, total: int, title: str) -> None:
        self._end_task()
        self._task = self._live().add_task(f"[{index}/{total}] {title} …", total=None)

    def step_finished(self, command: str, index: int, total: int, title: str, seconds: float) -> None:
        self._record(command, index, total, title, "done", seconds)
        self._end_task()
        self._line("✓", "green", f"[{index}/{total}] {title} … done ({seconds:.1f} s)")

    def step_failed(self, command: str, index: int, total: int, title: str, seconds: float) -> None:
        self._record(command, index, total, title, "failed", seconds)
        self._end_task()
        self._line("✗", "bold red", f"[{index}/{total}] {title} … FAILED ({seconds:.1f} s)")

    def detail(self, line: str) -> None:
        if self.verbose:
            from rich.text import Text

            self._console.print(Text(f"      {line}", style="dim"))

    def close(self) -> None:
        self._end_task()
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


CliProgress = StderrProgress | RichProgress


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty() and os.environ.get("TERM") != "dumb"


def make_progress(verbose: bool) -> CliProgress:
    """Rich live progress when stderr is a terminal, plain lines otherwise."""
    if stderr_is_terminal():
        from rich.console import Console

        return RichProgress(Console(stderr=True), verbose=verbose)
    return StderrProgress(verbose=verbose)


# --- environments ------------------------------------------------------------------------------------


def ssh_command_line(env: AnyEnvironment) -> str | None:
    context = env.context
    ssh = context.ssh
    return view.ssh_command_text(context.instance_ip, ssh.username, ssh.port, str(ssh.private_key_path))


def next_command(env: AnyEnvironment, running_pid: int | None = None) -> str | None:
    return view.next_command(type(env.state).__name__, str(env.name), running_pid, env.context.tracker is not None)


def environment_facts(env: AnyEnvironment) -> dict[str, Any]:
    """The facts `environment_view` renders (see its docstring), from the domain objects."""
    context = env.context
    failure = getattr(env.state, "failure", None)
    lxd = context.lxd
    return {
        "name": str(context.name),
        "state": type(env.state).__name__,
        "state_since": env.state_since.isoformat(),
        "created_at": context.created_at.isoformat(),
        "instance_name": context.instance_name,
        "instance_ip": context.instance_ip,
        "ssh": {
            "username": context.ssh.username,
            "port": context.ssh.port,
            "private_key_path": str(context.ssh.private_key_path),
            "public_key_path": str(context.ssh.public_key_path),
        },
        "lxd": {
            "endpoint": lxd.endpoint,
            "image_alias": lxd.image_alias,
            "instance_type": lxd.instance_type,
            "profile_name": context.profile_name,
            "network": lxd.network,
            "storage_pool": lxd.storage_pool,
        },
        "failure": None
        if failure is None
        else {
            "step": failure.step.value if failure.step is not None else None,
            "error_kind": failure.error_kind,
            "summary": failure.summary,
            "started_at": failure.started_at.isoformat(),
            "failed_at": failure.failed_at.isoformat(),
            "duration_s": round(failure.duration.total_seconds(), 3),
            "trace_path": str(failure.trace_path) if failure.trace_path else None,
        },
        "tracker": None if context.tracker is None else tracker_facts(context.tracker),
        "drift": None
        if context.drift is None
        else {"checked_at": context.drift.checked_at.isoformat(), "findings": list(context.drift.findings)},
    }


def tracker_facts(tracker: TrackerSettings) -> dict[str, Any]:
    return {
        "version": tracker.version,
        "image": tracker.image,
        "udp_ports": list(tracker.udp_ports),
        "http_ports": list(tracker.http_ports),
        "api_port": tracker.api_port,
        "health_check_port": tracker.health_check_port,
        "private": tracker.private,
        "announce_interval_s": tracker.announce_interval_s,
        "database": tracker.database,
    }


def environment_document(env: AnyEnvironment, running_pid: int | None = None) -> dict[str, Any]:
    """The stable JSON shape of an environment (`show`, `list` and command results); see docs/cli-json.md."""
    return view.environment_document(environment_facts(env), running_pid)


def environment_text(env: AnyEnvironment, running_pid: int | None = None) -> str:
    return view.environment_text(environment_document(env, running_pid))


def environment_row(env: AnyEnvironment) -> str:
    return view.list_row(str(env.name), type(env.state).__name__, env.context.instance_ip)


# --- documents and errors ----------------------------------------------------------------------------


def print_json(document: Any) -> None:
    print(json.dumps(document, indent=2, sort_keys=False))


def _first_line(text: str, default: str) -> str:
    return (text.strip().splitlines() or [default])[0]


UNEXPECTED_TIP = "This is unexpected; re-run with --debug and report the traceback."


def _tip(error: BaseException) -> str | None:
    tip = getattr(error, "tip", None)
    return _first_line(tip, "") or None if isinstance(tip, str) else None


def error_document(
    error: BaseException, exit_code: int, command: str | None = None, environment: str | None = None
) -> dict[str, Any]:
    """`{"ok": false, "command": …, "error": {…}}` — the error shape of every command (docs/cli-json.md)."""
    from orchestrator.domain import FailureContext

    trace = getattr(error, "trace_path", None)
    failure = getattr(error, "failure", None)
    holder = getattr(error, "holder_pid", None)
    detail = getattr(error, "detail", None)
    return {
        "ok": False,
        "command": command,
        "error": {
            "kind": type(error).__name__,
            "message": _first_line(str(error), type(error).__name__),
            "tip": _tip(error) or UNEXPECTED_TIP,
            "trace_path": str(trace) if trace else None,
            "exit_code": exit_code,
            "environment": environment,
            "failed_step": failure.step_name if isinstance(failure, FailureContext) else None,
            "holder_pid": holder if isinstance(holder, int) else None,
            "detail": detail if isinstance(detail, str) and detail else None,
        },
    }


def print_error(
    error: BaseException,
    exit_code: int,
    as_json: bool,
    command: str | None = None,
    environment: str | None = None,
) -> None:
    """`Error: …` / `Tip: …` / `Trace: …` on stderr, or the JSON error document on stdout."""
    if as_json:
        print_json(error_document(error, exit_code, command, environment))
        return
    print(f"Error: {_first_line(str(error), type(error).__name__)}", file=sys.stderr)
    print(f"Tip: {_tip(error) or UNEXPECTED_TIP}", file=sys.stderr)
    trace = getattr(error, "trace_path", None)
    if trace:
        print(f"Trace: {trace}", file=sys.stderr)
