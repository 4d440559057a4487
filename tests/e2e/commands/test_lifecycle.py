"""provision → configure → destroy on the real lab: LXD + Pulumi CLI + ansible-runner + sshd."""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.api import Deployer
from orchestrator.commands.errors import ProvisionFailedError
from orchestrator.config import EnvironmentConfig
from orchestrator.domain import Configured, Destroyed, Provisioned, ProvisionFailed, ProvisionStep
from orchestrator.infrastructure.ansible.playbooks import AnsiblePlaybooks
from orchestrator.resources import shipped_dir
from tests.support.e2e import MakeConfig, plain_pulumi, ssh_run, stacks_in_backend
from tests.support.keys import make_keypair

pytestmark = pytest.mark.e2e


def _events(deployer: Deployer, name: str) -> list[tuple[str | None, str]]:
    path = deployer.layout.environment_dir(name) / "events.jsonl"
    return [(event["from"], event["to"]) for event in map(json.loads, path.read_text().splitlines())]


def _provider_inputs(deployer: Deployer, name: str) -> dict[str, Any]:
    """The `lxd` provider resource's inputs (the LXD target) as the plain CLI exports them from the state."""
    state = plain_pulumi(deployer, name, "stack", "export", "--stack", f"organization/torrust-deploy/{name}")
    resources = state["deployment"]["resources"]
    provider = next(r for r in resources if r["type"] == "pulumi:providers:lxd")
    return dict(provider.get("inputs") or {})


def _run_happy_path(deployer: Deployer, config: EnvironmentConfig, lxd_client: Any) -> None:
    name = config.name
    created = deployer.create(config)

    started = time.monotonic()
    provisioned = deployer.provision(created)
    print(f"provision wall time: {time.monotonic() - started:.1f} s")
    assert isinstance(provisioned.state, Provisioned)
    ip = provisioned.instance_ip
    assert ip is not None
    stored = json.loads((deployer.layout.environment_dir(name) / "environment.json").read_text())
    assert stored["state"] == "provisioned"
    assert stored["context"]["instance_ip"] == ip
    assert _events(deployer, name) == [
        (None, "created"),
        ("created", "provisioning"),
        ("provisioning", "provisioned"),
    ]
    assert ssh_run(config, ip, "true").returncode == 0
    assert stacks_in_backend(deployer, name) == [f"organization/torrust-deploy/{name}"]
    assert _provider_inputs(deployer, name).get("remote", "") == (config.lxd.endpoint or "")

    started = time.monotonic()
    configured = deployer.configure(provisioned)
    print(f"configure wall time: {time.monotonic() - started:.1f} s")
    assert isinstance(configured.state, Configured)
    docker = ssh_run(config, ip, "docker", "info", "--format", "{{.ServerVersion}}")
    assert docker.returncode == 0, docker.stderr
    compose = ssh_run(config, ip, "docker", "compose", "version")
    assert compose.returncode == 0 and "Docker Compose version" in compose.stdout, compose.stderr

    playbooks = AnsiblePlaybooks(deployer.layout.build_dir)
    assert playbooks.run(configured.context, "install-docker.yml") == 0
    assert playbooks.run(configured.context, "install-docker-compose.yml") == 0

    destroyed = deployer.destroy(configured)
    assert isinstance(destroyed.state, Destroyed)
    assert not lxd_client.instances.exists(provisioned.context.instance_name)
    assert not lxd_client.profiles.exists(provisioned.context.profile_name)
    assert stacks_in_backend(deployer, name) == []


def test_environment_goes_from_created_to_configured_and_is_destroyed_without_leftovers(
    deployer: Deployer, make_config: MakeConfig, lxd_client: Any
) -> None:
    _run_happy_path(deployer, make_config("e2e-happy"), lxd_client)


# Stands in for apt-get on the instance (sudo's secure_path puts /usr/local/sbin first): notes each call's
# arguments, then runs the real one.
_APT_GET_RECORDER = """#!/bin/sh
echo "$*" >> /var/tmp/apt-get-calls
exec /usr/bin/apt-get "$@"
"""


def _apt_vars() -> dict[str, Any]:
    """The playbooks' refresh settings (the stamp's path, the window in minutes)."""
    loaded: dict[str, Any] = yaml.safe_load((shipped_dir("playbooks") / "vars" / "apt.yml").read_text())
    return loaded


