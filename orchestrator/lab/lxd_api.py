"""The LXD API as the lab uses it: whether a daemon answers on its unix socket, and the few calls the
lab makes over pylxd (imported lazily): the snapshot of what the preseed sets, the image alias, and
importing / deleting an image."""

from __future__ import annotations

import http.client
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.lab.errors import DaemonNotRunningError
from orchestrator.lab.settings import LabSettings


@dataclass(frozen=True)
class LxdSnapshot:
    """What the daemon has now, as far as the preseed is concerned."""

    server_config: dict[str, str] = field(default_factory=dict)
    #: ``None`` when there is no network of that name; else ``{"type":…, "managed":…, "config":{…}}``.
    network: dict[str, Any] | None = None
    storage_pool_driver: str | None = None
    #: ``None`` when the default profile is missing.
    default_profile_devices: dict[str, dict[str, str]] | None = None


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("lxd", timeout=timeout)
        self._path = str(path)

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


def lxd_answers(socket_path: Path, timeout: float = 3.0) -> bool:
    """Whether an LXD daemon answers ``GET /1.0`` on its unix socket."""
    if not socket_path.exists():
        return False
    conn = _UnixHTTPConnection(socket_path, timeout)
    try:
        conn.request("GET", "/1.0")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


class LxdApi:
    """The few LXD API calls the lab makes (pylxd, imported lazily)."""

    def __init__(self, socket_path: Path) -> None:
        import pylxd

        self.exceptions = pylxd.exceptions
        try:
            self.client = pylxd.Client(endpoint=str(socket_path))
        except pylxd.exceptions.ClientConnectionFailed as exc:
            raise DaemonNotRunningError(f"cannot talk to LXD at {socket_path}: {exc}") from exc

    @property
    def errors(self) -> tuple[type[BaseException], ...]:
        return (self.exceptions.LXDAPIException, OSError)

    def _get(self, node: Any) -> dict[str, Any] | None:
        try:
            metadata: dict[str, Any] = node.get().json()["metadata"]
        except self.exceptions.NotFound:
            return None
        return metadata

    def snapshot(self, settings: LabSettings) -> LxdSnapshot:
        server = self._get(self.client.api) or {}
        network = self._get(self.client.api.networks[settings.bridge])
        pool = self._get(self.client.api["storage-pools"][settings.storage_pool])
        profile = self._get(self.client.api.profiles["default"])
        return LxdSnapshot(
            server_config={k: str(v) for k, v in (server.get("config") or {}).items()},
            network=network,
            storage_pool_driver=str(pool["driver"]) if pool else None,
            default_profile_devices=dict(profile.get("devices") or {}) if profile else None,
        )

    def alias_target(self, alias: str) -> str | None:
        meta = self._get(self.client.api.images.aliases[alias])
        return str(meta["target"]) if meta else None

    def image(self, fingerprint: str) -> dict[str, Any] | None:
        return self._get(self.client.api.images[fingerprint])

    def import_image(self, tarball: Path) -> str:
        with tarball.open("rb") as data:
            response = self.client.api.images.post(data=data)
        operation = self.client.operations.wait_for_operation(response.json()["operation"])
        return str(operation.metadata["fingerprint"])

    def point_alias(self, alias: str, fingerprint: str, exists: bool) -> None:
        description = "torrust-deploy lab base image"
        if exists:
            self.client.api.images.aliases[alias].put(json={"target": fingerprint, "description": description})
        else:
            self.client.api.images.aliases.post(json={"name": alias, "target": fingerprint, "description": description})

    def delete_image(self, fingerprint: str) -> None:
        response = self.client.api.images[fingerprint].delete()
        self.client.operations.wait_for_operation(response.json()["operation"])
