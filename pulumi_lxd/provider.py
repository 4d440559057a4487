"""The `lxd` provider resource: where the LXD API is (local socket or an HTTPS remote)."""

from __future__ import annotations

import pulumi

from pulumi_lxd._naming import output, wire_props

PROPERTIES = ("remote", "socketPath", "clientCert", "clientKey", "serverCert")


class ProviderArgs:
    """The provider's configuration; every property optional (nothing set: the local unix socket)."""

    def __init__(
        self,
        *,
        remote: pulumi.Input[str] | None = None,
        socket_path: pulumi.Input[str] | None = None,
        client_cert: pulumi.Input[str] | None = None,
        client_key: pulumi.Input[str] | None = None,
        server_cert: pulumi.Input[str] | None = None,
    ) -> None:
        self.remote = remote
        """HTTPS URL of a remote LXD server (`https://HOST:8443`). Unset: the local unix socket."""
        self.socket_path = socket_path
        """Path of the local LXD unix socket. Unset: pylxd's default."""
        self.client_cert = client_cert
        """PEM client certificate the remote trusts."""
        self.client_key = client_key
        """PEM private key of the client certificate (always sent and stored as a secret)."""
        self.server_cert = server_cert
        """PEM certificate of the remote, pinned."""


class Provider(pulumi.ProviderResource):
    """An explicit `lxd` provider; pass it as `ResourceOptions(provider=…)` to instances and profiles."""

    remote: pulumi.Output[str]

    @property
    def socket_path(self) -> pulumi.Output[str]:
        return output(self, "socketPath")

    @property
    def client_cert(self) -> pulumi.Output[str]:
        return output(self, "clientCert")

    @property
    def client_key(self) -> pulumi.Output[str]:
        return output(self, "clientKey")

    @property
    def server_cert(self) -> pulumi.Output[str]:
        return output(self, "serverCert")

    def __init__(
        self, resource_name: str, args: ProviderArgs | None = None, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        given = args or ProviderArgs()
        values = dict(vars(given))
        if given.client_key is not None:
            values["client_key"] = pulumi.Output.secret(given.client_key)
        super().__init__("lxd", resource_name, wire_props(values, PROPERTIES), opts)
