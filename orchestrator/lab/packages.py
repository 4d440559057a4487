"""The Debian packages the lab needs, installed (when missing) in the order LXD needs them."""

from __future__ import annotations

from collections.abc import Callable

from orchestrator.infrastructure.debian_packages import (
    AptInstallError,
    Runner,
    install_packages,
    missing_packages,
    run_apt,
)
from orchestrator.lab.errors import PackageInstallError

#: Installed first, on its own: LXD picks its firewall backend at its first start.
FIREWALL_PACKAGES: tuple[str, ...] = ("nftables",)
#: Everything else: the daemon and client, lxcfs, the bridge's DHCP/DNS, the image builder, ssh.
LAB_PACKAGES: tuple[str, ...] = (
    "lxd",
    "lxd-client",
    "lxcfs",
    "dnsmasq-base",
    "squashfs-tools",
    "debootstrap",
    "debian-archive-keyring",
    "zstd",
    "openssh-client",
)
REQUIRED_PACKAGES: tuple[str, ...] = FIREWALL_PACKAGES + LAB_PACKAGES


def ensure_packages(progress: Callable[[str], None], run: Runner = run_apt, extra: tuple[str, ...] = ()) -> list[str]:
    """Install whatever of :data:`REQUIRED_PACKAGES` (and ``extra``: the storage pool's tools) is missing;
    returns what was installed."""
    installed: list[str] = []
    for group in (FIREWALL_PACKAGES, LAB_PACKAGES + extra):
        missing = missing_packages(group, run)
        if missing:
            progress(f"installing Debian packages: {' '.join(missing)}")
            try:
                install_packages(missing, run)
            except AptInstallError as exc:
                raise PackageInstallError(exc.message, detail=exc.detail) from exc
            installed.extend(missing)
    return installed
