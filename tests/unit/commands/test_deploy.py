"""DeployCommand: provision then configure with one ansible run for cloud-init and configure; then, with a
tracker, release and run in that same run (their own when the release cannot be rendered ahead)."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.commands.configure import ConfigureCommand
from orchestrator.commands.deploy import DeployCommand
from orchestrator.commands.errors import ConfigureFailedError, ProvisionFailedError, ReleaseFailedError
from orchestrator.commands.provision import ProvisionCommand
from orchestrator.commands.release import ReleaseCommand
from orchestrator.commands.run import RunCommand
from orchestrator.domain import (
    Configured,
    ConfigureFailed,
    ConfigureStep,
    Created,
    Environment,
    EnvironmentName,
    ProvisionFailed,
    ProvisionStep,
    ReleaseFailed,
    ReleaseStep,
    Running,
    TrackerSettings,
)
from orchestrator.infrastructure.traces import FileTraceWriter
from orchestrator.layout import WorkingDirLayout
from orchestrator.persistence import JsonFileRepository
from tests.support.fakes import (
    FakePlaybooks,
    FakeProvisioner,
    FakeReleasePreparer,
    FakeSsh,
    FakeTokens,
    FakeTrackerChecks,
    ToolError,
    credentials,
)

ALL_PLAYBOOKS = "start wait-cloud-init.yml install-docker.yml install-docker-compose.yml"


TRACKER_PLAYBOOKS = ["upload-tracker-release.yml", "load-tracker-image.yml", "start-tracker.yml"]


def _deploy(
    tmp_path: Path, playbooks: FakePlaybooks, preparer: FakeReleasePreparer | None = None
) -> tuple[JsonFileRepository, DeployCommand]:
    layout = WorkingDirLayout(tmp_path)
    repo = JsonFileRepository(layout.data_dir)
    traces = FileTraceWriter(layout)
    provision = ProvisionCommand(repo, FakeProvisioner(), playbooks, FakeSsh(), traces)
    configure = ConfigureCommand(repo, playbooks, traces)
    tokens, preparer = FakeTokens(), preparer or FakeReleasePreparer()
    release = ReleaseCommand(repo, playbooks, preparer, tokens, traces)
    run = RunCommand(repo, playbooks, preparer, FakeTrackerChecks(), traces)
    return repo, DeployCommand(playbooks, provision, configure, release, run)


def _states(repo: JsonFileRepository) -> list[str]:
    return [f"{event.from_state}->{event.to_state}" for event in repo.read_events(EnvironmentName("demo"))]


def test_deploy_provisions_then_configures_with_one_playbook_run(tmp_path: Path) -> None:
    playbooks = FakePlaybooks(changed=1)
    repo, command = _deploy(tmp_path, playbooks)
    env = Environment.new(EnvironmentName("demo"), credentials(tmp_path))
    repo.save(env)
    result = command.execute(env)
    assert isinstance(result.state, Configured) and result.instance_ip == "10.200.77.10"
    assert playbooks.calls == [
        "inventory 10.200.77.10",
        f"{ALL_PLAYBOOKS} (held)",  # started during the SSH wait
        "wait-cloud-init.yml",
        "install-docker.yml",
        "install-docker-compose.yml",
        "stop",
    ]
    assert _states(repo)[-4:] == [
        "created->provisioning",
        "provisioning->provisioned",
        "provisioned->configuring",
        "configuring->configured",
    ]
    assert not command.stale_state


def test_a_failed_cloud_init_wait_ends_provision_failed_and_configures_nothing(tmp_path: Path) -> None:
    playbooks = FakePlaybooks(failing={"wait-cloud-init.yml": ToolError("cloud-init: error", ["failed: wait"])})
    repo, command = _deploy(tmp_path, playbooks)
    env = Environment.new(EnvironmentName("demo"), credentials(tmp_path))
    repo.save(env)
    with pytest.raises(ProvisionFailedError) as raised:
        command.execute(env)
    assert raised.value.failure.step is ProvisionStep.WAIT_CLOUD_INIT
    assert playbooks.calls[-2:] == ["wait-cloud-init.yml", "stop"]  # no configure playbook was waited for
    stored = repo.load(EnvironmentName("demo"))
    assert stored is not None and isinstance(stored.state, ProvisionFailed)


def test_a_failed_configure_playbook_ends_configure_failed_at_its_step(tmp_path: Path) -> None:
    playbooks = FakePlaybooks(failing={"install-docker.yml": ToolError("apt failed", ["failed: apt"])})
    repo, command = _deploy(tmp_path, playbooks)
    env = Environment.new(EnvironmentName("demo"), credentials(tmp_path))
    repo.save(env)
    with pytest.raises(ConfigureFailedError) as raised:
        command.execute(env)
    assert raised.value.failure.step is ConfigureStep.INSTALL_DOCKER
    stored = repo.load(EnvironmentName("demo"))
    assert stored is not None and isinstance(stored.state, ConfigureFailed) and stored.instance_ip == "10.200.77.10"


def test_deploy_of_a_configured_environment_whose_docker_stopped_reconfigures_and_says_why(tmp_path: Path) -> None:
    from orchestrator.commands.check import CheckCommand
    from tests.support.fakes import FakeInspector

    class NoDocker:
        def docker_running(self, context: object) -> bool:
            return False

    playbooks = FakePlaybooks(changed=1)
    repo, command = _deploy(tmp_path, playbooks)
    env = Environment.new(EnvironmentName("demo"), credentials(tmp_path))
    repo.save(env)
    configured = command.execute(env)
    checked = DeployCommand(
        playbooks,
        command._provision,
        command._configure,
        command._release,
        command._run,
        CheckCommand(FakeInspector(), NoDocker(), FakeTrackerChecks()),
    )

    repaired = checked.execute(configured)

    assert isinstance(repaired.state, Configured)
    assert checked.repaired == ("Docker is not running on the instance",)
    events = repo.read_events(EnvironmentName("demo"))
    assert (events[-2].from_state, events[-2].to_state) == ("configured", "configuring")
    assert events[-2].reason == "drift: Docker is not running on the instance"


def _with_tracker(tmp_path: Path) -> Environment[Created]:
    return Environment.new(EnvironmentName("demo"), credentials(tmp_path), tracker=TrackerSettings())


def test_deploy_with_a_tracker_runs_every_playbook_in_one_ansible_run_with_the_release_rendered_ahead(
    tmp_path: Path,
) -> None:
    playbooks, preparer = FakePlaybooks(changed=1), FakeReleasePreparer()
    repo, command = _deploy(tmp_path, playbooks, preparer)
    env = _with_tracker(tmp_path)
    repo.save(env)

    result = command.execute(env)

    assert isinstance(result.state, Running)
    assert playbooks.calls == [
        "inventory 10.200.77.10",
        f"{ALL_PLAYBOOKS} {' '.join(TRACKER_PLAYBOOKS)} (held)",
        "wait-cloud-init.yml",
        "install-docker.yml",
        "install-docker-compose.yml",
        *TRACKER_PLAYBOOKS,
        "stop",
    ]
    assert playbooks.extravars == [{"tracker_release_dir": "/opt/torrust-tracker"}]
    # rendered ahead (before the run started), then again in the release's own step
    assert preparer.calls == ["prepare_ahead demo", "prepare demo"]
    assert _states(repo)[-4:] == [
        "configured->releasing",
        "releasing->released",
        "released->starting",
        "starting->running",
    ]


def test_without_a_ready_image_release_and_run_start_their_own_ansible_runs(tmp_path: Path) -> None:
    playbooks, preparer = FakePlaybooks(changed=1), FakeReleasePreparer(image_ready=False)
    repo, command = _deploy(tmp_path, playbooks, preparer)
    env = _with_tracker(tmp_path)
    repo.save(env)

    result = command.execute(env)

    assert isinstance(result.state, Running)
    starts = [call for call in playbooks.calls if call.startswith("start ")]
    assert starts == [
        f"{ALL_PLAYBOOKS} (held)",
        "start upload-tracker-release.yml load-tracker-image.yml",
        "start start-tracker.yml",
    ]
    assert preparer.calls == ["prepare_ahead demo", "prepare demo", "variables demo"]


def test_a_failed_release_playbook_ends_release_failed_and_starts_nothing(tmp_path: Path) -> None:
    playbooks = FakePlaybooks(failing={"load-tracker-image.yml": ToolError("import failed", ["failed: import"])})
    repo, command = _deploy(tmp_path, playbooks)
    env = _with_tracker(tmp_path)
    repo.save(env)

    with pytest.raises(ReleaseFailedError) as raised:
        command.execute(env)

    assert raised.value.failure.step is ReleaseStep.LOAD_IMAGE
    assert playbooks.calls[-2:] == ["load-tracker-image.yml", "stop"]  # start-tracker was never waited for
    stored = repo.load(EnvironmentName("demo"))
    assert stored is not None and isinstance(stored.state, ReleaseFailed)


def test_a_released_environment_only_runs(tmp_path: Path) -> None:
    playbooks = FakePlaybooks(changed=1)
    repo, command = _deploy(tmp_path, playbooks)
    env = _with_tracker(tmp_path).start_provisioning().complete_provisioning("10.200.77.10")
    released = env.start_configuring().complete_configuring().start_releasing().complete_releasing()
    repo.save(released)

    result = command.execute(released)

    assert isinstance(result.state, Running)
    assert playbooks.calls == ["start start-tracker.yml", "start-tracker.yml", "stop"]
