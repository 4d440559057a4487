"""Fixtures of the CLI unit tests: a working dir with a real key pair and config, fake adapters behind
`Deployer`, and the logging set-up restored after each test. The helpers the tests call (running the CLI
in-process, snapshots, bringing an environment to a state) are in tests/support/cli.py."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.api import Adapters, Deployer
from orchestrator.cli.logs import teardown_logging
from orchestrator.config import config_template
from tests.support.cli import ENV, write_config
from tests.support.fakes import fake_adapters
from tests.support.keys import make_keypair


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
        make_keypair(keys / name, passphrase=passphrase, comment=name)
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


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> Adapters:
    """Fake Pulumi/ansible/ssh adapters behind every `Deployer` (the real trace writer and repository)."""
    adapters = fake_adapters()
    monkeypatch.setattr(Deployer, "adapters", property(lambda self: adapters))
    return adapters
