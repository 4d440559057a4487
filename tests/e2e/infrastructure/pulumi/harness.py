"""A Pulumi stack of its own for the provider's e2e tests: an inline program (swapped between runs) on a
file backend under the test's temporary directory, run by the real CLI and the real plugin, set up the way
the orchestrator sets up an environment's workspace (`project_settings`, the toolchain's variables)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from orchestrator.infrastructure.pulumi.stacks import project_settings
from orchestrator.infrastructure.pulumi.toolchain import find_pulumi, lxd_plugin_dir

Program = Callable[[], None]


class ProgramStack:
    def __init__(self, root: Path, name: str = "e2e") -> None:
        self.backend = root / "backend"
        self.backend.mkdir(parents=True, exist_ok=True)
        work = root / "work"
        work.mkdir(parents=True, exist_ok=True)
        toolchain = find_pulumi()
        self._program: Program = lambda: None
        workspace = auto.LocalWorkspace(
            work_dir=str(work),
            pulumi_command=toolchain.command(),
            project_settings=project_settings(self.backend.as_uri(), lxd_plugin_dir()),
            env_vars={**toolchain.environment(), "PULUMI_CONFIG_PASSPHRASE": ""},
            secrets_provider="passphrase",
            program=self._run_program,
        )
        self.stack = auto.Stack.create_or_select(name, workspace)
        self.log: list[str] = []

    def _run_program(self) -> None:
        self._program()  # the program of the operation now running (each one sets it)

    def up(self, program: Program, **options: Any) -> auto.UpResult:
        self._program = program
        return self.stack.up(on_output=self.log.append, color="never", **options)

    def preview(self, program: Program) -> auto.PreviewResult:
        self._program = program
        return self.stack.preview(on_output=self.log.append, color="never")

    def refresh(self) -> auto.RefreshResult:
        return self.stack.refresh(on_output=self.log.append, color="never")

    def destroy(self) -> auto.DestroyResult:
        return self.stack.destroy(on_output=self.log.append, color="never")

    def resources(self) -> dict[str, dict[str, Any]]:
        """The state's resources by name (the last part of the URN)."""
        deployment = self.stack.export_stack().deployment or {}
        return {str(item["urn"]).rsplit("::", 1)[-1]: item for item in deployment.get("resources") or []}

    def checkpoint_text(self) -> str:
        """Every file of the backend (checkpoints, history, backups), as stored."""
        files = sorted(path for path in self.backend.rglob("*") if path.is_file())
        return "\n".join(path.read_text(encoding="utf-8", errors="replace") for path in files)


def changes(summary: auto.UpdateSummary | Mapping[Any, int] | None) -> dict[str, int]:
    """The counts of an operation's summary (or of a preview's change summary) without `same`."""
    counted: Mapping[Any, int] = {}
    if isinstance(summary, auto.UpdateSummary):
        counted = summary.resource_changes or {}
    elif summary is not None:
        counted = summary
    counts = {str(getattr(key, "value", key)): int(value) for key, value in counted.items()}
    counts.pop("same", None)
    return counts


@contextmanager
def program_stack(root: Path, name: str = "e2e") -> Iterator[ProgramStack]:
    """A stack whose resources are destroyed at the end (the test may have left them in any state)."""
    stack = ProgramStack(root, name)
    try:
        yield stack
    finally:
        try:
            stack.destroy()
        except Exception as error:  # the caller cleans LXD up by name as well
            print(f"cleanup: pulumi destroy failed: {error}")


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def unique(prefix: str = "plx") -> str:
    """An LXD name unique to this run (`prefix-xxxxxx`)."""
    return f"{prefix}-{secrets.token_hex(3)}"
