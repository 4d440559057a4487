"""VerifyCommand (`torrust-deploy test`) with fake checks: passes, fails naming the check, changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.commands.errors import TrackerTestFailedError
from orchestrator.commands.verify import VerifyCommand
from orchestrator.domain import (
    Configured,
    Environment,
    EnvironmentName,
    Released,
    TrackerSettings,
)
from orchestrator.infrastructure.traces import FileTraceWriter
from orchestrator.layout import WorkingDirLayout
from orchestrator.persistence import JsonFileRepository
from tests.support.fakes import (
    FakePlaybooks,
    FakeReleasePreparer,
    FakeTokens,
    FakeTrackerChecks,
    credentials,
)

NAME = EnvironmentName("demo")


DEFAULT = TrackerSettings()


def _configured(tmp_path: Path, tracker: TrackerSettings | None = DEFAULT) -> Environment[Configured]:
    env = Environment.new(NAME, credentials(tmp_path), tracker=tracker).start_provisioning()
    return env.complete_provisioning("10.200.77.10").start_configuring().complete_configuring()


def _parts(
    tmp_path: Path,
) -> tuple[JsonFileRepository, FakePlaybooks, FakeReleasePreparer, FakeTokens, FileTraceWriter]:
    return (
        JsonFileRepository(tmp_path / "data"),
        FakePlaybooks(changed=1),
        FakeReleasePreparer(),
        FakeTokens(),
        FileTraceWriter(WorkingDirLayout(tmp_path)),
    )


def _released(tmp_path: Path) -> Environment[Released]:
    return _configured(tmp_path).start_releasing().complete_releasing()


def test_test_passes_when_every_check_passes_and_changes_nothing(tmp_path: Path) -> None:
    _, _, _, tokens, _ = _parts(tmp_path)
    running = _released(tmp_path).start_running().complete_running()

    report = VerifyCommand(tokens, FakeTrackerChecks()).execute(running)

    assert report.passed and len(report.checks) == 4
    assert running.pending_transitions[-1].to_state == "running"  # no transition was made


def test_test_fails_naming_the_failed_check(tmp_path: Path) -> None:
    _, _, _, tokens, _ = _parts(tmp_path)
    running = _released(tmp_path).start_running().complete_running()

    with pytest.raises(TrackerTestFailedError) as raised:
        VerifyCommand(tokens, FakeTrackerChecks(failing_check="UDP announce :6969")).execute(running)

    assert raised.value.failed == [("UDP announce :6969", "timed out")]
    assert int(raised.value.exit_code) == 1
    assert len(raised.value.checks) == 4
