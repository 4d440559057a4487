"""`--json`: every command prints exactly one document on stdout that matches its schema
(orchestrator/cli/schemas.py, docs/cli-json.md) — results and errors. Infrastructure is faked here;
tests/e2e/cli/ runs the same checks against the real lab."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestrator.api import Adapters
from orchestrator.cli.schemas import (
    SCHEMAS,
    EnvironmentDocument,
    ErrorDocument,
    ListDocument,
    RunDocument,
    validate_output,
)
from orchestrator.domain import FailureContext
from orchestrator.persistence import JsonFileRepository
from tests.support.cli import ENV, make_environment, run_cli
from tests.support.environments import BUILDERS, created
from tests.support.fakes import FakeProvisioner, ToolError

pytestmark = pytest.mark.usefixtures("fakes")


@pytest.fixture(autouse=True)
def _in_work(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(work)


def _ok(work: Path, command: str, *args: str) -> dict[str, object]:
    result = run_cli(work, *command.split(), *args, json_output=True)
    assert result.exit_code == 0, result.output
    validate_output(command, result.stdout)
    document = json.loads(result.stdout)
    assert isinstance(document, dict)
    return document


def test_create_template_schema_and_validate(work: Path) -> None:
    template = _ok(work, "create template", "--name", "other")
    assert template["template"] == {**template["template"], "name": "other"}  # type: ignore[dict-item]
    schema = _ok(work, "create schema")
    assert schema["schema"]["title"] == "EnvironmentConfig"  # type: ignore[index]
    validated = _ok(work, "validate", "-f", "env.json")
    assert validated["config"]["ssh"]["private_key_path"] == str(work / "keys" / "demo")  # type: ignore[index]
    assert validated["warnings"] == []


def test_validate_warns_when_the_private_key_is_not_the_public_keys_other_half(work: Path, key_store: Path) -> None:
    (work / "keys" / "demo.pub").write_bytes((key_store / "other.pub").read_bytes())

    document = _ok(work, "validate", "-f", "env.json")
    text = run_cli(work, "validate", "-f", "env.json")

    assert "not the private half" in str(document["warnings"])
    assert text.exit_code == 0
    assert text.stderr.startswith("Warning: the private key")


def test_full_lifecycle_documents(work: Path) -> None:
    created_doc = EnvironmentDocument.model_validate(_ok(work, "create environment", "-f", "env.json"))
    assert created_doc.environment.state == "Created"
    assert created_doc.environment.next_command == f"torrust-deploy deploy {ENV}"

    provisioned = RunDocument.model_validate(_ok(work, "provision", ENV))
    assert provisioned.environment.state == "Provisioned"
    assert provisioned.environment.instance_ip == "10.200.77.10"
    assert provisioned.environment.ssh.command == f"ssh -i {work / 'keys' / 'demo'} torrust@10.200.77.10"
    assert [step.title for step in provisioned.steps][:2] == ["Prepare stack", "Pulumi up"]
    assert all(step.status == "done" and step.command == "provision" for step in provisioned.steps)
    assert provisioned.stale_state is False

    configured = RunDocument.model_validate(_ok(work, "configure", ENV))
    assert configured.environment.state == "Configured"
    assert configured.environment.next_command == f"torrust-deploy release {ENV}"  # the template has a tracker

    deployed = RunDocument.model_validate(_ok(work, "deploy", ENV))
    assert deployed.environment.state == "Running"  # deploy goes on: release and run the tracker

    shown = EnvironmentDocument.model_validate(_ok(work, "show", ENV))
    assert shown.environment == deployed.environment.model_copy(update={"running_pid": None})
    listed = ListDocument.model_validate(_ok(work, "list"))
    assert [env.name for env in listed.environments] == [ENV]

    destroyed = RunDocument.model_validate(_ok(work, "destroy", ENV))
    assert destroyed.environment.state == "Destroyed"
    assert destroyed.environment.instance_ip is None
    assert [step.command for step in destroyed.steps] == ["destroy"] * len(destroyed.steps)

    purged = _ok(work, "purge", ENV, "--force")
    assert purged["purged"] == ENV
    assert _ok(work, "list")["environments"] == []


def test_deploy_from_created_lists_the_steps_of_every_command_to_running(work: Path, fakes: Adapters) -> None:
    make_environment(work, "created", fakes)

    deployed = RunDocument.model_validate(_ok(work, "deploy", ENV))

    commands = [step.command for step in deployed.steps]
    assert commands == ["provision"] * 6 + ["configure"] * 2 + ["release"] * 3 + ["run"] * 2
    assert [step.index for step in deployed.steps] == [1, 2, 3, 4, 5, 6, 1, 2, 1, 2, 3, 1, 2]
    assert deployed.environment.state == "Running"
    assert deployed.environment.next_command is None


def test_failed_provision_prints_an_error_document_with_step_and_trace(work: Path, fakes: Adapters) -> None:
    make_environment(work, "created", fakes)
    assert isinstance(fakes.provisioner, FakeProvisioner)
    fakes.provisioner.fail_up = ToolError("lxd: image not found", ["engine: failed"])

    result = run_cli(work, "provision", ENV, json_output=True)

    assert result.exit_code == 1
    error = ErrorDocument.model_validate_json(result.stdout).error
    assert error.kind == "ProvisionFailedError"
    assert error.failed_step == "pulumi_up"
    assert error.environment == ENV
    assert error.trace_path is not None and Path(error.trace_path).is_file()
    shown = EnvironmentDocument.model_validate(_ok(work, "show", ENV))
    assert shown.environment.state == "ProvisionFailed"
    assert shown.environment.failure is not None
    assert shown.environment.failure.step == "pulumi_up"
    assert shown.environment.failure.trace_path == error.trace_path
    assert shown.environment.next_command == f"torrust-deploy provision {ENV}"


@pytest.mark.parametrize("tag", sorted(BUILDERS))
def test_show_and_list_documents_in_every_state(work: Path, tag: str) -> None:
    JsonFileRepository(work / "data").save(BUILDERS[tag]())

    shown = EnvironmentDocument.model_validate(_ok(work, "show", "e2e"))
    listed = ListDocument.model_validate(_ok(work, "list"))

    assert shown.environment.state.lower() == tag.replace("_", "")
    assert listed.environments == [shown.environment]
    assert (shown.environment.failure is not None) == tag.endswith("_failed")


def test_show_of_an_interrupted_run_has_no_step(work: Path) -> None:
    env = created("cut").start_provisioning()
    failure = FailureContext(
        step=None,
        error_kind="Interrupted",
        summary="interrupted",
        started_at=env.state_since,
        failed_at=datetime.now(UTC),
    )
    JsonFileRepository(work / "data").save(env.fail_provisioning(failure))

    shown = EnvironmentDocument.model_validate(_ok(work, "show", "cut"))
    text = run_cli(work, "show", "cut").stdout

    assert shown.environment.failure is not None and shown.environment.failure.step is None
    assert "Failed step: unknown step (Interrupted" in text


def test_list_reports_an_unreadable_state_file_and_goes_on(work: Path) -> None:
    repository = JsonFileRepository(work / "data")
    repository.save(created("good"))
    repository.save(created("bad"))
    repository.state_path(created("bad").name).write_text("{not json", encoding="utf-8")

    listed = ListDocument.model_validate(_ok(work, "list"))
    text = run_cli(work, "list")

    assert [env.name for env in listed.environments] == ["good"]
    assert [problem.name for problem in listed.unreadable] == ["bad"]
    assert text.exit_code == 0
    assert "bad" in text.stdout and "(unreadable)" in text.stdout
    assert "Warning: state file" in text.stderr


def test_usage_errors_with_json_are_error_documents(work: Path) -> None:
    result = run_cli(work, "show", json_output=True)

    document = ErrorDocument.model_validate_json(result.stdout)
    assert result.exit_code == 2
    assert document.command == "show"
    assert document.error.kind == "UsageError"


def test_every_documented_command_exists_in_the_cli() -> None:
    from typer.main import get_command

    from orchestrator.cli.main import app

    root = get_command(app)
    for command in SCHEMAS:
        path, _, option = command.partition(" --")
        current = root
        for part in path.split():
            current = current.get_command(None, part)  # type: ignore[attr-defined]
            assert current is not None, command
        if option:  # a document of a command with an option, e.g. `show --token`
            assert any(f"--{option}" in param.opts for param in current.params), command


def _no_pulumi_on_path_and_a_cache_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty PATH and `XDG_CACHE_HOME` under `tmp_path`: the Pulumi CLI root `toolchain status` looks in."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty-path"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "torrust-deploy" / "pulumi"


def test_toolchain_status_without_a_cli_prints_an_error_document_and_exits_1(
    work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_pulumi_on_path_and_a_cache_in(tmp_path, monkeypatch)

    result = run_cli(work, "toolchain", "status", json_output=True)

    assert result.exit_code == 1, result.output
    document = validate_output("toolchain status", result.stdout)
    assert isinstance(document, ErrorDocument)
    assert "toolchain build" in document.error.tip


def test_toolchain_status_prints_the_cached_cli_it_would_use(
    work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestrator.infrastructure.pulumi.toolchain import PLUGIN_SCRIPT, PULUMI_VERSION, cached_cli

    cli = cached_cli(_no_pulumi_on_path_and_a_cache_in(tmp_path, monkeypatch))
    cli.parent.mkdir(parents=True)
    for script in (cli, cli.with_name(PLUGIN_SCRIPT)):
        script.write_text("#!/bin/sh\nexit 1\n")  # stamped below: finding it must not run it
        script.chmod(0o755)
    (cli.parent.parent / ".complete").write_text(f"{PULUMI_VERSION}\n")

    result = run_cli(work, "toolchain", "status", json_output=True)

    assert result.exit_code == 0, result.output
    validate_output("toolchain status", result.stdout)
    assert result.json()["pulumi"] == {"cli": str(cli), "version": PULUMI_VERSION}


def test_lab_documents_match_their_schemas(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestrator.lab.errors import DaemonStartError
    from orchestrator.lab.local_lab import ImageResult, Lab, LabDown
    from tests.unit.lab.test_lab_cli import _status

    image = ImageResult(Path("/cache/x.tar.zst"), "a" * 64, 10**8, True, 42.0, True, "torrust-trixie")
    monkeypatch.setattr(Lab, "status", lambda self: _status())
    monkeypatch.setattr(Lab, "up", lambda self, progress=None: _status())
    monkeypatch.setattr(Lab, "down", lambda self, progress=None: LabDown(stopped=("lxd",)))
    monkeypatch.setattr(Lab, "build_image", lambda self, force=False, progress=None: image)

    assert _ok(work, "lab status")["lab"]["ready"] is True  # type: ignore[index]
    assert _ok(work, "lab up")["command"] == "lab up"
    assert _ok(work, "lab down")["stopped"] == ["lxd"]
    assert _ok(work, "lab image build")["image"]["fingerprint"] == "a" * 64  # type: ignore[index]

    def fail(self: Lab, progress: object = None) -> LabDown:
        raise DaemonStartError("the LXD daemon exited", detail="last words")

    monkeypatch.setattr(Lab, "down", fail)
    result = run_cli(work, "lab", "down", json_output=True)

    assert result.exit_code == 1
    error = ErrorDocument.model_validate_json(result.stdout).error
    assert (error.kind, error.detail, error.exit_code) == ("DaemonStartError", "last words", 1)
    assert validate_output("lab down", result.stdout)
