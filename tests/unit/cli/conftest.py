"""Fixtures of the CLI unit tests: a working dir with a real key pair and config, the CLI run in-process
(typer's CliRunner), fake adapters behind `Deployer`, and a snapshot of a directory tree."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from orchestrator.api import Adapters, Deployer
from orchestrator.cli.logs import teardown_logging
from orchestrator.cli.main import app
from orchestrator.commands.ports import InstanceObservation
from orchestrator.config import config_template, load_config
from orchestrator.domain import EnvironmentContext
from tests.unit.commands.fakes import FakePlaybooks, FakeProvisioner, FakeSsh

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


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    yield
    teardown_logging()
    root.setLevel(level)


@pytest.fixture(scope="session")
def key_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Key pairs made once: `demo` (no passphrase), `locked` (passphrase `secret`), `other` (no passphrase)."""
    keys = tmp_path_factory.mktemp("keys")
    for name, passphrase in (("demo", ""), ("locked", "secret"), ("other", "")):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", name, "-f", str(keys / name)],
            check=True,
            capture_output=True,
        )
    return keys


@pytest.fixture
def work(tmp_path: Path, key_store: Path) -> Path:
    """A working dir holding `env.json` (environment `demo`) and `keys/demo{,.pub}`."""
    work = tmp_path / "work"
    (work / "keys").mkdir(parents=True)
    for name in ("demo", "demo.pub"):
        shutil.copy2(key_store / name, work / "keys" / name)
    write_config(work, config_template(ENV))
    return work


def write_config(work: Path, document: dict[str, Any] | list[Any] | str, name: str = "env.json") -> Path:
    path = work / name
    path.write_text(document if isinstance(document, str) else json.dumps(document, indent=2), encoding="utf-8")
    return path


@dataclass
class FakeInspector:
    """Sees the instance the fake provisioner made, running at its address."""

    ipv4: str = "10.200.77.10"

    def observe(self, context: EnvironmentContext) -> InstanceObservation:
        return InstanceObservation(
            instance_exists=True, status="Running", ipv4=self.ipv4, profile_exists=True, profile_differences=()
        )


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> Adapters:
    """Fake Pulumi/ansible/ssh adapters behind every `Deployer` (the real trace writer and repository)."""
    adapters = Adapters(
        provisioner=FakeProvisioner(), playbooks=FakePlaybooks(), ssh=FakeSsh(), inspector=FakeInspector()
    )
    monkeypatch.setattr(Deployer, "adapters", property(lambda self: adapters))
    return adapters


def make_environment(work: Path, state: str, adapters: Adapters) -> None:
    """Environment `demo` from `work/env.json`, brought to `state` through the API with fake adapters."""
    deployer = Deployer(working_dir=work, adapters=adapters)
    env = deployer.create(load_config(work / "env.json"))
    if state in ("provisioned", "configured"):
        deployer.provision(env)
    if state == "configured":
        deployer.configure(ENV)
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
