from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.commands.configure import ConfigureCommand
from orchestrator.commands.errors import ConfigureFailedError
from orchestrator.domain import (
    Configured,
    ConfigureFailed,
    ConfigureStep,
    Environment,
    EnvironmentName,
    InvalidTransitionError,
    Provisioned,
)
from orchestrator.infrastructure.traces import FileTraceWriter
from orchestrator.layout import WorkingDirLayout
from orchestrator.persistence import JsonFileRepository
from tests.support.fakes import FakePlaybooks, FakeRunningPlaybooks, ToolError, credentials


def _provisioned(tmp_path: Path) -> tuple[JsonFileRepository, Environment[Provisioned]]:
    repo = JsonFileRepository(tmp_path / "data")
    env = Environment.new(EnvironmentName("demo"), credentials(tmp_path)).start_provisioning()
    provisioned = env.complete_provisioning("10.200.77.10")
    repo.save(provisioned)
    return repo, provisioned


def test_configure_runs_docker_then_compose_playbooks_in_one_run_and_ends_configured(tmp_path: Path) -> None:
    repo, env = _provisioned(tmp_path)
    playbooks = FakePlaybooks(changed=3)
    command = ConfigureCommand(repo, playbooks, FileTraceWriter(WorkingDirLayout(tmp_path)))
    result = command.execute(env)
    assert isinstance(result.state, Configured)
    assert playbooks.calls == [
        "start install-docker.yml install-docker-compose.yml",
        "install-docker.yml",
        "install-docker-compose.yml",
        "stop",
    ]
    assert command.changed_tasks == 6
    stored = repo.load(EnvironmentName("demo"))
    assert stored is not None and isinstance(stored.state, Configured)


def test_configure_failure_ends_configure_failed_at_the_failing_playbook(tmp_path: Path) -> None:
    repo, env = _provisioned(tmp_path)
    playbooks = FakePlaybooks(failing={"install-docker-compose.yml": ToolError("apt failed", ["failed: apt"])})
    with pytest.raises(ConfigureFailedError) as raised:
        ConfigureCommand(repo, playbooks, FileTraceWriter(WorkingDirLayout(tmp_path))).execute(env)
    assert raised.value.failure.step is ConfigureStep.INSTALL_DOCKER_COMPOSE
    assert "torrust-deploy configure demo" in raised.value.tip
    assert playbooks.calls[-1] == "stop"  # the run is stopped and waited for before the state is saved
    stored = repo.load(EnvironmentName("demo"))
    assert stored is not None and isinstance(stored.state, ConfigureFailed)


def test_configure_rejects_created_environment_at_run_time(tmp_path: Path) -> None:
    repo = JsonFileRepository(tmp_path / "data")
    created = Environment.new(EnvironmentName("demo"), credentials(tmp_path))
    playbooks = FakePlaybooks()
    command = ConfigureCommand(repo, playbooks, FileTraceWriter(WorkingDirLayout(tmp_path)))
    with pytest.raises(InvalidTransitionError):
        command.execute(created)  # type: ignore[arg-type]
    assert playbooks.calls == []


def test_a_run_that_cannot_start_fails_the_first_step(tmp_path: Path) -> None:
    repo, env = _provisioned(tmp_path)

    class Unstartable(FakePlaybooks):
        def start(self, *_: object, **__: object) -> FakeRunningPlaybooks:
            raise FileNotFoundError("ansible-playbook not found")

    with pytest.raises(ConfigureFailedError) as raised:
        ConfigureCommand(repo, Unstartable(), FileTraceWriter(WorkingDirLayout(tmp_path))).execute(env)
    assert raised.value.failure.step is ConfigureStep.INSTALL_DOCKER
    assert raised.value.failure.error_kind == "FileNotFoundError"
    stored = repo.load(EnvironmentName("demo"))
    assert stored is not None and isinstance(stored.state, ConfigureFailed)
