from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import yaml

from orchestrator.lab.errors import InvalidSettingsError, LxdConfigurationError
from orchestrator.lab.lxd_api import LxdSnapshot
from orchestrator.lab.preseed import (
    dhcp_range,
    ensure_preseed,
    needed_changes,
    network_problem,
    parse_ipv4_address,
    preseed_document,
    render_preseed,
)
from orchestrator.lab.settings import LabSettings


def _ready_snapshot(settings: LabSettings) -> LxdSnapshot:
    doc = preseed_document(settings)
    return LxdSnapshot(
        server_config=dict(doc["config"]),
        network={"type": "bridge", "managed": True, "config": dict(doc["networks"][0]["config"])},
        storage_pool_driver="dir",
        default_profile_devices=dict(doc["profiles"][0]["devices"]),
    )


def test_preseed_declares_bridge_with_configured_address_nat_and_no_ipv6() -> None:
    doc = yaml.safe_load(render_preseed(LabSettings(bridge="labbr", ipv4_address="10.9.8.1/24")))

    (network,) = doc["networks"]
    assert network["name"] == "labbr"
    assert network["type"] == "bridge"
    assert network["config"] == {
        "ipv4.address": "10.9.8.1/24",
        "ipv4.nat": "true",
        "ipv4.dhcp.ranges": "10.9.8.2-10.9.8.254",
        "ipv6.address": "none",
    }


def test_preseed_declares_the_pool_default_profile_and_no_image_auto_update() -> None:
    doc = yaml.safe_load(render_preseed(LabSettings(storage_pool="labpool", bridge="labbr")))

    assert doc["config"] == {"images.auto_update_interval": "0"}
    assert doc["storage_pools"] == [{"name": "labpool", "driver": "dir", "config": {}}]
    (profile,) = doc["profiles"]
    assert profile["name"] == "default"
    assert profile["devices"]["root"] == {"type": "disk", "path": "/", "pool": "labpool"}
    assert profile["devices"]["eth0"] == {"type": "nic", "name": "eth0", "network": "labbr"}


def test_preseed_declares_a_btrfs_pool_as_a_loop_file_of_the_configured_size() -> None:
    doc = yaml.safe_load(render_preseed(LabSettings(storage_size="12GiB"), pool_driver="btrfs"))

    assert doc["storage_pools"] == [{"name": "default", "driver": "btrfs", "config": {"size": "12GiB"}}]


def test_preseed_leaves_out_an_existing_storage_pool() -> None:
    doc = yaml.safe_load(render_preseed(LabSettings(), pool_driver=None))

    assert "storage_pools" not in doc


def test_a_profile_root_disk_on_another_pool_needs_an_update() -> None:
    snapshot = _ready_snapshot(LabSettings(storage_pool="default"))

    assert "default profile: device root" in needed_changes(snapshot, LabSettings(storage_pool="lab-btrfs"))


def test_preseed_values_are_all_strings_as_lxd_expects() -> None:
    doc = yaml.safe_load(render_preseed(LabSettings()))

    assert all(isinstance(v, str) for v in doc["config"].values())
    assert all(isinstance(v, str) for v in doc["networks"][0]["config"].values())


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("10.200.77.1/24", "10.200.77.2-10.200.77.254"),
        ("192.168.5.100/24", "192.168.5.101-192.168.5.254"),
        ("192.168.5.254/24", "192.168.5.1-192.168.5.253"),
        ("10.1.0.1/16", "10.1.0.2-10.1.255.254"),
        ("10.0.0.1/30", "10.0.0.2-10.0.0.2"),
    ],
)
def test_dhcp_range_covers_the_subnet_without_the_bridge_address(address: str, expected: str) -> None:
    assert dhcp_range(parse_ipv4_address(address)) == expected


@pytest.mark.parametrize(
    "address", ["10.200.77.1", "10.200.77.0/24", "10.200.77.255/24", "fd00::1/64", "10.0.0.1/31", "nonsense"]
)
def test_invalid_bridge_address_is_rejected_with_a_tip(address: str) -> None:
    with pytest.raises(InvalidSettingsError) as caught:
        parse_ipv4_address(address)

    assert "--ipv4-address" in caught.value.tip


def test_no_changes_needed_when_daemon_matches_settings() -> None:
    settings = LabSettings()

    assert needed_changes(_ready_snapshot(settings), settings) == []


def test_empty_daemon_needs_everything_created() -> None:
    changes = needed_changes(LxdSnapshot(), LabSettings())

    assert any("create bridge lxdbr0" in c for c in changes)
    assert any("create storage pool default" in c for c in changes)
    assert any("images.auto_update_interval" in c for c in changes)


def test_bridge_with_another_address_needs_an_update() -> None:
    settings = LabSettings(ipv4_address="10.200.77.1/24")
    snapshot = _ready_snapshot(LabSettings(ipv4_address="10.55.0.1/24"))

    changes = needed_changes(snapshot, settings)

    assert any("ipv4.address '10.55.0.1/24' -> '10.200.77.1/24'" in c for c in changes)
    assert any("ipv4.dhcp.ranges" in c for c in changes)


