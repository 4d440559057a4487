"""What the unit tests of `release`, `run` and `test` share: environments on the way to Running (with
the default tracker) and the parts a command is built from, with fake adapters."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from orchestrator.domain import Configured, Environment, EnvironmentName, Released, TrackerSettings
from orchestrator.infrastructure.traces import FileTraceWriter
from orchestrator.layout import WorkingDirLayout
from orchestrator.persistence import JsonFileRepository
from tests.support.fakes import FakePlaybooks, FakeReleasePreparer, FakeTokens, credentials

NAME = EnvironmentName("demo")
DEFAULT = TrackerSettings()


def configured(tmp_path: Path, tracker: TrackerSettings | None = DEFAULT) -> Environment[Configured]:
    """`demo`, Configured at 10.200.77.10, with `tracker` (the default one unless told otherwise)."""
    env = Environment.new(NAME, credentials(tmp_path), tracker=tracker).start_provisioning()
    return env.complete_provisioning("10.200.77.10").start_configuring().complete_configuring()


def released(tmp_path: Path) -> Environment[Released]:
    return configured(tmp_path).start_releasing().complete_releasing()


@dataclass
class Parts:
    """A real repository and trace writer over `tmp_path`, fake playbooks, release preparer and tokens."""

    repo: JsonFileRepository
    playbooks: FakePlaybooks
    preparer: FakeReleasePreparer
    tokens: FakeTokens
    traces: FileTraceWriter


def parts(tmp_path: Path) -> Parts:
    return Parts(
        JsonFileRepository(tmp_path / "data"),
        FakePlaybooks(changed=1),
        FakeReleasePreparer(),
        FakeTokens(),
        FileTraceWriter(WorkingDirLayout(tmp_path)),
    )
