"""Settings of the local LXD lab (re-exported by :mod:`orchestrator.lab.local_lab`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_BRIDGE = "lxdbr0"
DEFAULT_IPV4_ADDRESS = "10.200.77.1/24"
DEFAULT_STORAGE_POOL = "default"
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
    storage_pool: str = DEFAULT_STORAGE_POOL
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
