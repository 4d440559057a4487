"""How the orchestrator reaches an environment's LXD API: the local socket, or an HTTPS remote whose
certificates are files named in the environment's config (`LxdConnection`), and what the `lxd` provider's
configuration is for it (`provider_config`: the files' PEM texts, so the stack's checkpoint is enough for
a refresh or destroy anywhere).

The client itself (certificate loading, the pinned server certificate) is the provider plugin's own
(`pulumi_lxd.plugin.client`): the inspector, the tests and the plugin connect the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi_lxd.plugin.client import interface_ipv4, open_client_from_files
from pulumi_lxd.plugin.client import wait_for_ipv4 as _wait_for_ipv4
from pulumi_lxd.plugin.rules import DEFAULT_IPV4_TIMEOUT_S

CONNECTION_KEYS = ("endpoint", "client_cert", "client_key", "server_cert")
DEFAULT_READY_TIMEOUT_S = DEFAULT_IPV4_TIMEOUT_S


@dataclass(frozen=True)
class LxdConnection:
    """How to reach the LXD API: the local socket (endpoint "") or an HTTPS remote (certificate files)."""

    endpoint: str = ""
    client_cert: str = ""
    client_key: str = ""
    server_cert: str = ""

    def as_props(self) -> dict[str, str]:
        return {key: getattr(self, key) for key in CONNECTION_KEYS}

    @classmethod
    def from_props(cls, props: dict[str, Any]) -> LxdConnection:
        return cls(**{key: str(props.get(key) or "") for key in CONNECTION_KEYS})


def provider_config(connection: LxdConnection) -> dict[str, str]:
    """The `lxd` provider's configuration (schema names): nothing for the local socket; for HTTPS the
    remote URL and the PEM texts of the certificate files (the client key is a secret: the SDK and the
    plugin mark it so, and the checkpoint holds it encrypted)."""
    if not connection.endpoint:
        return {}
    config = {"remote": connection.endpoint}
    for key, path in (
        ("clientCert", connection.client_cert),
        ("clientKey", connection.client_key),
        ("serverCert", connection.server_cert),
    ):
        if path:
            config[key] = Path(path).read_text(encoding="utf-8")
    return config


def connect(connection: LxdConnection) -> Any:
    """A pylxd client for the connection (pylxd is untyped)."""
    return open_client_from_files(
        connection.endpoint, connection.client_cert, connection.client_key, connection.server_cert
    )


def eth0_ipv4(instance: Any) -> str | None:
    """The global IPv4 of eth0 (docker0 and others are ignored), or None."""
    return interface_ipv4(instance, "eth0")


def wait_for_ipv4(instance: Any, timeout_s: float) -> str:
    return _wait_for_ipv4(instance, timeout_s, "eth0")
