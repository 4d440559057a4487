from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orchestrator.domain import (
    ConfigureStep,
    EnvironmentName,
    FailureContext,
    InvalidFailureContextError,
    InvalidLxdTargetError,
    InvalidSshCredentialsError,
    LxdTarget,
    ProvisionStep,
    SshCredentials,
)
from tests.support.environments import SSH, created, failure


def test_ssh_credentials_default_to_user_torrust_on_port_22() -> None:
    ssh = SshCredentials(Path("k"), Path("k.pub"))

    assert (ssh.username, ssh.port) == ("torrust", 22)
    assert ssh.private_key_path == Path("k")


@pytest.mark.parametrize("username", ["", "Root", "1user", "user name", "a" * 33, "üser"])
def test_ssh_credentials_reject_non_posix_usernames(username: str) -> None:
    with pytest.raises(InvalidSshCredentialsError) as caught:
        SshCredentials(Path("k"), Path("k.pub"), username=username)

    assert "username" in str(caught.value)
    assert caught.value.tip


@pytest.mark.parametrize("port", [0, -1, 65536, True])
def test_ssh_credentials_reject_ports_outside_1_to_65535(port: int) -> None:
    with pytest.raises(InvalidSshCredentialsError) as caught:
        SshCredentials(Path("k"), Path("k.pub"), port=port)

    assert "65535" in caught.value.tip


def test_lxd_target_defaults_to_local_container_from_torrust_image() -> None:
    lxd = LxdTarget()

    assert lxd.endpoint is None
    assert (lxd.image_alias, lxd.instance_type, lxd.network, lxd.storage_pool) == (
        "torrust-trixie",
        "container",
        "lxdbr0",
        "default",
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"endpoint": "http://host:8443"},
        {"endpoint": "host:8443"},
        {"client_cert_path": Path("client.crt")},
        {"client_key_path": Path("client.key")},
        {"instance_type": "vm"},
        {"image_alias": ""},
        {"profile_name": ""},
    ],
)
def test_lxd_target_rejects_settings_that_cannot_work(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidLxdTargetError) as caught:
        LxdTarget(**kwargs)  # type: ignore[arg-type]

    assert caught.value.tip


def test_context_profile_name_defaults_to_torrust_env_name() -> None:
    assert created("staging").context.profile_name == "torrust-staging"
    custom = created("staging", LxdTarget(profile_name="shared"))
    assert custom.context.profile_name == "shared"


def test_failure_context_duration_is_failed_minus_started() -> None:
    assert failure(ProvisionStep.WAIT_SSH).duration == timedelta(seconds=2.5)


def test_failure_context_folds_summary_to_one_line() -> None:
    now = datetime.now(UTC)
    ctx = FailureContext(ConfigureStep.INSTALL_DOCKER, "E", "first\n  second\tthird ", now, now, None)

    assert ctx.summary == "first second third"


def test_failure_context_rejects_naive_or_reversed_timestamps() -> None:
    now = datetime.now(UTC)
    with pytest.raises(InvalidFailureContextError):
        FailureContext(ConfigureStep.INSTALL_DOCKER, "E", "s", now.replace(tzinfo=None), now, None)
    with pytest.raises(InvalidFailureContextError):
        FailureContext(ConfigureStep.INSTALL_DOCKER, "E", "s", now, now - timedelta(seconds=1), None)


def test_failure_context_rejects_a_step_that_is_not_a_step_enum() -> None:
    now = datetime.now(UTC)
    with pytest.raises(InvalidFailureContextError):
        FailureContext("wait_ssh", "E", "s", now, now, None)  # type: ignore[arg-type]


def test_new_environment_rejects_an_env_name_too_long_for_the_default_instance_name() -> None:
    from orchestrator.domain import Environment, InvalidInstanceNameError

    with pytest.raises(InvalidInstanceNameError) as caught:
        Environment.new(EnvironmentName("a" * 60), SSH)

    assert "55" in caught.value.tip
    assert Environment.new(EnvironmentName("a" * 60), SSH, instance_name="short").context.instance_name == "short"
