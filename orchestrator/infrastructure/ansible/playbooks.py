"""ansible-runner adapter: renders an environment's inventory and runs one playbook per action.

Each environment gets a private data dir `build/{env}/ansible` (inventory, artifacts); the playbooks are
the shipped `playbooks/` folder. Several playbooks can run in one ansible-playbook process (`start`), each
waited for on its own; each playbook's event lines stream to its waiter's sink, and a failed playbook
raises `PlaybookFailedError` carrying the event lines for the trace file.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import shutil
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from orchestrator.domain import EnvironmentContext
from orchestrator.infrastructure.ssh.multiplexing import PERSIST, close_master, control_path, master_options
from orchestrator.infrastructure.ssh.wait import ssh_command
from orchestrator.resources import shipped_dir

EventSink = Callable[[str], None]
HOST = "instance"
ANSIBLE_CFG = "ansible.cfg"
"""ansible's settings that have no environment variable, in the shipped playbooks folder (used whichever
folder the playbooks come from)."""
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
"""Terminal control sequences (colours, "erase line") that tools print even when told not to."""


class PlaybookFailedError(Exception):
    """A playbook ended in failure or its host was unreachable."""

    def __init__(self, playbook: str, status: str, detail: str, events: list[str]) -> None:
        super().__init__(f"playbook {playbook} {status}: {detail}")
        self.playbook = playbook
        self.tool_output = events


@dataclass
class PlaybookResult:
    playbook: str
    status: str
    changed: int
    ok: int
    events: list[str] = field(default_factory=list)


def _path_with_this_python() -> str:
    """PATH with this interpreter's bin dir first, so ansible-runner finds the ansible-playbook installed
    beside it (an unactivated venv) before any other."""
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


def _event_line(event: dict[str, Any]) -> str | None:
    """The one line that says what an event did (a task started, a task's result), or None."""
    lines = _event_lines(event)
    return lines[0] if lines else None


def _event_lines(event: dict[str, Any]) -> list[str]:
    """An event's lines: `_event_line`'s, then — when the result's `msg` is a list, such as a `debug` task
    showing a container's log lines — one line per item, so that each reaches the sinks and the trace."""
    data = event.get("event_data") or {}
    kind = event.get("event", "")
    if kind == "playbook_on_task_start":
        return [f"TASK {data.get('task', '')}"]
    if kind.startswith("runner_on_"):
        result = data.get("res") or {}
        items = result.get("msg") if isinstance(result.get("msg"), list) else None
        details = [f"    | {_ANSI_ESCAPE.sub('', str(item))}".rstrip() for item in items] if items is not None else []
        return [_result_line(kind, data, result, message_allowed=items is None), *details]
    return []


def _result_line(kind: str, data: dict[str, Any], result: dict[str, Any], *, message_allowed: bool) -> str:
    """`  ok changed: TASK MESSAGE` for a task's result on the host."""
    status = kind.removeprefix("runner_on_")
    message = str(result.get("msg") or "") if message_allowed else ""
    if status in ("failed", "unreachable") and (not message or result.get("failed_when_result")):
        # a command failed by `failed_when` on its output: the output says more than ansible's message
        stdout = [line.strip() for line in str(result.get("stdout") or "").splitlines() if line.strip()]
        stderr = _stderr_without_ssh_noise(str(result.get("stderr") or ""))
        message = (stdout[-1] if stdout else "") or stderr or message
    changed = " changed" if result.get("changed") else ""
    return f"  {status}{changed}: {data.get('task', '')} {message}".rstrip()


def _stderr_without_ssh_noise(stderr: str) -> str:
    """stderr of a `raw` task without ssh's own "Shared connection to … closed." line."""
    lines = [line.strip() for line in stderr.splitlines()]
    return " ".join(line for line in lines if line and not line.startswith("Shared connection to "))


def _how_it_ended(runner: Any) -> str:
    """The process's end, for a failure no task reported: its exit code, or why there is none. A run that
    ansible-runner finished as failed without an exit code (rc None) was ended by a signal (pexpect's
    `exitstatus`); a runner that never finished has no status of its end."""
    rc = getattr(runner, "rc", None)
    if rc is not None:
        return f"exit code {rc}"
    status = getattr(runner, "status", None)
    if status == "failed":
        return "ansible-playbook was killed by a signal (no exit code; its output is in the trace)"
    return f"ansible-runner stopped before ansible-playbook ended (status {status})"


def _runner_stdout(runner: Any) -> list[str]:
    try:
        return [line.rstrip() for line in runner.stdout.read().splitlines()]
    except (OSError, AttributeError):
        return []


class AnsiblePlaybooks:
    """Runs the shipped playbooks against one host with ansible-runner."""

    def __init__(
        self,
        build_dir: Path,
        playbooks_dir: Path | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> None:
        self._build_dir = build_dir
        self._playbooks_dir = playbooks_dir or shipped_dir("playbooks")
        # Our own cancel callback keeps ansible-runner from installing (and keeping) its signal handlers.
        self._cancelled = cancelled or (lambda: False)

    def private_data_dir(self, environment: str) -> Path:
        return self._build_dir / environment / "ansible"

    def render_inventory(self, context: EnvironmentContext, host: str) -> Path:
        """Write `inventory/hosts.yml` for the environment's host and return its path."""
        inventory_dir = self.private_data_dir(str(context.name)) / "inventory"
        inventory_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        host_vars = {
            "ansible_host": host,
            "ansible_port": context.ssh.port,
            "ansible_user": context.ssh.username,
            "ansible_ssh_private_key_file": str(context.ssh.private_key_path.resolve()),
            "ansible_python_interpreter": "/usr/bin/python3",
            # for tasks that stream from the controller (load-tracker-image.yml): ssh over the same master
            "controller_ssh_argv": ssh_command(
                host,
                context.ssh.port,
                context.ssh.username,
                context.ssh.private_key_path.resolve(),
                options=master_options(control_path()),
            ),
        }
        return _write_yaml(inventory_dir / "hosts.yml", {"all": {"hosts": {HOST: host_vars}}})

    def clean(self, context: EnvironmentContext) -> None:
        """Delete the environment's rendered artifacts (inventory, runner artifacts, Pulumi work dir) and
        stop the SSH master connection to its host, which is gone (its address may go to another)."""
        shutil.rmtree(self._build_dir / str(context.name), ignore_errors=True)
        if context.instance_ip:
            close_master(context.instance_ip, context.ssh.port, context.ssh.username)

    def run(
        self,
        context: EnvironmentContext,
        playbook: str,
        on_event: EventSink | None = None,
        extravars: Mapping[str, object] | None = None,
    ) -> int:
        """Run `playbook` (e.g. "install-docker.yml") and return how many tasks changed something;
        raise PlaybookFailedError unless it succeeds."""
        with self.start(context, [playbook], extravars) as sequence:
            return sequence.wait(playbook, on_event).changed

    def start(
        self,
        context: EnvironmentContext,
        playbooks: Sequence[str],
        extravars: Mapping[str, object] | None = None,
        held: bool = False,
    ) -> PlaybookSequence:
        """Start one ansible-playbook process that runs `playbooks` in order (a generated playbook
        importing them) and return at once; `wait(playbook, on_event)` then streams each playbook's event
        lines and gives its result.

        `extravars` are the playbooks' variables. ansible-runner puts them on ansible-playbook's command
        line (seen by `ps`) and records that line in its artifacts (`artifacts/*/command`): never put a
        secret there.

        One process instead of one per playbook saves ansible's start-up and shutdown (~0.6 s each,
        measured by `python -m bench`, section deploy). A playbook that fails stops the run: ansible drops
        the failed host, so the later playbooks do nothing and are reported as not run.

        `held`: a first play on the controller (`gate_play`) waits for a gate file that `proceed()` creates,
        so ansible's start-up overlaps what the caller does until then."""
        import ansible_runner

        private_dir = self.private_data_dir(str(context.name))
        for old_gate in private_dir.glob("gate-*"):
            old_gate.unlink(missing_ok=True)
        gate = private_dir / f"gate-{secrets.token_hex(4)}" if held else None
        sequence = PlaybookSequence(
            list(playbooks), [_count_plays(self._playbooks_dir / name) for name in playbooks], gate
        )
        if len(playbooks) == 1 and gate is None:
            runner_playbook = playbooks[0]
        else:
            runner_playbook = str(self._sequence_playbook(private_dir, playbooks, gate))
        thread, runner = ansible_runner.run_async(
            private_data_dir=str(private_dir),
            project_dir=str(self._playbooks_dir),
            playbook=runner_playbook,
            inventory=str(private_dir / "inventory" / "hosts.yml"),
            extravars=dict(extravars) if extravars else None,
            envvars={
                "PATH": _path_with_this_python(),
                "ANSIBLE_CONFIG": str(shipped_dir("playbooks") / ANSIBLE_CFG),
                "ANSIBLE_HOST_KEY_CHECKING": "False",
                "ANSIBLE_PIPELINING": "True",
                "ANSIBLE_SSH_ARGS": _ssh_args(),
                "ANSIBLE_NOCOLOR": "True",
            },
            event_handler=sequence.handle,
            cancel_callback=lambda: self._cancelled() or sequence.abandoned,
            finished_callback=sequence.finish,
            quiet=True,
            rotate_artifacts=5,
        )
        sequence.attach(thread, runner)
        return sequence

    def _sequence_playbook(self, private_dir: Path, playbooks: Sequence[str], gate: Path | None = None) -> Path:
        """`sequence.yml` in the private data dir: the gate play when `gate` is set, then `import_playbook`
        of each playbook, in order."""
        private_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        document: list[dict[str, Any]] = [gate_play(gate)] if gate is not None else []
        document += [{"import_playbook": str((self._playbooks_dir / name).resolve())} for name in playbooks]
        return _write_yaml(private_dir / "sequence.yml", document)


GATE_PLAY_NAME = "Wait for the controller"
GATE_TIMEOUT_S = 300
"""A held run whose caller neither proceeds nor cancels (it died) gives up after this long."""
GATE_POLL_S = 0.02
_GATE_WAIT = "import os, sys, time\nwhile not os.path.exists(sys.argv[1]):\n    time.sleep(float(sys.argv[2]))\n"
"""The gate's wait, in the Python that runs ansible: one process for the whole wait (a shell loop forks a
`sleep` at each poll, ≈ 0.05 CPU-seconds a second)."""


def gate_play(gate: Path) -> dict[str, Any]:
    """A play on the controller (implicit localhost, no SSH) that waits until the file `gate` exists."""
    code = shlex.quote(_GATE_WAIT)
    wait = (
        f"timeout {GATE_TIMEOUT_S} {{{{ ansible_playbook_python | quote }}}} -I -S -c {code}"
        f" {shlex.quote(str(gate))} {GATE_POLL_S}"
    )
    task = {"name": GATE_PLAY_NAME, "ansible.builtin.raw": wait, "changed_when": False}
    return {"name": GATE_PLAY_NAME, "hosts": "localhost", "gather_facts": False, "tasks": [task]}


def _write_yaml(path: Path, document: object) -> Path:
    """Write `document` as YAML to `path` (replaced whole: a reader never sees half of it)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(document, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)
    return path


def _ssh_args() -> str:
    """ansible's ssh options: the master connection the SSH wait left (see `ssh.multiplexing`); without a
    shared control path, masters at ansible's own."""
    path = control_path()
    multiplexing = master_options(path) or ["-o", "ControlMaster=auto", "-o", f"ControlPersist={PERSIST}"]
    return shlex.join([*multiplexing, "-o", "UserKnownHostsFile=/dev/null"])


def _count_plays(path: Path) -> int:
    """The plays of a playbook file (a list of plays; imports inside it are not supported)."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, list) or not all(isinstance(play, dict) and "hosts" in play for play in document):
        raise ValueError(f"{path} must be a list of plays (import_playbook is not supported here)")
    return len(document)


@dataclass
class _Outcome:
    """What one playbook of a sequence did, from its events."""

    plays: int
    lines: list[str] = field(default_factory=list)
    """Its event lines, in order; `wait` hands them to its sink."""
    started_plays: int = 0
    changed: int = 0
    ok: int = 0
    failures: list[str] = field(default_factory=list)
    result: PlaybookResult | PlaybookFailedError | None = None


class PlaybookSequence:
    """Playbooks run in order by one ansible-playbook process (see `AnsiblePlaybooks.start`).

    Play starts tell which playbook is running: a playbook is over when the next one's first play starts
    (it succeeded, unless a task failed) or when the process ends. `wait` blocks until then. Leaving the
    `with` block cancels what is still running and waits for the process."""

    def __init__(self, playbooks: list[str], plays: list[int], gate: Path | None = None) -> None:
        self._playbooks = playbooks
        self._outcomes = [_Outcome(count) for count in plays]
        self._current = 0
        self._gate = gate
        self._in_gate_play = False
        """True while the gate play runs (its events are nobody's: dropped)."""
        self._done = threading.Condition()
        self._thread: threading.Thread | None = None
        self._runner: Any = None
        self.abandoned = False

    def attach(self, thread: threading.Thread, runner: Any) -> None:
        self._thread, self._runner = thread, runner

    def __enter__(self) -> PlaybookSequence:
        return self

    def __exit__(self, *_: object) -> None:
        self.abandoned = True  # the cancel callback stops the process if it still runs
        if self._thread is not None:
            self._thread.join()
        if self._gate is not None:
            # Opened, not removed: ansible's worker runs the gate task in a session of its own, which the
            # cancel of a run that never proceeded does not kill; the open gate lets it end. `start`
            # removes the gates of earlier runs.
            self.proceed()

    def proceed(self) -> None:
        """Open the gate of a held run: its first playbook starts (nothing for a run not held)."""
        if self._gate is not None and not self._gate.exists():
            self._gate.touch(mode=0o600)

    def handle(self, event: dict[str, Any]) -> bool:
        """ansible-runner's event handler (runner thread)."""
        kind = event.get("event", "")
        with self._done:
            if kind == "playbook_on_play_start":
                if self._gate is not None and not self._in_gate_play and self._nothing_started():
                    self._in_gate_play = True  # the gate play is the first play of a held run
                    return True
                self._in_gate_play = False
                self._play_started()
            if self._in_gate_play:
                if kind in {"runner_on_failed", "runner_on_unreachable"}:
                    self._outcomes[0].failures.append(f"  failed: {GATE_PLAY_NAME}")
                return True
            lines = _event_lines(event)
            if lines:
                line = lines[0]
                outcome = self._outcomes[self._current]
                outcome.lines.extend(lines)
                self._done.notify_all()
                data = event.get("event_data") or {}
                if kind == "runner_on_ok":
                    outcome.ok += 1
                    outcome.changed += 1 if (data.get("res") or {}).get("changed") else 0
                elif kind == "runner_on_unreachable" or (kind == "runner_on_failed" and not data.get("ignore_errors")):
                    outcome.failures.append(line.strip())
        return True

    def _nothing_started(self) -> bool:
        return self._current == 0 and self._outcomes[0].started_plays == 0

    def _lines(self) -> list[str]:
        """Every event line so far, in order (each playbook's lines follow the previous one's)."""
        return [line for outcome in self._outcomes for line in outcome.lines]

    def _play_started(self) -> None:
        outcome = self._outcomes[self._current]
        if outcome.started_plays == outcome.plays and self._current + 1 < len(self._outcomes):
            if not outcome.failures:
                self._resolve(self._current, "successful")
            self._current += 1
            outcome = self._outcomes[self._current]
        outcome.started_plays += 1

    def finish(self, runner: Any) -> None:
        """ansible-runner's finished callback: every playbook not yet resolved is resolved now."""
        with self._done:
            self._runner = runner
            self._resolve_all(runner)

    def _resolve_all(self, runner: Any) -> None:
        succeeded = runner is not None and runner.status == "successful" and runner.rc == 0
        status = str(getattr(runner, "status", None) or "failed")
        failed_status = "failed" if status == "successful" else status
        for index, outcome in enumerate(self._outcomes):
            if outcome.result is not None:
                continue
            if outcome.failures:
                self._resolve(index, failed_status)
            elif index < self._current or (succeeded and outcome.started_plays == outcome.plays):
                self._resolve(index, "successful")  # the next playbook had started, or the run succeeded
            else:
                self._resolve(index, failed_status)
        self._done.notify_all()

    def _resolve(self, index: int, status: str) -> None:
        outcome, playbook = self._outcomes[index], self._playbooks[index]
        if status == "successful":
            outcome.result = PlaybookResult(playbook, status, outcome.changed, outcome.ok, self._lines())
            return
        output = _runner_stdout(self._runner)
        earlier = [self._playbooks[i] for i in range(index) if self._outcomes[i].failures]
        errors = [line for line in output if "ERROR" in line]
        if earlier and not outcome.failures:
            detail = f"not run: {earlier[0]} failed before it"
        else:
            detail = (outcome.failures or errors or [_how_it_ended(self._runner)])[-1]
        events = [*self._lines(), "== ansible output ==", *output]
        outcome.result = PlaybookFailedError(playbook, status, detail.strip(), events)

    def wait(self, playbook: str, on_event: EventSink | None = None) -> PlaybookResult:
        """Block until `playbook` is over, handing its event lines (only its own, in order) to `on_event`
        as they come; return its result or raise PlaybookFailedError."""
        outcome = self._outcomes[self._playbooks.index(playbook)]
        delivered = 0
        while True:
            with self._done:
                if outcome.result is None and delivered == len(outcome.lines):
                    if self._thread is not None and not self._thread.is_alive():
                        self._resolve_all(self._runner)  # the runner thread ended without its callback
                    else:
                        self._done.wait(0.5)
                new_lines = outcome.lines[delivered:]
                over = outcome.result is not None
            delivered += len(new_lines)
            if on_event is not None:
                for line in new_lines:
                    on_event(line)  # in the waiting thread, outside the lock
            if over and not new_lines:
                break
        result = outcome.result
        if isinstance(result, PlaybookFailedError):
            raise result
        assert result is not None
        return result
