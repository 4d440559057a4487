from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from orchestrator.commands.errors import ProvisionFailedError
from orchestrator.commands.provision import ProvisionCommand
from orchestrator.domain import (
    Created,
    Environment,
    EnvironmentName,
    Provisioned,
    ProvisionFailed,
    ProvisionStep,
)
from orchestrator.infrastructure.traces import FileTraceWriter
from orchestrator.layout import WorkingDirLayout
from orchestrator.persistence import JsonFileRepository
from tests.support.fakes import (
    BrokenSaveRepository,
    FakePlaybooks,
    FakeProvisioner,
    FakeSsh,
    ToolError,
    credentials,
)


def _setup(
    tmp_path: Path, repository: JsonFileRepository | None = None
) -> tuple[JsonFileRepository, Environment[Created]]:
    layout = WorkingDirLayout(tmp_path)
    repo = repository or JsonFileRepository(layout.data_dir)
    env = Environment.new(EnvironmentName("demo"), credentials(tmp_path))
    JsonFileRepository(layout.data_dir).save(env)
    return repo, env


def _command(tmp_path: Path, repo: JsonFileRepository, **fakes: object) -> ProvisionCommand:
    return ProvisionCommand(
        repo,
        fakes.get("provisioner", FakeProvisioner()),  # type: ignore[arg-type]
        fakes.get("playbooks", FakePlaybooks()),  # type: ignore[arg-type]
        fakes.get("ssh", FakeSsh()),  # type: ignore[arg-type]
        FileTraceWriter(WorkingDirLayout(tmp_path)),
    )


def test_provision_runs_steps_in_order_and_ends_provisioned_with_the_ip(tmp_path: Path) -> None:
    repo, env = _setup(tmp_path)
    provisioner, playbooks, ssh = FakeProvisioner(), FakePlaybooks(), FakeSsh()
    result = _command(tmp_path, repo, provisioner=provisioner, playbooks=playbooks, ssh=ssh).execute(env)
    assert isinstance(result.state, Provisioned)
    assert result.instance_ip == "10.200.77.10"
    assert provisioner.calls == ["prepare", "up"]
    assert playbooks.calls == [
        "inventory 10.200.77.10",
        "start wait-cloud-init.yml (held)",
        "wait-cloud-init.yml",
        "stop",
    ]
    assert ssh.calls == ["10.200.77.10"]
    stored = repo.load(EnvironmentName("demo"))
    assert stored is not None and isinstance(stored.state, Provisioned)
    events = [json.loads(line) for line in (tmp_path / "data/demo/events.jsonl").read_text().splitlines()]
    assert [(e["from"], e["to"]) for e in events][-2:] == [
        ("created", "provisioning"),
        ("provisioning", "provisioned"),
    ]


@pytest.mark.parametrize(
    ("fakes", "step"),
    [
        (
            {"provisioner": FakeProvisioner(fail_up=ToolError("image not found", ["engine line"]))},
            ProvisionStep.PULUMI_UP,
        ),
        ({"provisioner": FakeProvisioner(ipv4="")}, ProvisionStep.READ_OUTPUTS),
        ({"ssh": FakeSsh(fail=TimeoutError("Permission denied (publickey)"))}, ProvisionStep.WAIT_SSH),
        (
            {"playbooks": FakePlaybooks(failing={"wait-cloud-init.yml": ToolError("status: error", [])})},
            ProvisionStep.WAIT_CLOUD_INIT,
        ),
    ],
)
def test_provision_failure_records_the_failed_step_and_writes_a_trace(
    tmp_path: Path, fakes: dict[str, object], step: ProvisionStep
) -> None:
    repo, env = _setup(tmp_path)
    with pytest.raises(ProvisionFailedError) as raised:
        _command(tmp_path, repo, **fakes).execute(env)
    error = raised.value
    assert error.failure.step is step
    assert error.tip and "torrust-deploy" in error.tip
    stored = repo.load(EnvironmentName("demo"))
    assert stored is not None and isinstance(stored.state, ProvisionFailed)
    assert stored.state.failure.step is step
    trace = error.trace_path
    assert trace is not None and trace.parent == tmp_path / "data/demo/traces"
    text = trace.read_text()
    assert f"failed step: {step.value}" in text and "== error chain ==" in text


def test_trace_keeps_tool_output_and_redacts_private_keys(tmp_path: Path) -> None:
    repo, env = _setup(tmp_path)
    secret = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAsecret\n-----END OPENSSH PRIVATE KEY-----"
    failing = FakeProvisioner(fail_up=ToolError("boom", ["pulumi: resource failed", secret]))
    with pytest.raises(ProvisionFailedError) as raised:
        _command(tmp_path, repo, provisioner=failing).execute(env)
    assert raised.value.trace_path is not None
    text = raised.value.trace_path.read_text()
    assert "pulumi: resource failed" in text and "engine: creating instance" in text
    assert "AAAsecret" not in text


def test_failed_save_is_logged_and_the_command_still_succeeds_with_stale_state(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    layout = WorkingDirLayout(tmp_path)
    repo, env = _setup(tmp_path, BrokenSaveRepository(layout.data_dir, allowed=1))
    command = _command(tmp_path, repo)
    with caplog.at_level(logging.WARNING, logger="orchestrator.commands"):
        result = command.execute(env)
    assert isinstance(result.state, Provisioned)
    assert command.stale_state
    assert "stale" in caplog.text
    stored = JsonFileRepository(layout.data_dir).load(EnvironmentName("demo"))
    assert stored is not None and type(stored.state).__name__ == "Provisioning"
