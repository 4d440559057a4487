"""What ``lab status`` reports: packages, daemons, bridge, storage pool and image, each against the
settings, read without changing anything; for a ``dir`` pool where btrfs is available, how to switch."""

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
from orchestrator.lab.storage import BTRFS_PACKAGES, COPY_ON_WRITE_DRIVERS, kernel_has_btrfs, resolved, switch_hint


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
    #: The btrfs pool's loop file size (``None``: not a loop-backed pool, or no pool).
    storage_pool_size: str | None = None
    #: Whether the image is unpacked on a copy-on-write pool (``None``: the pool copies images, or unknown).
    image_on_pool: bool | None = None
    #: Whether the kernel has btrfs (a copy-on-write pool is possible).
    btrfs_available: bool = False

    @property
    def ready(self) -> bool:
        return not self.problems

    @property
    def bridge(self) -> str:
        return self.settings.bridge

    @property
    def storage_pool(self) -> str:
        return self.settings.pool

    @property
    def copy_on_write(self) -> bool:
        """Whether instances start as snapshots of the image (a btrfs, zfs or lvm pool)."""
        return self.storage_pool_driver in COPY_ON_WRITE_DRIVERS

    @property
    def storage_hint(self) -> str | None:
        """How to switch a dir pool to copy-on-write, when the kernel allows it."""
        return switch_hint(self.storage_pool_driver, self.btrfs_available, self.storage_pool)

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
            "storage_pool": {
                "name": self.storage_pool,
                "driver": self.storage_pool_driver,
                "size": self.storage_pool_size,
                "copy_on_write": self.copy_on_write,
                "image_on_pool": self.image_on_pool,
                "btrfs_available": self.btrfs_available,
                "hint": self.storage_hint,
            },
            "image": {
                "alias": self.image_alias,
                "fingerprint": self.image_fingerprint,
                "cached_tarball": str(self.cached_image) if self.cached_image else None,
                "cached_fingerprint": self.cached_fingerprint,
            },
        }


def read_status(settings: LabSettings, daemons: Daemons, recipe: ImageRecipe, btrfs: bool | None = None) -> LabStatus:
    """What is in place now. Changes nothing; works without root (then the daemon looks absent).
    ``btrfs``: whether the kernel has btrfs (read from /proc/filesystems when None)."""
    s = settings
    btrfs_available = kernel_has_btrfs() if btrfs is None else btrfs
    problems: list[str] = []
    lxcfs = daemons.status("lxcfs", running=is_lxcfs_mounted())
    if not lxcfs.running:
        problems.append(f"lxcfs is not mounted on {LXCFS_DIR}")
    lxd = daemons.status("lxd", running=lxd_answers(s.socket_path))
    cached = lookup_cached(recipe, s.cache_dir)
    snapshot: LxdSnapshot | None = None
    alias_target: str | None = None
    image_on_pool: bool | None = None
    if cached is None:
        problems.append("no image built from the current recipe in the cache")
    if lxd.running:
        try:
            api = LxdApi(s.socket_path)
            snapshot = api.snapshot(s)
            s = resolved(s, snapshot)
            alias_target = api.alias_target(s.image_alias)
            if alias_target is not None and snapshot.storage_pool_driver in COPY_ON_WRITE_DRIVERS:
                image_on_pool = api.image_volume_exists(s.pool, alias_target)
        except DaemonNotRunningError:
            lxd = DaemonStatus("lxd", running=False)
    pool_tools = BTRFS_PACKAGES if snapshot is not None and snapshot.storage_pool_driver == "btrfs" else ()
    missing = tuple(missing_packages(REQUIRED_PACKAGES + pool_tools))
    if missing:
        problems.insert(0, f"Debian packages missing: {' '.join(missing)}")
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
        storage_pool_size=snapshot.storage_pool_config.get("size") if snapshot else None,
        image_on_pool=image_on_pool,
        btrfs_available=btrfs_available,
    )
