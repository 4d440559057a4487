from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from orchestrator.commands.check import CheckCommand
from orchestrator.commands.ports import InstanceObservation
from orchestrator.domain import Environment, EnvironmentContext, EnvironmentName, Provisioned, Running, TrackerSettings
from tests.support.fakes import FakeTrackerChecks, credentials

IP = "10.200.77.10"


@dataclass
class FakeInspector:
    observation: InstanceObservation
    calls: int = 0

    def observe(self, context: EnvironmentContext) -> InstanceObservation:
        self.calls += 1
        return self.observation


def _seen(
    exists: bool = True, status: str = "Running", ipv4: str | None = IP, **profile: object
) -> InstanceObservation:
    return InstanceObservation(
        instance_exists=exists,
        status=status if exists else None,
        ipv4=ipv4 if exists else None,
        profile_exists=bool(profile.get("profile_exists", True)),
        profile_differences=tuple(profile.get("differences", ())),  # type: ignore[arg-type]
    )


def _provisioned(tmp_path: Path) -> Environment[Provisioned]:
    env = Environment.new(EnvironmentName("demo"), credentials(tmp_path)).start_provisioning()
    return env.complete_provisioning(IP)


def test_check_reports_no_drift_when_the_instance_matches(tmp_path: Path) -> None:
    report = CheckCommand(FakeInspector(_seen())).execute(_provisioned(tmp_path))
    assert report.checked and not report.drifted


def test_check_reports_a_missing_instance(tmp_path: Path) -> None:
    report = CheckCommand(FakeInspector(_seen(exists=False))).execute(_provisioned(tmp_path))
    assert report.findings == ("instance torrust-demo is missing",)


def test_check_reports_a_stopped_instance(tmp_path: Path) -> None:
    report = CheckCommand(FakeInspector(_seen(status="Stopped"))).execute(_provisioned(tmp_path))
    assert report.findings == ("instance torrust-demo is Stopped (expected Running)",)


def test_check_reports_a_changed_ip(tmp_path: Path) -> None:
    report = CheckCommand(FakeInspector(_seen(ipv4="10.200.77.99"))).execute(_provisioned(tmp_path))
    assert report.findings == ("IP address changed: stored 10.200.77.10, actual 10.200.77.99",)


def test_check_reports_profile_changes_and_a_missing_profile(tmp_path: Path) -> None:
    changed = _seen(differences=("config security.nesting: expected 'true', found None",))
    report = CheckCommand(FakeInspector(changed)).execute(_provisioned(tmp_path))
    assert report.findings == ("profile torrust-demo: config security.nesting: expected 'true', found None",)
    missing = CheckCommand(FakeInspector(_seen(profile_exists=False))).execute(_provisioned(tmp_path))
    assert missing.findings == ("profile torrust-demo is missing",)


def test_check_reports_an_instance_that_exists_although_the_environment_is_created(tmp_path: Path) -> None:
    created = Environment.new(EnvironmentName("demo"), credentials(tmp_path))
    report = CheckCommand(FakeInspector(_seen())).execute(created)
    assert report.drifted
    assert "exists although the environment is created" in report.findings[0]


def test_check_does_not_inspect_a_registered_host(tmp_path: Path) -> None:
    env = Environment.new(EnvironmentName("demo"), credentials(tmp_path)).start_registering()
    inspector = FakeInspector(_seen(exists=False))
    report = CheckCommand(inspector).execute(env.complete_registration(IP))
    assert not report.checked and not report.drifted
    assert inspector.calls == 0


@dataclass
class FakeHost:
    docker: bool = True
    calls: int = 0

    def docker_running(self, context: EnvironmentContext) -> bool:
        self.calls += 1
        return self.docker


def _running(tmp_path: Path) -> Environment[Running]:
    env = Environment.new(EnvironmentName("demo"), credentials(tmp_path), tracker=TrackerSettings())
    configured = env.start_provisioning().complete_provisioning(IP).start_configuring().complete_configuring()
    return configured.start_releasing().complete_releasing().start_running().complete_running()


def test_a_running_tracker_that_answers_needs_no_ssh_and_shows_no_drift(tmp_path: Path) -> None:
    host, tracker = FakeHost(), FakeTrackerChecks()

    report = CheckCommand(FakeInspector(_seen()), host, tracker).execute(_running(tmp_path))

    assert not report.drifted and report.repair is None
    assert host.calls == 0 and tracker.calls == ["health"]  # a healthy tracker: Docker runs


def test_a_tracker_that_does_not_answer_is_repaired_by_run_and_docker_stopped_by_configure(tmp_path: Path) -> None:
    down = CheckCommand(FakeInspector(_seen()), FakeHost(), FakeTrackerChecks(healthy=False)).execute(
        _running(tmp_path)
    )
    no_docker = CheckCommand(FakeInspector(_seen()), FakeHost(docker=False), FakeTrackerChecks(healthy=False))

    assert down.repair == "run" and down.findings == ("the tracker's health check fails: connection refused",)
    report = no_docker.execute(_running(tmp_path))
    assert report.repair == "configure" and "Docker is not running on the instance" in report.findings


def test_a_missing_instance_is_repaired_by_provision_before_anything_is_asked_of_the_host(tmp_path: Path) -> None:
    host, tracker = FakeHost(), FakeTrackerChecks()

    report = CheckCommand(FakeInspector(_seen(exists=False)), host, tracker).execute(_running(tmp_path))

    assert report.repair == "provision" and report.findings == ("instance torrust-demo is missing",)
    assert host.calls == 0 and tracker.calls == []
