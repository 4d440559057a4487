"""`lxd:index:Instance`: an LXD container or virtual machine, running, with its IPv4 address."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi

from pulumi_lxd._naming import output, wire_props

TYPE_TOKEN = "lxd:index:Instance"
OUTPUTS = ("ipv4", "status", "imageFingerprint")
"""The properties that are outputs only."""


class InstanceArgs:
    """The inputs of an `Instance`. Changing `name`, `image` or `type` replaces it; the rest is updated in
    place. Defaults (applied by the provider): type `container`, profiles `["default"]`, no config or
    devices, wait up to 180 s for an IPv4 address on `eth0`."""

    def __init__(
        self,
        *,
        name: pulumi.Input[str],
        image: pulumi.Input[str],
        type: pulumi.Input[str] | None = None,
        profiles: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None,
        config: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None,
        devices: pulumi.Input[Mapping[str, pulumi.Input[Mapping[str, pulumi.Input[str]]]]] | None = None,
        wait_for_ipv4: pulumi.Input[bool] | None = None,
        ipv4_interface: pulumi.Input[str] | None = None,
        ipv4_timeout_seconds: pulumi.Input[float] | None = None,
    ) -> None:
        self.name = name
        """The instance's name (its id)."""
        self.image = image
        """Alias or fingerprint of an image on the server."""
        self.type = type
        """`container` or `virtual-machine`."""
        self.profiles = profiles
        """Profiles applied in order."""
        self.config = config
        """Instance config keys (e.g. `user.user-data`); only these keys are managed."""
        self.devices = devices
        """Instance-local devices by name; only these devices are managed."""
        self.wait_for_ipv4 = wait_for_ipv4
        """Wait after start until `ipv4_interface` has a global IPv4 address."""
        self.ipv4_interface = ipv4_interface
        """The interface whose address is `ipv4`."""
        self.ipv4_timeout_seconds = ipv4_timeout_seconds
        """How long to wait for the IPv4 address."""


class Instance(pulumi.CustomResource):
    """An LXD instance started from an image on the server."""

    name: pulumi.Output[str]
    image: pulumi.Output[str]
    type: pulumi.Output[str]
    profiles: pulumi.Output[list[str]]
    config: pulumi.Output[dict[str, str]]
    devices: pulumi.Output[dict[str, dict[str, str]]]
    ipv4: pulumi.Output[str]
    """The global IPv4 address of `ipv4_interface` (empty while it has none)."""
    status: pulumi.Output[str]
    """The LXD status (`Running`, `Stopped`, …)."""

    @property
    def wait_for_ipv4(self) -> pulumi.Output[bool]:
        return output(self, "waitForIpv4")

    @property
    def ipv4_interface(self) -> pulumi.Output[str]:
        return output(self, "ipv4Interface")

    @property
    def ipv4_timeout_seconds(self) -> pulumi.Output[float]:
        return output(self, "ipv4TimeoutSeconds")

    @property
    def image_fingerprint(self) -> pulumi.Output[str]:
        """Fingerprint of the image the instance was created from."""
        return output(self, "imageFingerprint")

    def __init__(self, resource_name: str, args: InstanceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, resource_name, wire_props(vars(args), OUTPUTS), opts)

    @staticmethod
    def get(resource_name: str, id: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None) -> Instance:
        """The existing instance `id` (its name), read from LXD."""
        instance = Instance.__new__(Instance)
        every = (
            "name", "image", "type", "profiles", "config", "devices", "waitForIpv4", "ipv4Interface",
            "ipv4TimeoutSeconds", *OUTPUTS,
        )  # fmt: skip
        pulumi.CustomResource.__init__(
            instance,
            TYPE_TOKEN,
            resource_name,
            wire_props({}, every),
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id)),
        )
        return instance
