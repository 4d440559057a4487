from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.lab.daemons import Daemons, DaemonStatus
from orchestrator.lab.errors import DaemonStartError
from orchestrator.lab.local_lab import Lab
from orchestrator.lab.processes import start_detached, wait_gone
from orchestrator.lab.settings import LabSettings


def test_daemon_status_says_who_started_it() -> None:
    assert DaemonStatus("lxd", running=True, pid=1, started_by_lab=True).who == "started by the lab"
    assert DaemonStatus("lxd", running=True, pid=1).who == "started outside the lab"
    assert DaemonStatus("lxd", running=False).who == "not running"


def test_daemon_that_exits_at_start_is_reported_with_the_tail_of_its_log(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = LabSettings(state_dir=tmp_path, cache_dir=tmp_path / "cache", lxd_dir=tmp_path / "lxd")
    lab = Lab(settings)
    monkeypatch.setattr(Daemons, "_waitready", lambda self, timeout: False)
    record = start_detached(["sh", "-c", "echo 'Error: failed to open the database' >&2; exit 1"], tmp_path / "lxd.out")
    lab.pids.save(record)
    assert wait_gone(record, 10)

    with pytest.raises(DaemonStartError) as caught:
        lab.daemons.wait_ready(record)

    assert "exited" in caught.value.message
    assert "failed to open the database" in caught.value.detail
    assert lab.pids.load("sh") is not None  # only the lxd record is forgotten
