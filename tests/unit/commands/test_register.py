from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.commands.register import RegisterCommand, RegisterFailedError
from orchestrator.domain import Environment, EnvironmentName, Provisioned, ProvisionFailed, ProvisionStep
from orchestrator.infrastructure.traces import FileTraceWriter
from orchestrator.layout import WorkingDirLayout
from orchestrator.persistence import JsonFileRepository
from tests.support.fakes import FakePlaybooks, FakeSsh, credentials


def test_register_checks_ssh_and_cloud_init_at_the_given_port_and_records_the_host(tmp_path: Path) -> None:
    repo = JsonFileRepository(tmp_path / "data")
    env = Environment.new(EnvironmentName("demo"), credentials(tmp_path))
    repo.save(env)
    playbooks, ssh = FakePlaybooks(), FakeSsh()

    registered = RegisterCommand(repo, playbooks, ssh, FileTraceWriter(WorkingDirLayout(tmp_path))).execute(
        env, "10.200.77.50", ssh_port=2222
    )

    assert isinstance(registered.state, Provisioned)
    assert registered.context.registered and registered.context.ssh.port == 2222
    assert playbooks.calls == ["inventory 10.200.77.50", "wait-cloud-init.yml"]
    assert ssh.calls == ["10.200.77.50"]
    assert [e.command for e in repo.read_events(EnvironmentName("demo"))] == ["create", "register", "register"]


def test_register_that_cannot_reach_the_host_ends_provision_failed_at_the_ssh_step(tmp_path: Path) -> None:
    repo = JsonFileRepository(tmp_path / "data")
    env = Environment.new(EnvironmentName("demo"), credentials(tmp_path))
    repo.save(env)

    with pytest.raises(RegisterFailedError) as raised:
        RegisterCommand(
            repo,
            FakePlaybooks(),
            FakeSsh(fail=TimeoutError("Connection refused")),
            FileTraceWriter(WorkingDirLayout(tmp_path)),
        ).execute(env, "10.200.77.50")

    assert raised.value.failure.step is ProvisionStep.WAIT_SSH
    assert "register" in str(raised.value)
    stored = repo.load(EnvironmentName("demo"))
    assert stored is not None and isinstance(stored.state, ProvisionFailed)
