from __future__ import annotations

import pytest

from orchestrator.lab.errors import PackageInstallError
from orchestrator.lab.packages import REQUIRED_PACKAGES, ensure_packages
from tests.unit.infrastructure.test_debian_packages import FakeApt


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


def test_a_failed_install_is_a_lab_error_with_the_apt_output_and_tip() -> None:
    apt = FakeApt({"nftables"}, install_fails=2, output="E: Unable to locate package lxd")

    with pytest.raises(PackageInstallError) as caught:
        ensure_packages(lambda _: None, apt)

    assert "lxd" in caught.value.message
    assert caught.value.detail.endswith("E: Unable to locate package lxd")
    assert "apt-get update" in caught.value.tip


def test_the_pool_tools_are_installed_with_the_daemon_packages() -> None:
    apt = FakeApt(set(REQUIRED_PACKAGES))

    installed = ensure_packages(lambda _: None, apt, extra=("btrfs-progs",))

    assert installed == ["btrfs-progs"]
