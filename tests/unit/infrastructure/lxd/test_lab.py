from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from orchestrator.infrastructure.lxd.errors import NotRootError
from orchestrator.infrastructure.lxd.lab import (
    DEFAULT_BRIDGE,
    DEFAULT_IMAGE_ALIAS,
    DaemonStatus,
    Lab,
    LabSettings,
    LabStatus,
    lxd_answers,
)


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


def test_defaults_match_the_documented_lab() -> None:
    settings = LabSettings()

    assert DEFAULT_BRIDGE == settings.bridge == "lxdbr0"
    assert DEFAULT_IMAGE_ALIAS == settings.image_alias == "torrust-trixie"
    assert settings.ipv4_address == "10.200.77.1/24"
    assert settings.storage_pool == "default"
    assert settings.suite == "trixie"
    assert settings.cache_dir == Path.home() / ".cache/torrust-deploy/images"
    assert settings.socket_path == Path("/var/lib/lxd/unix.socket")


def test_settings_are_immutable() -> None:
    with pytest.raises(AttributeError):
        LabSettings().bridge = "x"  # type: ignore[misc]


@pytest.mark.parametrize("method", ["up", "down", "build_image"])
def test_changing_the_lab_requires_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, method: str) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    lab = Lab(LabSettings(state_dir=tmp_path / "state", cache_dir=tmp_path / "cache"))

    with pytest.raises(NotRootError):
        getattr(lab, method)()

    assert not (tmp_path / "state").exists()


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


def test_daemon_status_says_who_started_it() -> None:
    assert DaemonStatus("lxd", running=True, pid=1, started_by_lab=True).who == "started by the lab"
    assert DaemonStatus("lxd", running=True, pid=1).who == "started outside the lab"
    assert DaemonStatus("lxd", running=False).who == "not running"


def test_a_missing_socket_means_no_daemon(tmp_path: Path) -> None:
    assert lxd_answers(tmp_path / "unix.socket") is False


def test_daemon_that_exits_at_start_is_reported_with_the_tail_of_its_log(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from orchestrator.infrastructure.lxd.errors import DaemonStartError
    from orchestrator.infrastructure.lxd.processes import start_detached, wait_gone

    settings = LabSettings(state_dir=tmp_path, cache_dir=tmp_path / "cache", lxd_dir=tmp_path / "lxd")
    lab = Lab(settings)
    monkeypatch.setattr(Lab, "_waitready", lambda self, timeout: False)
    record = start_detached(["sh", "-c", "echo 'Error: failed to open the database' >&2; exit 1"], tmp_path / "lxd.out")
    lab.pids.save(record)
    assert wait_gone(record, 10)

    with pytest.raises(DaemonStartError) as caught:
        lab._wait_ready(record)

    assert "exited" in caught.value.message
    assert "failed to open the database" in caught.value.detail
    assert lab.pids.load("sh") is not None  # only the lxd record is forgotten
