"""RunCommand with fake adapters: start, health wait, failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.commands.errors import RunFailedError
from orchestrator.commands.run import START_TRACKER_PLAYBOOK, RunCommand
from orchestrator.domain import (
    RunFailed,
    Running,
    RunStep,
)
from tests.support.fakes import (
    FakeTrackerChecks,
)
from tests.support.tracker_commands import NAME, parts, released


def test_run_starts_the_tracker_then_waits_for_its_health_check_and_ends_running(tmp_path: Path) -> None:
    p = parts(tmp_path)
    repo, playbooks, preparer, traces = p.repo, p.playbooks, p.preparer, p.traces
    checks = FakeTrackerChecks()
    env = released(tmp_path)
    repo.save(env)

    running = RunCommand(repo, playbooks, preparer, checks, traces).execute(env)

    assert isinstance(running.state, Running)
    assert playbooks.calls == [f"start {START_TRACKER_PLAYBOOK}", START_TRACKER_PLAYBOOK, "stop"]
    assert checks.calls == ["wait_healthy"]


def test_a_tracker_that_never_gets_healthy_ends_run_failed_at_the_wait(tmp_path: Path) -> None:
    p = parts(tmp_path)
    repo, playbooks, preparer, traces = p.repo, p.playbooks, p.preparer, p.traces
    env = released(tmp_path)
    repo.save(env)

    with pytest.raises(RunFailedError) as raised:
        RunCommand(repo, playbooks, preparer, FakeTrackerChecks(healthy=False), traces).execute(env)

    assert raised.value.failure.step is RunStep.WAIT_HEALTHY
    assert "container's last log lines" in raised.value.tip
    stored = repo.load(NAME)
    assert stored is not None and isinstance(stored.state, RunFailed)
