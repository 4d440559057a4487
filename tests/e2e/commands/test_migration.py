"""An environment provisioned by the old LXD dynamic provider (made here with the old code: the frozen
program and provider in `tests/e2e/infrastructure/pulumi/legacy`) keeps working after the move to
`pulumi-lxd`: its next `provision` migrates the stack without recreating the instance (same instance, same
address), and `destroy` of one not migrated yet deletes it through the plugin."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orchestrator.api import Deployer
from orchestrator.domain import Destroyed, Provisioned
from orchestrator.infrastructure.pulumi import stacks
from tests.e2e.infrastructure.pulumi.legacy import environment as legacy
from tests.support.e2e import MakeConfig, ssh_run

pytestmark = pytest.mark.e2e
CHECKOUT = Path(__file__).resolve().parents[3]


def _checkpoint(deployer: Deployer, name: str) -> dict[str, Any]:
    path = deployer.layout.pulumi_backend_dir(name) / ".pulumi" / "stacks" / "torrust-deploy" / f"{name}.json"
    latest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))["checkpoint"]["latest"]
    return latest


def _types(deployment: dict[str, Any]) -> list[str]:
    return [str(item["type"]) for item in deployment["resources"]]


def _uuid(instance: str) -> str:
    return subprocess.run(
        ["lxc", "config", "get", instance, "volatile.uuid"], capture_output=True, text=True, check=True
    ).stdout.strip()


def _provision_with_the_old_code(deployer: Deployer, name: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """`provision` as the dynamic provider did it: the old program; its pickled providers load from `tests`."""

    def old(program: str = "environment_program") -> Callable[..., object]:
        return legacy.environment_program

    with monkeypatch.context() as patched:
        patched.setattr(stacks, "load_environment_program", old)
        patched.setenv("PYTHONPATH", str(CHECKOUT))
        provisioned = deployer.provision(name)
    assert _types(_checkpoint(deployer, name)) == [
        "pulumi:pulumi:Stack",
        "pulumi:providers:pulumi-python",
        "pulumi-python:dynamic:Resource",
        "pulumi-python:dynamic:Resource",
    ]
    return provisioned


def test_the_next_provision_moves_an_old_stack_to_the_plugin_keeping_the_instance_and_its_address(
    deployer: Deployer, make_config: MakeConfig, lxd_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config("e2e-migrate")
    deployer.create(config)
    old = _provision_with_the_old_code(deployer, config.name, monkeypatch)
    instance, ip_before = old.context.instance_name, old.instance_ip
    uuid_before = _uuid(instance)
    print(f"before: {instance} {ip_before} {uuid_before}")

    migrated = deployer.provision(config.name)

    assert isinstance(migrated.state, Provisioned)
    print(f"after: {instance} {migrated.instance_ip} {_uuid(instance)}")
    assert migrated.instance_ip == ip_before
    assert _uuid(instance) == uuid_before, "the same instance, not a new one"
    checkpoint = _checkpoint(deployer, config.name)
    assert _types(checkpoint) == [
        "pulumi:pulumi:Stack",
        "pulumi:providers:lxd",
        "lxd:index:Profile",
        "lxd:index:Instance",
    ]
    assert "__provider" not in json.dumps(checkpoint)
    assert ssh_run(config, ip_before or "", "true").returncode == 0

    assert isinstance(deployer.destroy(config.name).state, Destroyed)
    assert not lxd_client.instances.exists(instance)
    assert not lxd_client.profiles.exists(old.context.profile_name)


def test_destroy_of_an_environment_still_on_the_dynamic_provider_deletes_its_instance(
    deployer: Deployer, make_config: MakeConfig, lxd_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config("e2e-olddestroy")
    deployer.create(config)
    old = _provision_with_the_old_code(deployer, config.name, monkeypatch)
    assert lxd_client.instances.exists(old.context.instance_name)

    assert isinstance(deployer.destroy(config.name).state, Destroyed)  # no PYTHONPATH: nothing is unpickled

    assert not lxd_client.instances.exists(old.context.instance_name)
    assert not lxd_client.profiles.exists(old.context.profile_name)
