"""The environment's Pulumi program, run offline with `pulumi.runtime.set_mocks`."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
import yaml

from orchestrator.infrastructure.pulumi.lxd_connection import LxdConnection
from orchestrator.infrastructure.pulumi.spec import StackSpec
from orchestrator.infrastructure.pulumi.stacks import load_environment_program
from stacks.environment import environment_program


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: dict[str, dict[str, Any]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources[args.name] = dict(args.inputs)
        outputs = dict(args.inputs)
        if args.name == "instance":
            outputs["ipv4"] = "10.200.77.42"
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        return {}, []


def _spec(instance_type: str = "container") -> StackSpec:
    return StackSpec(
        environment="demo",
        instance_name="torrust-demo",
        profile_name="torrust-demo",
        image_alias="torrust-trixie",
        instance_type=instance_type,
        network="lxdbr0",
        storage_pool="default",
        ssh_username="torrust",
        ssh_public_key="ssh-ed25519 AAAAC3Nza test@example",
        connection=LxdConnection(),
    )


@pytest.fixture
def mocks() -> RecordingMocks:
    recording = RecordingMocks()
    pulumi.runtime.set_mocks(recording, preview=False)
    return recording


@pulumi.runtime.test  # type: ignore[untyped-decorator]
def test_program_declares_a_nesting_profile_and_an_instance_with_cloud_init(mocks: RecordingMocks) -> Any:
    profile, instance = environment_program(_spec())

    def check(_: Any) -> None:
        profile, instance = mocks.resources["profile"], mocks.resources["instance"]
        assert profile["name"] == "torrust-demo"
        assert profile["config"] == {"security.nesting": "true"}
        assert profile["devices"]["eth0"] == {"type": "nic", "name": "eth0", "network": "lxdbr0"}
        assert profile["devices"]["root"]["pool"] == "default"
        assert instance["name"] == "torrust-demo"
        assert instance["image"] == "torrust-trixie"
        assert instance["type"] == "container"
        user_data = instance["config"]["user.user-data"]
        assert user_data.startswith("#cloud-config\n")
        user = yaml.safe_load(user_data)["users"][0]
        assert user["name"] == "torrust"
        assert user["sudo"] == "ALL=(ALL) NOPASSWD:ALL"
        assert user["ssh_authorized_keys"] == ["ssh-ed25519 AAAAC3Nza test@example"]

    return pulumi.Output.all(profile.urn, instance.urn).apply(check)


@pulumi.runtime.test  # type: ignore[untyped-decorator]
def test_virtual_machine_profile_does_not_set_container_nesting(mocks: RecordingMocks) -> Any:
    profile, instance = environment_program(_spec("virtual-machine"))

    def check(_: Any) -> None:
        assert mocks.resources["profile"]["config"] == {}
        assert mocks.resources["instance"]["type"] == "virtual-machine"

    return pulumi.Output.all(profile.urn, instance.urn).apply(check)


def test_orchestrator_loads_the_shipped_program() -> None:
    assert getattr(load_environment_program(), "__name__", "") == "environment_program"
