"""`lxd:index:Profile`: an LXD profile (config keys and devices), identified by its name."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi

from pulumi_lxd._naming import wire_props

TYPE_TOKEN = "lxd:index:Profile"


class ProfileArgs:
    """The inputs of a `Profile`. Changing `name` replaces it; the rest is updated in place."""

    def __init__(
        self,
        *,
        name: pulumi.Input[str],
        description: pulumi.Input[str] | None = None,
        config: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None,
        devices: pulumi.Input[Mapping[str, pulumi.Input[Mapping[str, pulumi.Input[str]]]]] | None = None,
    ) -> None:
        self.name = name
        """The profile's name (its id)."""
        self.description = description
        """The profile's description."""
        self.config = config
        """Config keys (e.g. `security.nesting`)."""
        self.devices = devices
        """Devices by name, each a map of device keys."""


class Profile(pulumi.CustomResource):
    """An LXD profile."""

    name: pulumi.Output[str]
    description: pulumi.Output[str]
    config: pulumi.Output[dict[str, str]]
    devices: pulumi.Output[dict[str, dict[str, str]]]

    def __init__(self, resource_name: str, args: ProfileArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, resource_name, wire_props(vars(args)), opts)

    @staticmethod
    def get(resource_name: str, id: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None) -> Profile:
        """The existing profile `id` (its name), read from LXD."""
        profile = Profile.__new__(Profile)
        props = wire_props({}, ("name", "description", "config", "devices"))
        pulumi.CustomResource.__init__(
            profile, TYPE_TOKEN, resource_name, props, pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id))
        )
        return profile
