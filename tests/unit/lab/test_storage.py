"""The lab's storage pool (orchestrator/lab/storage.py): the driver a new pool gets, the settings resolved
against the daemon, the switch hint for dir labs, and the image unpacked once on a copy-on-write pool."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from orchestrator.lab.errors import InvalidSettingsError, LxdConfigurationError
from orchestrator.lab.lxd_api import LxdApi, LxdSnapshot, profile_root_pool
from orchestrator.lab.settings import LabSettings
from orchestrator.lab.storage import (
    check_profile_move,
    driver_problem,
    ensure_image_volume,
    kernel_has_btrfs,
    new_pool_driver,
    packages_for,
    pool_config,
    resolved,
    switch_hint,
)

FILESYSTEMS = "nodev\tsysfs\nnodev\ttmpfs\n\text4\nnodev\toverlay\n"


class FakeApi:
    """The LxdApi calls storage.py makes, recorded."""

    errors = (RuntimeError,)

    def __init__(self, *, volume: bool = False, create_fails: bool = False, rooted: list[str] | None = None) -> None:
        self.volume = volume
        self.create_fails = create_fails
        self.rooted = rooted or []
        self.calls: list[tuple[str, ...]] = []

    def image_volume_exists(self, pool: str, fingerprint: str) -> bool:
        self.calls.append(("volume?", pool, fingerprint))
        return self.volume

    def create_stopped_instance(self, name: str, alias: str, pool: str) -> None:
        self.calls.append(("create", name, alias, pool))
        if self.create_fails:
            raise RuntimeError("no space left on device")
        self.volume = True

    def delete_instance(self, name: str) -> None:
        self.calls.append(("delete", name))
        if self.create_fails:
            raise RuntimeError("not found")

    def instances_rooted_in_default_profile(self, names: tuple[str, ...]) -> list[str]:
        self.calls.append(("rooted?", *names))
        return self.rooted


def _api(fake: FakeApi) -> LxdApi:
    return cast("LxdApi", fake)


def _root_on(pool: str) -> dict[str, dict[str, str]]:
    return {"root": {"type": "disk", "path": "/", "pool": pool}, "eth0": {"type": "nic", "network": "lxdbr0"}}


@pytest.mark.parametrize(("text", "expected"), [(FILESYSTEMS, False), (FILESYSTEMS + "\tbtrfs\n", True)])
def test_btrfs_support_is_read_from_proc_filesystems(tmp_path: Path, text: str, expected: bool) -> None:
    path = tmp_path / "filesystems"
    path.write_text(text, encoding="utf-8")

    assert kernel_has_btrfs(path) is expected
    assert kernel_has_btrfs(tmp_path / "missing") is False


@pytest.mark.parametrize(
    ("driver", "btrfs", "expected"),
    [("auto", True, "btrfs"), ("auto", False, "dir"), ("dir", True, "dir"), ("btrfs", True, "btrfs")],
)
def test_a_new_pool_is_btrfs_where_the_kernel_has_it_unless_told_dir(driver: Any, btrfs: bool, expected: str) -> None:
    assert new_pool_driver(LabSettings(storage_driver=driver), btrfs) == expected


def test_asking_for_btrfs_without_kernel_support_is_an_error_with_a_tip() -> None:
    with pytest.raises(InvalidSettingsError) as caught:
        new_pool_driver(LabSettings(storage_driver="btrfs"), btrfs=False)

    assert "--storage-driver dir" in caught.value.tip


def test_a_btrfs_pool_is_a_loop_file_of_the_configured_size_and_dir_has_no_config() -> None:
    assert pool_config("btrfs", LabSettings(storage_size="9GiB")) == {"size": "9GiB"}
    assert pool_config("dir", LabSettings(storage_size="9GiB")) == {}


def test_btrfs_progs_is_installed_only_where_a_btrfs_pool_may_be_made() -> None:
    assert packages_for(LabSettings(), btrfs=True) == ("btrfs-progs",)
    assert packages_for(LabSettings(), btrfs=False) == ()
    assert packages_for(LabSettings(storage_driver="dir"), btrfs=True) == ()


def test_the_pool_is_the_one_given_else_the_default_profiles_else_default() -> None:
    snapshot = LxdSnapshot(storage_pool="lab-btrfs")

    assert resolved(LabSettings(storage_pool="mine"), snapshot).pool == "mine"
    assert resolved(LabSettings(), snapshot).pool == "lab-btrfs"
    assert resolved(LabSettings(), LxdSnapshot()).pool == "default"
    assert LabSettings().pool == "default"


def test_the_profile_root_pool_is_the_disk_mounted_at_slash() -> None:
    assert profile_root_pool(_root_on("fast")) == "fast"
    assert profile_root_pool({"data": {"type": "disk", "path": "/srv", "pool": "x"}}) is None
    assert profile_root_pool(None) is None


def test_an_existing_pool_of_another_driver_than_asked_is_an_error_naming_a_new_pool() -> None:
    snapshot = LxdSnapshot(storage_pool="default", storage_pool_driver="dir")

    problem = driver_problem(snapshot, LabSettings(storage_pool="default", storage_driver="btrfs"))

    assert problem is not None
    assert "cannot change" in problem.message
    assert "--storage-pool lab-btrfs" in problem.tip
    assert driver_problem(snapshot, LabSettings(storage_driver="auto")) is None
    assert driver_problem(snapshot, LabSettings(storage_driver="dir")) is None
    assert driver_problem(LxdSnapshot(), LabSettings(storage_driver="btrfs")) is None


def test_a_dir_pool_where_btrfs_works_gets_a_hint_how_to_switch() -> None:
    hint = switch_hint("dir", True, "default")

    assert hint is not None
    assert "`torrust-deploy lab up --storage-pool lab-btrfs`" in hint
    assert "instances on default keep working" in hint
    assert switch_hint("dir", False, "default") is None
    assert switch_hint("btrfs", True, "default") is None
    assert switch_hint(None, True, "default") is None


def test_a_pool_beside_default_is_named_in_environment_configs() -> None:
    hint = switch_hint("btrfs", True, "lab-btrfs")

    assert hint is not None
    assert '`"lxd": {"storage_pool": "lab-btrfs"}`' in hint


def test_the_profile_moves_to_another_pool_only_when_no_instance_takes_its_root_disk_from_it() -> None:
    snapshot = LxdSnapshot(default_profile_devices=_root_on("default"), default_profile_used_by=("web", "db"))
    moving = LabSettings(storage_pool="lab-btrfs")

    with pytest.raises(LxdConfigurationError) as caught:
        check_profile_move(_api(FakeApi(rooted=["web"])), snapshot, moving)
    assert "instances web take their root disk" in caught.value.message
    assert "--storage-pool default" in caught.value.tip

    check_profile_move(_api(FakeApi(rooted=[])), snapshot, moving)  # their root disks are their own
    unused = FakeApi(rooted=["web"])
    check_profile_move(_api(unused), LxdSnapshot(default_profile_devices=_root_on("default")), moving)
    check_profile_move(_api(unused), snapshot, LabSettings(storage_pool="default"))
    assert unused.calls == []


def test_the_image_is_unpacked_once_on_a_copy_on_write_pool_by_an_instance_created_then_deleted() -> None:
    api = FakeApi(volume=False)

    said = ensure_image_volume(_api(api), LabSettings(storage_pool="p"), "btrfs", "f" * 64, lambda _: None)

    kinds = [call[0] for call in api.calls]
    assert kinds == ["volume?", "create", "delete", "volume?"]
    create = api.calls[1]
    assert create[1].startswith("lab-image-volume-")
    assert create[2:] == ("torrust-trixie", "p")
    assert api.calls[2] == ("delete", create[1])
    assert "instances are snapshots" in said


def test_an_unpacked_image_or_a_dir_pool_needs_no_instance() -> None:
    unpacked = FakeApi(volume=True)
    ensure_image_volume(_api(unpacked), LabSettings(), "btrfs", "f" * 64, lambda _: None)
    assert [call[0] for call in unpacked.calls] == ["volume?"]

    copying = FakeApi()
    said = ensure_image_volume(_api(copying), LabSettings(), "dir", "f" * 64, lambda _: None)
    assert copying.calls == []
    assert "copy the image" in said


def test_a_failed_unpacking_is_a_lab_error_and_leaves_no_instance_behind() -> None:
    api = FakeApi(create_fails=True)

    with pytest.raises(LxdConfigurationError) as caught:
        ensure_image_volume(_api(api), LabSettings(), "btrfs", "f" * 64, lambda _: None)

    assert "no space left on device" in caught.value.message
    assert [call[0] for call in api.calls] == ["volume?", "create", "delete"]
