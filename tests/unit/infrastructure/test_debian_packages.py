from __future__ import annotations

import subprocess
from collections.abc import Sequence

import pytest

from orchestrator.infrastructure.debian_packages import (
    AptInstallError,
    install_packages,
    missing_packages,
    parse_dpkg_status,
)


class FakeApt:
    """dpkg-query and apt-get over a set of installed package names; ``install_fails`` installs fail first."""

    def __init__(self, installed: set[str], *, install_fails: int = 0, output: str = "") -> None:
        self.installed = set(installed)
        self.install_fails = install_fails
        self.output = output
        self.calls: list[list[str]] = []

    def __call__(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        argv = list(argv)
        self.calls.append(argv)
        if argv[0] == "dpkg-query":
            names = argv[3:]
            lines = [f"{n} ii " for n in names if n in self.installed]
            return subprocess.CompletedProcess(argv, 1 if len(lines) < len(names) else 0, "\n".join(lines), "")
        if argv[:2] == ["apt-get", "install"]:
            if self.install_fails > 0:
                self.install_fails -= 1
                return subprocess.CompletedProcess(argv, 100, self.output, "")
            self.installed.update(a for a in argv[2:] if not a.startswith("-"))
        return subprocess.CompletedProcess(argv, 0, "", "")


def test_parse_dpkg_status_keeps_only_installed_packages() -> None:
    output = "lxd ii \nzstd rc \nlibc6:amd64 ii \nnftables un \n"

    assert parse_dpkg_status(output) == {"lxd", "libc6"}


def test_missing_packages_keeps_the_given_order() -> None:
    apt = FakeApt({"lxd", "zstd"})

    assert missing_packages(["nftables", "lxd", "debootstrap", "zstd"], apt) == ["nftables", "debootstrap"]


def test_failed_install_refreshes_the_lists_and_retries() -> None:
    apt = FakeApt(set(), install_fails=1)

    install_packages(["zstd"], apt)

    assert [c[:2] for c in apt.calls] == [["apt-get", "install"], ["apt-get", "update"], ["apt-get", "install"]]
    assert "zstd" in apt.installed


def test_install_failure_raises_with_the_tail_of_apt_output() -> None:
    output = "\n".join(f"line {i}" for i in range(100)) + "\nE: Unable to locate package lxd"
    apt = FakeApt(set(), install_fails=2, output=output)

    with pytest.raises(AptInstallError) as caught:
        install_packages(["lxd"], apt)

    assert "lxd" in caught.value.message
    assert caught.value.detail.endswith("E: Unable to locate package lxd")
    assert "line 0\n" not in caught.value.detail
    assert "apt-get update" in caught.value.tip
