from __future__ import annotations

from pathlib import Path

from orchestrator.lab.lxd_api import lxd_answers


def test_a_missing_socket_means_no_daemon(tmp_path: Path) -> None:
    assert lxd_answers(tmp_path / "unix.socket") is False
