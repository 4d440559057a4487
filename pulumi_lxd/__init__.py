"""pulumi-lxd: LXD instances and profiles for Pulumi, shipped by torrust-deploy.

    import pulumi
    import pulumi_lxd as lxd

    provider = lxd.Provider("lxd")  # the local unix socket; or lxd.ProviderArgs(remote="https://…", …)
    profile = lxd.Profile("web", lxd.ProfileArgs(name="web", config={"security.nesting": "true"}),
                          opts=pulumi.ResourceOptions(provider=provider))
    box = lxd.Instance("box", lxd.InstanceArgs(name="box", image="torrust-trixie", profiles=[profile.name]),
                       opts=pulumi.ResourceOptions(provider=provider))
    pulumi.export("ipv4", box.ipv4)

The resources are served by the provider plugin `pulumi-resource-lxd` (this distribution's console
script, `pulumi_lxd.plugin`), which the engine starts itself: it must be on PATH or named in the project's
`plugins.providers`. The schema (`schema.json`, also `pulumi package get-schema pulumi-resource-lxd`) is
the contract this SDK is written against; `tests/unit/pulumi_lxd` checks that the two agree.
"""

import os

# Before the Pulumi SDK (and with it gRPC) is imported: gRPC's fork handlers can kill a child this process
# forks to exec another program (ansible-runner's ansible-playbook) — see orchestrator/infrastructure/pulumi.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pulumi_lxd.instance import Instance, InstanceArgs
    from pulumi_lxd.profile import Profile, ProfileArgs
    from pulumi_lxd.provider import Provider, ProviderArgs

PLUGIN_EXECUTABLE = "pulumi-resource-lxd"
"""The name the engine looks for (`pulumi-resource-<package>`)."""

__all__ = ["PLUGIN_EXECUTABLE", "Instance", "InstanceArgs", "Profile", "ProfileArgs", "Provider", "ProviderArgs"]

_MODULE_OF = {
    "Instance": "instance",
    "InstanceArgs": "instance",
    "Profile": "profile",
    "ProfileArgs": "profile",
    "Provider": "provider",
    "ProviderArgs": "provider",
}


def __getattr__(name: str) -> Any:
    """The SDK's classes, imported on first use: the plugin (`pulumi_lxd.plugin`) serves the engine
    without the Pulumi SDK, whose import costs more than the plugin's whole start (see plugin.proto)."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'pulumi_lxd' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"pulumi_lxd.{module}"), name)
    globals()[name] = value
    return value
