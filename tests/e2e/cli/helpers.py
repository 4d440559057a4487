"""Shared by the CLI e2e tests: run the installed `torrust-deploy`, and clean up the environments a test
made (destroy + purge through the CLI, then any leftover LXD instance or profile of that environment)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
CLI = str(BIN / "torrust-deploy")


def unique_name(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


def cli_env() -> dict[str, str]:
    """The process environment for a CLI run: the venv's bin first on PATH."""
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def run(args: Sequence[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        env=cli_env(),
        stdin=subprocess.DEVNULL,
    )


@dataclass
class Cleanup:
    """Environments (working dir, name) to remove at the end of the test."""

    made: list[tuple[Path, str]] = field(default_factory=list)

    def add(self, work: Path, name: str) -> str:
        self.made.append((work, name))
        return name

    def run(self) -> None:
        for work, name in self.made:
            state_file = work / "data" / name / "environment.json"
            if state_file.exists():
                shown = run(["-C", str(work), "--json", "show", name], work, timeout=60)
                state = json.loads(shown.stdout).get("environment", {}).get("state") if shown.stdout else None
                if state != "Destroyed":
                    destroyed = run(["-C", str(work), "destroy", name], work)
                    if destroyed.returncode != 0:
                        print(f"cleanup: destroy of {name} failed: {destroyed.stderr}")
                run(["-C", str(work), "purge", name, "--force"], work, timeout=60)
            _delete_lxd_leftovers(name)


def _delete_lxd_leftovers(name: str) -> None:
    import pylxd

    client = pylxd.Client()
    instance_name = profile_name = f"torrust-{name}"
    if client.instances.exists(instance_name):
        instance = client.instances.get(instance_name)
        if instance.status == "Running":
            instance.stop(force=True, wait=True)
        instance.delete(wait=True)
    if client.profiles.exists(profile_name):
        client.profiles.get(profile_name).delete()


@pytest.fixture
def cleanup() -> Iterator[Cleanup]:
    registry = Cleanup()
    try:
        yield registry
    finally:
        registry.run()