def _compose_install_refreshes(deployer: Deployer, config: EnvironmentConfig, ip: str, context: Any) -> int:
    """Remove docker-compose, run install-docker-compose.yml, and return how many `apt-get update` it ran."""
    remove = "sudo DEBIAN_FRONTEND=noninteractive apt-get remove -y -q docker-compose"
    removed = ssh_run(config, ip, f"{remove} && sudo rm -f /var/tmp/apt-get-calls")
    assert removed.returncode == 0, removed.stderr
    assert AnsiblePlaybooks(deployer.layout.build_dir).run(context, "install-docker-compose.yml") == 1
    assert ssh_run(config, ip, "docker", "compose", "version").returncode == 0
    calls = ssh_run(config, ip, "cat /var/tmp/apt-get-calls").stdout.splitlines()
    assert any("install" in call.split() for call in calls), calls
    return sum("update" in call.split() for call in calls)


def test_compose_install_reuses_the_lists_just_refreshed_though_the_mirror_dated_them_hours_ago(
    deployer: Deployer, make_config: MakeConfig
) -> None:
    # apt dates each list with the mirror's Last-Modified: on deb.debian.org that is hours before the fetch
    # (this lab's registry sends none, so the lists carry the fetch time). Lists so dated must not make the
    # step after install-docker refresh them again; a refresh older than the window must.
    config = make_config("e2e-lists")
    deployer.create(config)
    configured = deployer.configure(deployer.provision(config.name))
    ip = configured.instance_ip
    assert ip is not None
    recorder = ssh_run(
        config,
        ip,
        f"printf %s {shlex.quote(_APT_GET_RECORDER)} | sudo tee /usr/local/sbin/apt-get >/dev/null"
        " && sudo chmod 755 /usr/local/sbin/apt-get"
        " && sudo touch -d '-3 hours' /var/lib/apt/lists/*Release /var/lib/apt/lists/*_Packages",
    )
    assert recorder.returncode == 0, recorder.stderr

    assert _compose_install_refreshes(deployer, config, ip, configured.context) == 0

    settings = _apt_vars()
    older = f"-{2 * settings['apt_update_fresh_minutes']} minutes"
    stale = ssh_run(config, ip, f"sudo touch -d {shlex.quote(older)} {shlex.quote(settings['apt_update_stamp'])}")
    assert stale.returncode == 0, stale.stderr
    assert _compose_install_refreshes(deployer, config, ip, configured.context) == 1


def test_missing_image_fails_provision_at_the_up_step_with_a_trace_and_destroy_cleans_up(
    deployer: Deployer, make_config: MakeConfig, lxd_client: Any
) -> None:
    config = make_config("e2e-noimage", image_alias="no-such-image")
    deployer.create(config)
    with pytest.raises(ProvisionFailedError) as raised:
        deployer.provision(config.name)
    assert raised.value.failure.step is ProvisionStep.PULUMI_UP
    trace = raised.value.trace_path
    assert trace is not None and trace.exists()
    assert "no-such-image" in trace.read_text() or "not found" in trace.read_text().lower()
    stored = deployer.show(config.name)
    assert isinstance(stored.state, ProvisionFailed)

    assert isinstance(deployer.destroy(config.name).state, Destroyed)
    assert not lxd_client.instances.exists(f"torrust-{config.name}")
    assert not lxd_client.profiles.exists(f"torrust-{config.name}")


def test_key_that_does_not_match_fails_provision_at_the_ssh_step_and_destroy_cleans_up(
    tmp_path: Path, make_config: MakeConfig, lxd_client: Any, lab: Any
) -> None:
    other = make_keypair(tmp_path / "other_key")
    config = make_config("e2e-badkey", public_key=other.public_key_path)
    deployer = Deployer(working_dir=tmp_path / "work", ssh_timeout_s=20.0)
    deployer.create(config)
    with pytest.raises(ProvisionFailedError) as raised:
        deployer.provision(config.name)
    assert raised.value.failure.step is ProvisionStep.WAIT_SSH
    assert "Permission denied" in raised.value.failure.summary
    assert raised.value.trace_path is not None and raised.value.trace_path.exists()
    assert lxd_client.instances.exists(f"torrust-{config.name}")

    assert isinstance(deployer.destroy(config.name).state, Destroyed)
    assert not lxd_client.instances.exists(f"torrust-{config.name}")
