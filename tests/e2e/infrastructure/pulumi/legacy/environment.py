"""(Frozen copy, see the package docstring.) The Pulumi program of one environment: an LXD profile and an
instance configured by cloud-init.

Exports `instance_name` and `ipv4`. Loaded by the orchestrator as an inline Automation API program.
"""

from __future__ import annotations

import pulumi
import yaml

from orchestrator.infrastructure.pulumi.spec import StackSpec
from tests.e2e.infrastructure.pulumi.legacy.lxd_provider import LxdConnection, LxdInstance, LxdProfile


def cloud_init_user_data(spec: StackSpec) -> str:
    """cloud-config creating the SSH user with the environment's public key and passwordless sudo."""
    document = {
        "users": [
            {
                "name": spec.ssh_username,
                "shell": "/bin/bash",
                "sudo": "ALL=(ALL) NOPASSWD:ALL",
                "lock_passwd": True,
                "ssh_authorized_keys": [spec.ssh_public_key],
            }
        ],
        "ssh_pwauth": False,
    }
    return "#cloud-config\n" + yaml.safe_dump(document, sort_keys=False)


def profile_config(spec: StackSpec) -> dict[str, str]:
    if spec.instance_type == "container":
        return {"security.nesting": "true"}
    return {}


def profile_devices(spec: StackSpec) -> dict[str, dict[str, str]]:
    return {
        "root": {"type": "disk", "path": "/", "pool": spec.storage_pool},
        "eth0": {"type": "nic", "name": "eth0", "network": spec.network},
    }


def environment_program(spec: StackSpec) -> tuple[LxdProfile, LxdInstance]:
    connection = LxdConnection(**spec.connection.as_props())
    profile = LxdProfile(
        "profile",
        name=spec.profile_name,
        config=profile_config(spec),
        devices=profile_devices(spec),
        connection=connection,
    )
    instance = LxdInstance(
        "instance",
        name=spec.instance_name,
        image_alias=spec.image_alias,
        instance_type=spec.instance_type,
        profiles=[profile.name],
        config={"user.user-data": cloud_init_user_data(spec)},
        connection=connection,
        ready_timeout_s=spec.ready_timeout_s,
        opts=pulumi.ResourceOptions(depends_on=[profile]),
    )
    pulumi.export("instance_name", instance.name)
    pulumi.export("ipv4", instance.ipv4)
    return profile, instance
