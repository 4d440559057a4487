from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.commands.destroy import DestroyCommand
from orchestrator.commands.errors import DestroyFailedError
from orchestrator.domain import Destroyed, DestroyFailed, DestroyStep, Environment, EnvironmentName
from orchestrator.infrastructure.traces import FileTraceWriter
from orchestrator.layout import WorkingDirLayout
from orchestrator.persistence import JsonFileRepository
from tests.support.fakes import FakePlaybooks, FakeProvisioner, ToolError, credentials


def test_destroy_from_created_destroys_the_stack_removes_it_and_cleans_build(tmp_path: Path) -> None:
    repo = JsonFileRepository(tmp_path / "data")
    env = Environment.new(EnvironmentName("demo"), credentials(tmp_path))
    repo.save(env)
    provisioner, playbooks = FakeProvisioner(), FakePlaybooks()
    result = DestroyCommand(repo, provisioner, playbooks, FileTraceWriter(WorkingDirLayout(tmp_path))).execute(env)
    assert isinstance(result.state, Destroyed)
    assert provisioner.calls == ["destroy", "remove_stack"]
    assert playbooks.calls == ["clean"]


def test_destroy_failure_ends_destroy_failed_with_a_trace(tmp_path: Path) -> None:
    repo = JsonFileRepository(tmp_path / "data")
    env = Environment.new(EnvironmentName("demo"), credentials(tmp_path))
    repo.save(env)
    provisioner = FakeProvisioner(fail_destroy=ToolError("lxd unreachable", []))
    with pytest.raises(DestroyFailedError) as raised:
        DestroyCommand(repo, provisioner, FakePlaybooks(), FileTraceWriter(WorkingDirLayout(tmp_path))).execute(env)
    assert raised.value.failure.step is DestroyStep.PULUMI_DESTROY
    stored = repo.load(EnvironmentName("demo"))
    assert stored is not None and isinstance(stored.state, DestroyFailed)
    assert raised.value.trace_path is not None and raised.value.trace_path.exists()
