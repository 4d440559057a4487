"""The Debian packages the lab needs, and installing the missing ones with apt-get."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterable, Sequence

from orchestrator.infrastructure.lxd.errors import PackageInstallError, tail

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

_APT_ENV = {
    "DEBIAN_FRONTEND": "noninteractive",
    "APT_LISTCHANGES_FRONTEND": "none",
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
}

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **_APT_ENV},
        check=False,
    )


def parse_dpkg_status(output: str) -> set[str]:
    """Installed package names from ``dpkg-query -W -f='${Package} ${db:Status-Abbrev}\\n'`` output."""
    installed: set[str] = set()
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].startswith("ii"):
            installed.add(parts[0].split(":", 1)[0])
    return installed


def missing_packages(names: Iterable[str], run: Runner = _run) -> list[str]:
    """The packages of ``names`` that dpkg doesn't list as installed, in the given order."""
    wanted = list(names)
    try:
        result = run(["dpkg-query", "-W", "-f=${Package} ${db:Status-Abbrev}\n", *wanted])
    except OSError:
        return wanted
    installed = parse_dpkg_status(result.stdout)
    return [name for name in wanted if name not in installed]


def install_packages(names: Sequence[str], run: Runner = _run) -> None:
    """``apt-get install`` the packages; on failure refresh the lists once and retry."""
    if not names:
        return
    install = ["apt-get", "install", "-y", "--no-install-recommends", *names]
    first = run(install)
    if first.returncode == 0:
        return
    update = run(["apt-get", "update"])
    second = run(install) if update.returncode == 0 else update
    if second.returncode != 0:
        raise PackageInstallError(
            f"could not install {', '.join(names)} with apt-get (exit {second.returncode})",
            detail=tail(second.stdout, 20),
        )


def ensure_packages(progress: Callable[[str], None], run: Runner = _run) -> list[str]:
    """Install whatever of :data:`REQUIRED_PACKAGES` is missing; returns what was installed."""
    installed: list[str] = []
    for group in (FIREWALL_PACKAGES, LAB_PACKAGES):
        missing = missing_packages(group, run)
        if missing:
            progress(f"installing Debian packages: {' '.join(missing)}")
            install_packages(missing, run)
            installed.extend(missing)
    return installed
