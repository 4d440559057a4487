"""Settings of the local LXD lab (re-exported by :mod:`orchestrator.lab.local_lab`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

StorageDriver = Literal["auto", "btrfs", "dir"]

DEFAULT_BRIDGE = "lxdbr0"
DEFAULT_IPV4_ADDRESS = "10.200.77.1/24"
DEFAULT_STORAGE_POOL = "default"
DEFAULT_STORAGE_DRIVER: StorageDriver = "auto"
STORAGE_DRIVERS: tuple[StorageDriver, ...] = ("auto", "btrfs", "dir")
#: The btrfs pool's loop file (sparse: it takes the space its volumes use, up to this size).
DEFAULT_STORAGE_SIZE = "24GiB"
DEFAULT_IMAGE_ALIAS = "torrust-trixie"
DEFAULT_SUITE = "trixie"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
#: Where the Debian ``lxd`` package's daemon keeps its state and its unix socket.
LXD_DIR = Path("/var/lib/lxd")
LXCFS_DIR = Path("/var/lib/lxcfs")


def _default_cache_dir() -> Path:
    return Path.home() / ".cache" / "torrust-deploy" / "images"


@dataclass(frozen=True)
class LabSettings:
    """What the lab sets up. Every field has a default that works on a fresh machine."""

    bridge: str = DEFAULT_BRIDGE
    #: The bridge's own address with the subnet prefix; instances get DHCP leases in that subnet.
    ipv4_address: str = DEFAULT_IPV4_ADDRESS
    #: The pool the default profile's root disk is on (where instances go). ``None``: the one it is on
    #: already, else ``default``.
    storage_pool: str | None = None
    #: The driver of a pool the lab creates: ``auto`` = btrfs (copy-on-write: an instance is a snapshot of
    #: the image) where the kernel has it, else dir. An existing pool keeps its driver.
    storage_driver: StorageDriver = DEFAULT_STORAGE_DRIVER
    #: The size of a btrfs pool's loop file, in LXD's notation.
    storage_size: str = DEFAULT_STORAGE_SIZE
    image_alias: str = DEFAULT_IMAGE_ALIAS
    suite: str = DEFAULT_SUITE
    mirror: str = DEFAULT_MIRROR
    #: Built image tarballs, keyed by recipe digest (outside the repository).
    cache_dir: Path = field(default_factory=_default_cache_dir)
    #: PID records of the daemons the lab started, and their logs.
    state_dir: Path = Path("/var/lib/torrust-deploy/lab")
    lxd_dir: Path = LXD_DIR

    @property
    def socket_path(self) -> Path:
        return self.lxd_dir / "unix.socket"

    @property
    def pool(self) -> str:
        """The storage pool's name (``default`` until resolved against the daemon, see ``storage.resolve``)."""
        return self.storage_pool or DEFAULT_STORAGE_POOL
