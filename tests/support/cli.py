"""Running the CLI in-process for the CLI tests (typer's CliRunner) and what they compare: the run's
output, an environment brought to a state through the API, a snapshot of a directory tree. The fixtures
that use these (a working dir with keys, fake adapters) live in tests/unit/cli/conftest.py."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from orchestrator.api import Adapters, Deployer
from orchestrator.cli.main import app
from orchestrator.config import load_config

ENV = "demo"


@dataclass(frozen=True)
class Run:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_cli(work: Path, *args: str, json_output: bool = False, input: str | None = None) -> Run:
    """`torrust-deploy -C WORK [--json] ARGS…` in this process; stdin is not a terminal."""
    argv = ["-C", str(work), *(["--json"] if json_output else []), *args]
    result = CliRunner().invoke(app, argv, input=input, catch_exceptions=False)
    return Run(result.exit_code, result.stdout, result.stderr)


def write_config(work: Path, document: dict[str, Any] | list[Any] | str, name: str = "env.json") -> Path:
    path = work / name
    path.write_text(document if isinstance(document, str) else json.dumps(document, indent=2), encoding="utf-8")
    return path


def make_environment(work: Path, state: str, adapters: Adapters) -> None:
    """Environment `demo` from `work/env.json`, brought to `state` through the API with fake adapters."""
    deployer = Deployer(working_dir=work, adapters=adapters)
    env = deployer.create(load_config(work / "env.json"))
    if state in ("provisioned", "configured", "running"):
        deployer.provision(env)
    if state in ("configured", "running"):
        deployer.configure(ENV)
    if state == "running":
        deployer.run(deployer.release(ENV))
    if state == "destroyed":
        deployer.destroy(ENV)
    assert type(deployer.show(ENV).state).__name__.lower() == state


Entry = tuple[str, str, int | None, str]


def snapshot(root: Path) -> list[Entry]:
    """Every path under `root` (symlinks not followed): kind, mode, and content hash or link target."""
    entries: list[Entry] = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted([*dirnames, *filenames]):
            path = Path(dirpath) / name
            info = path.lstat()
            relative = str(path.relative_to(root))
            if stat.S_ISLNK(info.st_mode):
                entries.append((relative, "link", None, os.readlink(path)))
            elif stat.S_ISDIR(info.st_mode):
                entries.append((relative, "dir", stat.S_IMODE(info.st_mode), ""))
            elif stat.S_ISREG(info.st_mode):
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                entries.append((relative, "file", stat.S_IMODE(info.st_mode), digest))
            else:
                entries.append((relative, "other", stat.S_IMODE(info.st_mode), ""))
    return sorted(entries)


def error_lines(stderr: str) -> Sequence[str]:
    return [line for line in stderr.splitlines() if line.strip()]
