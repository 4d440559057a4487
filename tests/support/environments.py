"""Builders of environments in every state, reached through real transitions (domain, persistence, CLI tests)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from orchestrator.domain import (
    AnyEnvironment,
    Configured,
    ConfigureStep,
    Created,
    DestroyStep,
    Environment,
    EnvironmentName,
    FailureContext,
    LxdTarget,
    ProvisionStep,
    ReleaseStep,
    RunStep,
    SshCredentials,
    Step,
    TrackerSettings,
)

SSH = SshCredentials(Path("/keys/id_ed25519"), Path("/keys/id_ed25519.pub"))
IP = "10.140.190.7"


def failure(step: Step, *, trace: bool = True) -> FailureContext:
    """A failure at `step` that lasted 2.5 s."""
    started = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
    return FailureContext(
        step=step,
        error_kind="CommandTimedOut",
        summary=f"{step.value} timed out",
        started_at=started,
        failed_at=started + timedelta(seconds=2.5),
        trace_path=Path(f"data/e2e/traces/20250301-120002-{step.value}.log") if trace else None,
    )


def created(name: str = "e2e", lxd: LxdTarget | None = None, tracker: bool = False) -> Environment[Created]:
    """A new environment (with the default tracker when `tracker`)."""
    return Environment.new(EnvironmentName(name), SSH, lxd, tracker=TrackerSettings() if tracker else None)


def configured_with_tracker() -> Environment[Configured]:
    """A configured environment whose config has the default tracker."""
    return (
        created(tracker=True).start_provisioning().complete_provisioning(IP).start_configuring().complete_configuring()
    )


# tag -> builder of an environment in that state, reached through real transitions
BUILDERS: dict[str, Callable[[], AnyEnvironment]] = {
    "created": created,
    "provisioning": lambda: created().start_provisioning(),
    "provisioned": lambda: created().start_provisioning().complete_provisioning(IP),
    "provision_failed": lambda: (
        created().start_provisioning().fail_provisioning(failure(ProvisionStep.WAIT_CLOUD_INIT))
    ),
    "configuring": lambda: created().start_provisioning().complete_provisioning(IP).start_configuring(),
    "configured": configured_with_tracker,
    "configure_failed": lambda: (
        created()
        .start_provisioning()
        .complete_provisioning(IP)
        .start_configuring()
        .fail_configuring(failure(ConfigureStep.INSTALL_DOCKER_COMPOSE, trace=False))
    ),
    "releasing": lambda: configured_with_tracker().start_releasing(),
    "released": lambda: configured_with_tracker().start_releasing().complete_releasing(),
    "release_failed": lambda: (
        configured_with_tracker().start_releasing().fail_releasing(failure(ReleaseStep.LOAD_IMAGE))
    ),
    "starting": lambda: configured_with_tracker().start_releasing().complete_releasing().start_running(),
    "running": lambda: (
        configured_with_tracker().start_releasing().complete_releasing().start_running().complete_running()
    ),
    "run_failed": lambda: (
        configured_with_tracker()
        .start_releasing()
        .complete_releasing()
        .start_running()
        .fail_running(failure(RunStep.WAIT_HEALTHY))
    ),
    "destroying": lambda: created().start_destroying(),
    "destroyed": lambda: created().start_provisioning().start_destroying().complete_destroying(),
    "destroy_failed": lambda: created().start_destroying().fail_destroying(failure(DestroyStep.PULUMI_DESTROY)),
}


def _interrupted_provision() -> AnyEnvironment:
    """Provisioning recorded as failed at an unknown step (a run that was killed)."""
    started = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
    unknown = FailureContext(None, "Interrupted", "the run ended", started, started + timedelta(seconds=61))
    return created().start_provisioning().fail_provisioning(unknown)


def _long_failure() -> AnyEnvironment:
    """A failure whose summary the domain folded to one line and shortened."""
    started = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
    summary = "apt failed:\n  " + "E: unable to fetch some archives " * 30
    failed = FailureContext(ConfigureStep.INSTALL_DOCKER, "CommandFailed", summary, started, started)
    return created().start_provisioning().complete_provisioning(IP).start_configuring().fail_configuring(failed)


REMOTE_LXD = LxdTarget(
    endpoint="https://lxd.example:8443",
    client_cert_path=Path("certs/client.crt"),
    client_key_path=Path("certs/client.key"),
    server_cert_path=Path("certs/server.crt"),
    instance_type="virtual-machine",
    profile_name="custom-profile",
    network="br1",
    storage_pool="fast",
)

# More shapes than one per state: registered hosts, a remote LXD target, other failures.
VARIANTS: dict[str, Callable[[], AnyEnvironment]] = {
    "registered": lambda: created().start_registering().complete_registration("192.0.2.10", ssh_port=2222),
    "remote-lxd": lambda: (
        created(lxd=REMOTE_LXD).start_provisioning().complete_provisioning("2001:db8::7").start_configuring()
    ),
    "interrupted-provision": _interrupted_provision,
    "long-failure": _long_failure,
}
