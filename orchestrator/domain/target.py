"""Where and how the LXD instance of an environment is created."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from orchestrator.domain.errors import InvalidLxdTargetError

InstanceType = Literal["container", "virtual-machine"]


@dataclass(frozen=True, slots=True)
class LxdTarget:
    """LXD endpoint (None = local unix socket), TLS files, image, instance type, profile, network, pool."""

    endpoint: str | None = None
    client_cert_path: Path | None = None
    client_key_path: Path | None = None
    server_cert_path: Path | None = None
    image_alias: str = "torrust-trixie"
    instance_type: InstanceType = "container"
    profile_name: str | None = None
    network: str = "lxdbr0"
    storage_pool: str = "default"

    def __post_init__(self) -> None:
        if self.endpoint is not None and not self.endpoint.startswith("https://"):
            raise InvalidLxdTargetError(
                f"invalid LXD endpoint {self.endpoint!r}",
                "use `https://HOST:8443` for a remote LXD, or no endpoint for the local unix socket",
            )
        if (self.client_cert_path is None) != (self.client_key_path is None):
            raise InvalidLxdTargetError(
                "an LXD client certificate needs its key and the other way round",
                "give both the client certificate and the client key, or neither",
            )
        if self.instance_type not in ("container", "virtual-machine"):
            raise InvalidLxdTargetError(
                f"invalid LXD instance type {self.instance_type!r}", "use `container` or `virtual-machine`"
            )
        for field in ("image_alias", "network", "storage_pool"):
            if not getattr(self, field):
                raise InvalidLxdTargetError(f"LXD {field} is empty", f"give a {field.replace('_', ' ')}")
        if self.profile_name == "":
            raise InvalidLxdTargetError("LXD profile name is empty", "leave it unset for `torrust-ENV`")
        for field in ("client_cert_path", "client_key_path", "server_cert_path"):
            value = getattr(self, field)
            if value is not None:
                object.__setattr__(self, field, Path(value))
