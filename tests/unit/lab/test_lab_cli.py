"""The `lab` CLI sub-app (orchestrator/cli/lab.py), without a daemon: the lab itself is faked."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestrator.cli.lab import lab_app, status_text
from orchestrator.lab.errors import DaemonStartError, NotRootError
from orchestrator.lab.local_lab import DaemonStatus, Lab, LabSettings, LabStatus

runner = CliRunner()


def _status(problems: tuple[str, ...] = ()) -> LabStatus:
    return LabStatus(
        settings=LabSettings(),
        missing_packages=(),
        lxcfs=DaemonStatus("lxcfs", running=True, pid=10, started_by_lab=True),
        lxd=DaemonStatus("lxd", running=True, pid=11, started_by_lab=True),
        bridge_exists=True,
        bridge_ipv4_address="10.200.77.1/24",
        storage_pool_driver="dir",
        image_fingerprint="a" * 64,
        cached_image=Path("/cache/x.tar.zst"),
        cached_fingerprint="a" * 64,
        problems=problems,
    )


def test_lab_error_prints_error_and_tip_on_stderr_and_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(self: Lab, progress: object = None) -> LabStatus:
        raise DaemonStartError("the LXD daemon exited", detail="--- lxd.log ---\nlast words")

    monkeypatch.setattr(Lab, "up", fail)

    result = runner.invoke(lab_app, ["up"])

    assert result.exit_code == 1
    assert result.stdout == ""
    assert "Error: the LXD daemon exited" in result.stderr
    assert "last words" in result.stderr
    assert f"Tip: {DaemonStartError.default_tip}" in result.stderr
    assert "Traceback" not in result.output


def test_not_root_error_is_reported_with_its_tip(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(self: Lab) -> LabStatus:
        raise NotRootError("`lab status` must run as root")

    monkeypatch.setattr(Lab, "status", fail)

    result = runner.invoke(lab_app, ["status"])

    assert result.exit_code == 1
    assert "Tip: Run the command as root" in result.stderr


def test_up_passes_bridge_and_address_and_prints_json(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[LabSettings] = []

    def up(self: Lab, progress: object = None) -> LabStatus:
        seen.append(self.settings)
        return _status()

    monkeypatch.setattr(Lab, "up", up)

    result = runner.invoke(lab_app, ["up", "--bridge", "br9", "--ipv4-address", "10.9.9.1/24", "--json"])

    assert result.exit_code == 0, result.output
    assert seen[0].bridge == "br9"
    assert seen[0].ipv4_address == "10.9.9.1/24"
    doc = json.loads(result.stdout)
    assert doc["ok"] is True
    assert doc["lab"]["ready"] is True


def test_up_passes_the_storage_pool_driver_and_size(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[LabSettings] = []

    def up(self: Lab, progress: object = None) -> LabStatus:
        seen.append(self.settings)
        return _status()

    monkeypatch.setattr(Lab, "up", up)

    result = runner.invoke(
        lab_app, ["up", "--storage-pool", "lab-btrfs", "--storage-driver", "btrfs", "--storage-size", "8GiB"]
    )

    assert result.exit_code == 0, result.output
    assert (seen[0].storage_pool, seen[0].storage_driver, seen[0].storage_size) == ("lab-btrfs", "btrfs", "8GiB")
    assert runner.invoke(lab_app, ["up"]).exit_code == 0
    assert (seen[1].storage_pool, seen[1].storage_driver) == (None, "auto")


def test_an_unknown_storage_driver_is_an_error_with_the_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Lab, "up", lambda self, progress=None: _status())

    result = runner.invoke(lab_app, ["up", "--storage-driver", "zfs"])

    assert result.exit_code == 1
    assert "unknown storage driver 'zfs'" in result.stderr
    assert "Tip: Use one of auto, btrfs, dir." in result.stderr


def test_status_text_says_how_the_pool_stores_instances_and_how_to_switch() -> None:
    dir_lab = status_text(replace(_status(), btrfs_available=True))
    cow_lab = status_text(
        replace(_status(), storage_pool_driver="btrfs", storage_pool_size="24GiB", image_on_pool=True)
    )

    assert "storage pool  default (dir, copies the image for every instance)" in dir_lab
    assert "Note: pool default is dir" in dir_lab
    assert "storage pool  default (btrfs, 24GiB loop file, copy-on-write: image unpacked)" in cow_lab
    assert "Note:" not in cow_lab


def test_status_text_names_daemons_bridge_image_and_problems() -> None:
    text = status_text(_status(problems=("image alias torrust-trixie does not exist",)))

    assert text.startswith("Lab: NOT READY")
    assert "pid 11 (started by the lab)" in text
    assert "lxdbr0 10.200.77.1/24" in text
    assert "torrust-trixie -> aaaaaaaaaaaa" in text
    assert "- image alias torrust-trixie does not exist" in text


def test_help_lists_the_commands_and_does_not_import_pylxd() -> None:
    code = (
        "import sys\n"
        "from orchestrator.cli.lab import lab_app\n"
        "assert 'pylxd' not in sys.modules\n"
        "assert 'orchestrator.lab.local_lab' not in sys.modules\n"
        "lab_app(['--help'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[3],
    )

    assert result.returncode == 0, result.stderr
    for command in ("up", "status", "down", "image"):
        assert command in result.stdout


def test_image_group_has_build_with_force() -> None:
    result = runner.invoke(lab_app, ["image", "build", "--help"])

    assert result.exit_code == 0
    assert "--force" in result.stdout
