"""RunCommand with fake adapters: start, health wait, failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.commands.errors import RunFailedError
from orchestrator.commands.run import START_TRACKER_PLAYBOOK, RunCommand
from orchestrator.domain import (
    Configured,
    Environment,
    EnvironmentName,
    Released,
    RunFailed,
    Running,
    RunStep,
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


def test_run_starts_the_tracker_then_waits_for_its_health_check_and_ends_running(tmp_path: Path) -> None:
    repo, playbooks, preparer, tokens, traces = _parts(tmp_path)
    checks = FakeTrackerChecks()
    env = _released(tmp_path)
    repo.save(env)

    running = RunCommand(repo, playbooks, preparer, tokens, checks, traces).execute(env)

    assert isinstance(running.state, Running)
    assert playbooks.calls == [f"start {START_TRACKER_PLAYBOOK}", START_TRACKER_PLAYBOOK, "stop"]
    assert checks.calls == ["wait_healthy"]


def test_a_tracker_that_never_gets_healthy_ends_run_failed_at_the_wait(tmp_path: Path) -> None:
    repo, playbooks, preparer, tokens, traces = _parts(tmp_path)
    env = _released(tmp_path)
    repo.save(env)

    with pytest.raises(RunFailedError) as raised:
        RunCommand(repo, playbooks, preparer, tokens, FakeTrackerChecks(healthy=False), traces).execute(env)

    assert raised.value.failure.step is RunStep.WAIT_HEALTHY
    assert "container's last log lines" in raised.value.tip
    stored = repo.load(NAME)
    assert stored is not None and isinstance(stored.state, RunFailed)
