"""ansible-runner adapter: renders an environment's inventory and runs one playbook per action.

Each environment gets a private data dir `build/{env}/ansible` (inventory, artifacts); the playbooks are
the shipped `playbooks/` folder. Events stream to an optional sink; a failed run raises
`PlaybookFailedError` carrying the event lines for the trace file.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from orchestrator.domain import EnvironmentContext
from orchestrator.resources import shipped_dir

EventSink = Callable[[str], None]
HOST = "instance"


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
    data = event.get("event_data") or {}
    kind = event.get("event", "")
    if kind == "playbook_on_task_start":
        return f"TASK {data.get('task', '')}"
    if kind.startswith("runner_on_"):
        result = data.get("res") or {}
        message = result.get("msg") or result.get("stderr") or ""
        status = kind.removeprefix("runner_on_")
        changed = " changed" if result.get("changed") else ""
        return f"  {status}{changed}: {data.get('task', '')} {message}".rstrip()
    return None


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
        }
        document = {"all": {"hosts": {HOST: host_vars}}}
        path = inventory_dir / "hosts.yml"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(yaml.safe_dump(document, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
        return path

    def clean(self, context: EnvironmentContext) -> None:
        """Delete the environment's rendered artifacts (inventory, runner artifacts, Pulumi work dir)."""
        shutil.rmtree(self._build_dir / str(context.name), ignore_errors=True)

    def run(self, context: EnvironmentContext, playbook: str, on_event: EventSink | None = None) -> int:
        """Run `playbook` (e.g. "install-docker.yml") and return how many tasks changed something;
        raise PlaybookFailedError unless it succeeds."""
        return self.run_playbook(context, playbook, on_event).changed

    def run_playbook(
        self, context: EnvironmentContext, playbook: str, on_event: EventSink | None = None
    ) -> PlaybookResult:
        import ansible_runner

        private_dir = self.private_data_dir(str(context.name))
        events: list[str] = []

        def handle(event: dict[str, Any]) -> bool:
            line = _event_line(event)
            if line is not None:
                events.append(line)
                if on_event is not None:
                    on_event(line)
            return True

        runner = ansible_runner.run(
            private_data_dir=str(private_dir),
            project_dir=str(self._playbooks_dir),
            playbook=playbook,
            inventory=str(private_dir / "inventory" / "hosts.yml"),
            envvars={
                "PATH": _path_with_this_python(),
                "ANSIBLE_HOST_KEY_CHECKING": "False",
                "ANSIBLE_PIPELINING": "True",
                "ANSIBLE_SSH_ARGS": "-o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=/dev/null",
                "ANSIBLE_NOCOLOR": "True",
            },
            event_handler=handle,
            cancel_callback=self._cancelled,
            quiet=True,
            rotate_artifacts=5,
        )
        stats = runner.stats or {}
        changed = sum((stats.get("changed") or {}).values())
        ok = sum((stats.get("ok") or {}).values())
        if runner.status != "successful" or runner.rc != 0:
            output = _runner_stdout(runner)
            failures = [line for line in events if line.lstrip().startswith(("failed", "unreachable"))]
            errors = [line for line in output if "ERROR" in line]
            detail = (failures or errors or [f"exit code {runner.rc}"])[-1].strip()
            raise PlaybookFailedError(playbook, str(runner.status), detail, [*events, "== ansible output ==", *output])
        return PlaybookResult(playbook=playbook, status=str(runner.status), changed=changed, ok=ok, events=events)
