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
    #: The pool read: the settings' one, else the one the default profile's root disk is on, else ``default``.
    storage_pool: str | None = None
    #: That pool's config (``size``, ``source``…); empty when it is missing.
    storage_pool_config: dict[str, str] = field(default_factory=dict)
    #: The instances (names) the default profile applies to.
    default_profile_used_by: tuple[str, ...] = ()


def profile_root_pool(devices: dict[str, dict[str, str]] | None) -> str | None:
    """The pool of a profile's root disk (the disk mounted at ``/``), or ``None``."""
    for device in (devices or {}).values():
        if device.get("type") == "disk" and device.get("path") == "/" and device.get("pool"):
            return str(device["pool"])
    return None


def _last_segment(url: str) -> str:
    """``/1.0/instances/web?project=x`` -> ``web``."""
    return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


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
        profile = self._get(self.client.api.profiles["default"])
        devices = dict(profile.get("devices") or {}) if profile else None
        pool_name = settings.storage_pool or profile_root_pool(devices) or settings.pool
        pool = self._get(self.client.api["storage-pools"][pool_name])
        return LxdSnapshot(
            server_config={k: str(v) for k, v in (server.get("config") or {}).items()},
            network=network,
            storage_pool_driver=str(pool["driver"]) if pool else None,
            default_profile_devices=devices,
            storage_pool=pool_name,
            storage_pool_config={k: str(v) for k, v in (pool.get("config") or {}).items()} if pool else {},
            default_profile_used_by=tuple(_last_segment(url) for url in (profile or {}).get("used_by") or ()),
        )

    def instances_rooted_in_default_profile(self, names: tuple[str, ...]) -> list[str]:
        """Those of ``names`` whose root disk comes from the default profile (no root device of their own):
        LXD refuses to move them to another pool through the profile."""
        rooted: list[str] = []
        for name in names:
            meta = self._get(self.client.api.instances[name]) or {}
            own = meta.get("devices") or {}
            if not any(d.get("type") == "disk" and d.get("path") == "/" for d in own.values()):
                rooted.append(name)
        return rooted

    def image_volume_exists(self, pool: str, fingerprint: str) -> bool:
        """Whether ``pool`` holds the unpacked image (the volume copy-on-write drivers snapshot)."""
        return self._get(self.client.api["storage-pools"][pool].volumes.image[fingerprint]) is not None

    def create_stopped_instance(self, name: str, alias: str, pool: str) -> None:
        """Create (not start) a container from the image ``alias`` with its root disk on ``pool``."""
        self.client.instances.create(
            {
                "name": name,
                "type": "container",
                "source": {"type": "image", "alias": alias},
                "profiles": ["default"],
                "devices": {"root": {"type": "disk", "path": "/", "pool": pool}},
            },
            wait=True,
        )

    def delete_instance(self, name: str) -> None:
        response = self.client.api.instances[name].delete()
        self.client.operations.wait_for_operation(response.json()["operation"])

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
