"""The lab's storage pool: which driver a new pool gets, what an existing one is, how to switch, and the
image unpacked onto it once.

A pool the lab creates is btrfs where the kernel has btrfs (``/proc/filesystems``): a loop file of
``storage_size`` under the daemon's ``disks/``, on which LXD unpacks an image once into an image volume and
makes every instance a snapshot of it (about 0.2 s instead of copying the whole image, which the ``dir``
driver does for every instance). Elsewhere it is ``dir``. An existing pool keeps its driver: a pool's driver
cannot change, so switching means a new pool beside it (``lab up --storage-pool NAME``), which the default
profile then points at; instances on the old pool keep running from it.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from orchestrator.lab.errors import InvalidSettingsError, LxdConfigurationError
from orchestrator.lab.lxd_api import LxdApi, LxdSnapshot
from orchestrator.lab.settings import DEFAULT_STORAGE_POOL, LabSettings

PROC_FILESYSTEMS = Path("/proc/filesystems")
#: Drivers whose instances are snapshots of an image volume (the others copy the image every time).
COPY_ON_WRITE_DRIVERS = frozenset({"btrfs", "zfs", "lvm"})
#: Debian's tools for a btrfs pool (the daemon runs ``btrfs subvolume …``).
BTRFS_PACKAGES: tuple[str, ...] = ("btrfs-progs",)
#: The name ``lab status`` suggests for a btrfs pool beside an existing ``dir`` one.
SUGGESTED_BTRFS_POOL = "lab-btrfs"
WARM_INSTANCE_PREFIX = "lab-image-volume-"


def kernel_has_btrfs(filesystems: Path = PROC_FILESYSTEMS) -> bool:
    """Whether the running kernel can mount btrfs (built in, or a module already loaded)."""
    try:
        lines = filesystems.read_text(encoding="utf-8").splitlines()
    except OSError:
        return False
    return any(line.split()[-1:] == ["btrfs"] for line in lines)


def new_pool_driver(settings: LabSettings, btrfs: bool) -> str:
    """The driver of a pool the lab creates (``btrfs`` only where the kernel has it)."""
    if settings.storage_driver == "btrfs" and not btrfs:
        raise InvalidSettingsError(
            "the kernel has no btrfs (not in /proc/filesystems): a btrfs storage pool cannot be created",
            tip="Use `--storage-driver dir` (or `auto`, which picks dir here).",
        )
    if settings.storage_driver == "dir":
        return "dir"
    return "btrfs" if btrfs else "dir"


def pool_config(driver: str, settings: LabSettings) -> dict[str, str]:
    """The config of a new pool: a btrfs pool's loop file size; nothing for dir (a folder of the daemon's)."""
    return {"size": settings.storage_size} if driver == "btrfs" else {}


def packages_for(settings: LabSettings, btrfs: bool) -> tuple[str, ...]:
    """What ``lab up`` installs for the pool: btrfs-progs unless the lab is told to use dir."""
    return BTRFS_PACKAGES if btrfs and settings.storage_driver != "dir" else ()


def resolved(settings: LabSettings, snapshot: LxdSnapshot) -> LabSettings:
    """The settings with the pool named: the one given, else the one the snapshot read (the pool the default
    profile's root disk is on), else ``default``."""
    return replace(settings, storage_pool=settings.storage_pool or snapshot.storage_pool or settings.pool)


def driver_problem(snapshot: LxdSnapshot, settings: LabSettings) -> LxdConfigurationError | None:
    """An existing pool whose driver is not the one asked for explicitly (a driver cannot change)."""
    have, wanted = snapshot.storage_pool_driver, settings.storage_driver
    if have is None or wanted in ("auto", have):
        return None
    other = SUGGESTED_BTRFS_POOL if wanted == "btrfs" else "lab-dir"
    return LxdConfigurationError(
        f"storage pool {settings.pool} exists with driver {have}, not {wanted}: a pool's driver cannot change",
        tip=(
            f"Create a {wanted} pool beside it: `torrust-deploy lab up --storage-pool {other} --storage-driver "
            f"{wanted}` (instances on {settings.pool} keep working), or drop --storage-driver to keep {have}."
        ),
    )


def switch_hint(driver: str | None, btrfs: bool, pool: str) -> str | None:
    """How to move a lab on a dir pool to copy-on-write, when the kernel allows it; for a pool not named
    ``default``, that environments reach it by naming it (their config's default pool is ``default``)."""
    if driver is not None and pool != DEFAULT_STORAGE_POOL:
        return (
            f"environments launch on pool {pool} when their config names it "
            f'(`"lxd": {{"storage_pool": "{pool}"}}`); without it, on pool {DEFAULT_STORAGE_POOL}.'
        )
    if driver != "dir" or not btrfs:
        return None
    return (
        f"pool {pool} is dir: every instance copies the whole image (seconds per launch). For copy-on-write "
        f"snapshots: `torrust-deploy lab up --storage-pool {SUGGESTED_BTRFS_POOL}` creates a btrfs pool beside it "
        f"and points the default profile at it (instances on {pool} keep working); environments whose config "
        f'names it (`"lxd": {{"storage_pool": "{SUGGESTED_BTRFS_POOL}"}}`) then launch from snapshots.'
    )


def check_profile_move(api: LxdApi, snapshot: LxdSnapshot, settings: LabSettings) -> None:
    """Refuse to point the default profile's root disk at another pool while instances take their root disk
    from it (LXD cannot move them that way; they would fail to update)."""
    from orchestrator.lab.lxd_api import profile_root_pool

    current = profile_root_pool(snapshot.default_profile_devices)
    if current is None or current == settings.pool or not snapshot.default_profile_used_by:
        return
    rooted = api.instances_rooted_in_default_profile(snapshot.default_profile_used_by)
    if rooted:
        shown = ", ".join(rooted[:5]) + (f" and {len(rooted) - 5} more" if len(rooted) > 5 else "")
        raise LxdConfigurationError(
            f"the default profile's root disk cannot move from pool {current} to {settings.pool}: "
            f"instances {shown} take their root disk from it",
            tip=f"Keep the pool (`--storage-pool {current}`), or move or delete those instances first.",
        )


def ensure_image_volume(
    api: LxdApi, settings: LabSettings, driver: str | None, fingerprint: str, say: Callable[[str], None]
) -> str:
    """Have the image unpacked on a copy-on-write pool, so the first instance is a snapshot too: LXD does it
    on the first instance from the image, so the lab creates one (never started) and deletes it."""
    if driver not in COPY_ON_WRITE_DRIVERS:
        return f"pool {settings.pool} ({driver}): instances copy the image"
    if api.image_volume_exists(settings.pool, fingerprint):
        return f"unpacked on pool {settings.pool} ({driver}): instances are snapshots"
    name = WARM_INSTANCE_PREFIX + secrets.token_hex(3)
    say(f"  unpacking {fingerprint[:12]} onto pool {settings.pool} (an instance {name}, created then deleted)")
    started = time.monotonic()
    try:
        api.create_stopped_instance(name, settings.image_alias, settings.pool)
    except api.errors as exc:
        raise LxdConfigurationError(f"creating an instance on pool {settings.pool} failed: {exc}") from exc
    finally:
        with contextlib.suppress(*api.errors):  # not there when its creation failed
            api.delete_instance(name)
    if not api.image_volume_exists(settings.pool, fingerprint):
        raise LxdConfigurationError(f"no image volume for {fingerprint[:12]} on pool {settings.pool} after a launch")
    return f"unpacked on pool {settings.pool} ({driver}) in {time.monotonic() - started:.1f} s: instances are snapshots"
