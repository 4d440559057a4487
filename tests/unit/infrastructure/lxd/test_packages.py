from __future__ import annotations

import subprocess
from collections.abc import Sequence

import pytest

from orchestrator.infrastructure.lxd.errors import PackageInstallError
from orchestrator.infrastructure.lxd.packages import (
    REQUIRED_PACKAGES,
    ensure_packages,
    install_packages,
    missing_packages,
    parse_dpkg_status,
)


class FakeApt:
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


def test_nothing_is_installed_when_everything_is_present() -> None:
    apt = FakeApt(set(REQUIRED_PACKAGES))

    assert ensure_packages(lambda _: None, apt) == []
    assert not any(c[0] == "apt-get" for c in apt.calls)


def test_nftables_is_installed_before_the_daemon_packages() -> None:
    apt = FakeApt(set())

    installed = ensure_packages(lambda _: None, apt)

    installs = [c for c in apt.calls if c[:2] == ["apt-get", "install"]]
    assert installs[0][-1] == "nftables"
    assert "lxd" in installs[1]
    assert set(installed) == set(REQUIRED_PACKAGES)


def test_failed_install_refreshes_the_lists_and_retries() -> None:
    apt = FakeApt(set(), install_fails=1)

    install_packages(["zstd"], apt)

    assert [c[:2] for c in apt.calls] == [["apt-get", "install"], ["apt-get", "update"], ["apt-get", "install"]]
    assert "zstd" in apt.installed


def test_install_failure_raises_with_the_tail_of_apt_output() -> None:
    output = "\n".join(f"line {i}" for i in range(100)) + "\nE: Unable to locate package lxd"
    apt = FakeApt(set(), install_fails=2, output=output)

    with pytest.raises(PackageInstallError) as caught:
        install_packages(["lxd"], apt)

    assert "lxd" in caught.value.message
    assert caught.value.detail.endswith("E: Unable to locate package lxd")
    assert "line 0\n" not in caught.value.detail
    assert "apt-get update" in caught.value.tip
