"""Debian packages on this machine: which of a list dpkg doesn't have installed, and installing them with
apt-get (refreshing the package lists once when the first install fails).

Used by the host lab (:mod:`orchestrator.lab.packages`) and usable by any adapter that needs build or
runtime packages on the controller. The command runner is a parameter, so tests pass a fake apt.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterable, Sequence

_APT_ENV = {
    "DEBIAN_FRONTEND": "noninteractive",
    "APT_LISTCHANGES_FRONTEND": "none",
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
}

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


class AptInstallError(Exception):
    """``apt-get install`` failed, also after refreshing the package lists."""

    default_tip = "Check that apt can reach the Debian mirror (`apt-get update`), then install the packages by hand."

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.tip = self.default_tip
        #: The tail of apt-get's output.
        self.detail = detail

    def __str__(self) -> str:
        return self.message


def run_apt(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run a dpkg/apt command non-interactively, stderr folded into stdout."""
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


def missing_packages(names: Iterable[str], run: Runner = run_apt) -> list[str]:
    """The packages of ``names`` that dpkg doesn't list as installed, in the given order."""
    wanted = list(names)
    try:
        result = run(["dpkg-query", "-W", "-f=${Package} ${db:Status-Abbrev}\n", *wanted])
    except OSError:
        return wanted
    installed = parse_dpkg_status(result.stdout)
    return [name for name in wanted if name not in installed]


def install_packages(names: Sequence[str], run: Runner = run_apt) -> None:
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
        raise AptInstallError(
            f"could not install {', '.join(names)} with apt-get (exit {second.returncode})",
            detail="\n".join(second.stdout.rstrip().splitlines()[-20:]),
        )
