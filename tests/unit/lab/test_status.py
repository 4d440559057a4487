from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from orchestrator.lab.daemons import DaemonStatus
from orchestrator.lab.settings import LabSettings
from orchestrator.lab.status import LabStatus


def _status(**overrides: object) -> LabStatus:
    status = LabStatus(
        settings=LabSettings(cache_dir=Path("/c"), state_dir=Path("/s")),
        missing_packages=(),
        lxcfs=DaemonStatus("lxcfs", running=True, pid=10, started_by_lab=True, log="/s/lxcfs.log"),
        lxd=DaemonStatus("lxd", running=True, pid=11, started_by_lab=False),
        bridge_exists=True,
        bridge_ipv4_address="10.200.77.1/24",
        storage_pool_driver="dir",
        image_fingerprint="f" * 64,
        cached_image=Path("/c/debian-trixie.tar.zst"),
        cached_fingerprint="f" * 64,
    )
    return replace(status, **overrides)  # type: ignore[arg-type]


def test_status_is_ready_without_problems_and_equal_for_equal_labs() -> None:
    assert _status().ready
    assert _status() == _status()
    assert not _status(problems=("lxd does not answer",)).ready
    assert _status() != _status(lxd=DaemonStatus("lxd", running=True, pid=99))


def test_status_document_is_json_with_daemons_bridge_and_image() -> None:
    doc = json.loads(json.dumps(_status().to_dict()))

    assert doc["ready"] is True
    assert doc["daemons"]["lxd"] == {
        "program": "lxd",
        "running": True,
        "pid": 11,
        "started_by_lab": False,
        "log": None,
    }
    assert doc["bridge"] == {"name": "lxdbr0", "exists": True, "ipv4_address": "10.200.77.1/24"}
    assert doc["image"]["alias"] == "torrust-trixie"
    assert doc["image"]["cached_tarball"] == "/c/debian-trixie.tar.zst"
    assert doc["settings"]["state_dir"] == "/s"


def test_status_subnet_is_the_bridge_network() -> None:
    assert _status().subnet == "10.200.77.0/24"


def test_a_dir_pool_where_btrfs_works_reports_how_to_switch() -> None:
    status = _status(btrfs_available=True)

    assert not status.copy_on_write
    assert status.storage_hint is not None and "--storage-pool lab-btrfs" in status.storage_hint
    assert status.to_dict()["storage_pool"]["hint"] == status.storage_hint
    assert status.ready  # a dir lab keeps working: the hint is no problem


def test_a_btrfs_pool_reports_its_loop_file_and_whether_the_image_is_unpacked() -> None:
    status = _status(storage_pool_driver="btrfs", storage_pool_size="24GiB", image_on_pool=True, btrfs_available=True)

    assert status.copy_on_write
    assert status.storage_hint is None
    assert status.to_dict()["storage_pool"] == {
        "name": "default",
        "driver": "btrfs",
        "size": "24GiB",
        "copy_on_write": True,
        "image_on_pool": True,
        "btrfs_available": True,
        "hint": None,
    }
