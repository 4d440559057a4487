"""The Pulumi program of one environment: an LXD profile and an instance configured by cloud-init, through
the `pulumi-lxd` provider (`pulumi_lxd`, served by the `pulumi-resource-lxd` plugin).

Exports `instance_name` and `ipv4`. Loaded by the orchestrator as an inline Automation API program.
`adoption_program` is the program of `register --lxd-instance`: it imports an existing instance as it is.
"""

from __future__ import annotations

import pulumi
import yaml

import pulumi_lxd as lxd
from orchestrator.infrastructure.pulumi.lxd_connection import provider_config
from orchestrator.infrastructure.pulumi.spec import StackSpec

ADOPTED_AS_IS = ["profiles", "config", "devices"]
"""What an imported instance keeps as it is (the next provision converges it in place)."""


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


def provider(spec: StackSpec) -> lxd.Provider:
    """The explicit `lxd` provider of the environment's LXD target (its URN is `…::pulumi:providers:lxd::lxd`)."""
    config = provider_config(spec.connection)
    args = lxd.ProviderArgs(
        remote=config.get("remote"),
        client_cert=config.get("clientCert"),
        client_key=config.get("clientKey"),
        server_cert=config.get("serverCert"),
    )
    return lxd.Provider("lxd", args)


def _export(instance: lxd.Instance) -> None:
    pulumi.export("instance_name", instance.name)
    pulumi.export("ipv4", instance.ipv4)


def environment_program(spec: StackSpec) -> tuple[lxd.Profile, lxd.Instance]:
    target = provider(spec)
    profile = lxd.Profile(
        "profile",
        lxd.ProfileArgs(name=spec.profile_name, config=profile_config(spec), devices=profile_devices(spec)),
        opts=pulumi.ResourceOptions(provider=target),
    )
    instance = lxd.Instance(
        "instance",
        lxd.InstanceArgs(
            name=spec.instance_name,
            image=spec.image_alias,
            type=spec.instance_type,
            profiles=[profile.name],
            config={"user.user-data": cloud_init_user_data(spec)},
            ipv4_timeout_seconds=spec.ready_timeout_s,
        ),
        opts=pulumi.ResourceOptions(provider=target, depends_on=[profile]),
    )
    _export(instance)
    return profile, instance


def adoption_program(spec: StackSpec) -> lxd.Instance:
    """Import the existing instance `spec.instance_name` into the stack, changing nothing on it.

    Its name, image and type must be the environment's (the import fails otherwise: those would replace
    it); its profiles, config and devices are taken as they are."""
    instance = lxd.Instance(
        "instance",
        lxd.InstanceArgs(name=spec.instance_name, image=spec.image_alias, type=spec.instance_type),
        opts=pulumi.ResourceOptions(provider=provider(spec), import_=spec.instance_name, ignore_changes=ADOPTED_AS_IS),
    )
    _export(instance)
    return instance
