"""What ``lab status`` reports: packages, daemons, bridge, storage pool and image, each against the
settings, read without changing anything."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from orchestrator.infrastructure.debian_packages import missing_packages
from orchestrator.lab.daemons import Daemons, DaemonStatus, is_lxcfs_mounted
from orchestrator.lab.errors import DaemonNotRunningError
from orchestrator.lab.image import ImageRecipe, lookup_cached
from orchestrator.lab.lxd_api import LxdApi, LxdSnapshot, lxd_answers
from orchestrator.lab.packages import REQUIRED_PACKAGES
from orchestrator.lab.preseed import needed_changes, parse_ipv4_address
from orchestrator.lab.settings import LXCFS_DIR, LabSettings


@dataclass(frozen=True)
class LabStatus:
    """Everything ``lab status`` reports. Equal values mean an unchanged lab."""

    settings: LabSettings
    missing_packages: tuple[str, ...]
    lxcfs: DaemonStatus
    lxd: DaemonStatus
    bridge_exists: bool
    bridge_ipv4_address: str | None
    storage_pool_driver: str | None
    image_fingerprint: str | None
    cached_image: Path | None
    cached_fingerprint: str | None
    #: What is not in place, in words; empty when the lab is ready.
    problems: tuple[str, ...] = ()

    @property
    def ready(self) -> bool:
        return not self.problems

    @property
    def bridge(self) -> str:
        return self.settings.bridge

    @property
    def storage_pool(self) -> str:
        return self.settings.storage_pool

    @property
    def image_alias(self) -> str:
        return self.settings.image_alias

    @property
    def subnet(self) -> str:
        return str(parse_ipv4_address(self.settings.ipv4_address).network)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready document (paths as strings)."""
        return {
            "ready": self.ready,
            "problems": list(self.problems),
            "settings": {k: str(v) for k, v in asdict(self.settings).items()},
            "packages": {"required": list(REQUIRED_PACKAGES), "missing": list(self.missing_packages)},
            "daemons": {
                "lxcfs": asdict(self.lxcfs),
                "lxd": asdict(self.lxd),
            },
            "bridge": {
                "name": self.bridge,
                "exists": self.bridge_exists,
                "ipv4_address": self.bridge_ipv4_address,
            },
            "storage_pool": {"name": self.storage_pool, "driver": self.storage_pool_driver},
            "image": {
                "alias": self.image_alias,
                "fingerprint": self.image_fingerprint,
                "cached_tarball": str(self.cached_image) if self.cached_image else None,
                "cached_fingerprint": self.cached_fingerprint,
            },
        }


def read_status(settings: LabSettings, daemons: Daemons, recipe: ImageRecipe) -> LabStatus:
    """What is in place now. Changes nothing; works without root (then the daemon looks absent)."""
    s = settings
    problems: list[str] = []
    missing = tuple(missing_packages(REQUIRED_PACKAGES))
    if missing:
        problems.append(f"Debian packages missing: {' '.join(missing)}")
    lxcfs = daemons.status("lxcfs", running=is_lxcfs_mounted())
    if not lxcfs.running:
        problems.append(f"lxcfs is not mounted on {LXCFS_DIR}")
    lxd = daemons.status("lxd", running=lxd_answers(s.socket_path))
    cached = lookup_cached(recipe, s.cache_dir)
    snapshot: LxdSnapshot | None = None
    alias_target: str | None = None
    if cached is None:
        problems.append("no image built from the current recipe in the cache")
    if lxd.running:
        try:
            api = LxdApi(s.socket_path)
            snapshot = api.snapshot(s)
            alias_target = api.alias_target(s.image_alias)
        except DaemonNotRunningError:
            lxd = DaemonStatus("lxd", running=False)
    if not lxd.running or snapshot is None:
        problems.append(f"the LXD daemon does not answer on {s.socket_path}")
    else:
        problems.extend(needed_changes(snapshot, s))
        if alias_target is None:
            problems.append(f"image alias {s.image_alias} does not exist")
        elif cached is not None and alias_target != cached.fingerprint:
            problems.append(f"image alias {s.image_alias} points at an image of another recipe")
    network = snapshot.network if snapshot else None
    return LabStatus(
        settings=s,
        missing_packages=missing,
        lxcfs=lxcfs,
        lxd=lxd,
        bridge_exists=network is not None,
        bridge_ipv4_address=str((network.get("config") or {}).get("ipv4.address")) if network else None,
        storage_pool_driver=snapshot.storage_pool_driver if snapshot else None,
        image_fingerprint=alias_target,
        cached_image=cached.path if cached else None,
        cached_fingerprint=cached.fingerprint if cached else None,
        problems=tuple(problems),
    )