def test_profile_whose_nic_points_elsewhere_needs_an_update() -> None:
    settings = LabSettings()
    snapshot = _ready_snapshot(LabSettings(bridge="otherbr"))

    changes = needed_changes(snapshot, settings)

    assert "default profile: device eth0" in changes


def test_unmanaged_interface_with_the_bridge_name_is_a_problem() -> None:
    snapshot = LxdSnapshot(network={"type": "bridge", "managed": False, "config": {}})

    assert network_problem(snapshot, LabSettings()) is not None
    assert network_problem(_ready_snapshot(LabSettings()), LabSettings()) is None


class _FakeApi:
    """What ensure_preseed reads: a snapshot before and after `lxd init --preseed`."""

    def __init__(self, before: LxdSnapshot, after: LxdSnapshot, rooted: list[str] | None = None) -> None:
        self.snapshots = [before, after]
        self.rooted = rooted or []

    def snapshot(self, settings: LabSettings) -> LxdSnapshot:
        return self.snapshots.pop(0) if len(self.snapshots) > 1 else self.snapshots[0]

    def instances_rooted_in_default_profile(self, names: tuple[str, ...]) -> list[str]:
        return self.rooted


def _ensure(
    monkeypatch: pytest.MonkeyPatch, api: _FakeApi, settings: LabSettings, btrfs: bool
) -> tuple[str, list[str]]:
    import subprocess

    applied: list[str] = []

    def run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        applied.append(kwargs["input"])
        return subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr("orchestrator.lab.preseed.LxdApi", lambda _socket: api)
    monkeypatch.setattr("orchestrator.lab.preseed.subprocess.run", run)
    said: list[str] = []
    return ensure_preseed(settings, said.append, btrfs=btrfs) + "\n" + "\n".join(said), applied


def test_a_fresh_daemon_gets_a_btrfs_pool_named_default_where_the_kernel_has_btrfs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = LabSettings()
    ready = replace(_ready_snapshot(settings), storage_pool="default", storage_pool_driver="btrfs")

    text, applied = _ensure(monkeypatch, _FakeApi(LxdSnapshot(storage_pool="default"), ready), settings, btrfs=True)

    (preseed,) = applied
    assert yaml.safe_load(preseed)["storage_pools"] == [
        {"name": "default", "driver": "btrfs", "config": {"size": "24GiB"}}
    ]
    assert "create storage pool default (btrfs, a loop file of 24GiB)" in text
    assert "pool default (btrfs): applied" in text


def test_a_fresh_daemon_without_btrfs_gets_a_dir_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = LabSettings()

    _, applied = _ensure(
        monkeypatch, _FakeApi(LxdSnapshot(storage_pool="default"), _ready_snapshot(settings)), settings, btrfs=False
    )

    assert yaml.safe_load(applied[0])["storage_pools"][0]["driver"] == "dir"


def test_an_existing_dir_lab_is_left_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = LabSettings()
    ready = replace(_ready_snapshot(settings), storage_pool="default")

    text, applied = _ensure(monkeypatch, _FakeApi(ready, ready), settings, btrfs=True)

    assert applied == []
    assert "pool default (dir): unchanged" in text


def test_an_explicit_driver_other_than_the_pools_is_refused_before_anything_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = LabSettings(storage_driver="btrfs")
    ready = replace(_ready_snapshot(settings), storage_pool="default")

    with pytest.raises(LxdConfigurationError) as caught:
        _ensure(monkeypatch, _FakeApi(ready, ready), settings, btrfs=True)

    assert "--storage-pool lab-btrfs" in caught.value.tip


def test_switching_pools_creates_the_new_one_and_moves_the_default_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    old = replace(_ready_snapshot(LabSettings()), storage_pool="default")
    moving = LabSettings(storage_pool="lab-btrfs")
    before = replace(old, storage_pool="lab-btrfs", storage_pool_driver=None)
    after = replace(_ready_snapshot(moving), storage_pool="lab-btrfs", storage_pool_driver="btrfs")

    _, applied = _ensure(monkeypatch, _FakeApi(before, after), moving, btrfs=True)

    doc = yaml.safe_load(applied[0])
    assert doc["storage_pools"][0]["name"] == "lab-btrfs"
    assert doc["profiles"][0]["devices"]["root"]["pool"] == "lab-btrfs"


def test_switching_pools_is_refused_while_instances_take_their_root_disk_from_the_profile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    moving = LabSettings(storage_pool="lab-btrfs")
    before = replace(
        _ready_snapshot(LabSettings()),
        storage_pool="lab-btrfs",
        storage_pool_driver=None,
        default_profile_used_by=("web",),
    )

    with pytest.raises(LxdConfigurationError) as caught:
        _ensure(monkeypatch, _FakeApi(before, before, rooted=["web"]), moving, btrfs=True)

    assert "instances web" in caught.value.message
