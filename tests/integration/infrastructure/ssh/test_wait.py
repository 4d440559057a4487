"""wait_for_ssh against a real sshd on loopback."""

from __future__ import annotations

import subprocess
import threading
from typing import Any

import pytest

from orchestrator.infrastructure.ssh.multiplexing import close_master, control_path
from orchestrator.infrastructure.ssh.wait import SshNotReadyError, SshWaitInterruptedError, wait_for_ssh
from tests.support.sshd import Sshd

pytestmark = pytest.mark.integration


def test_waits_until_sshd_starts_and_accepts_the_key(sshd: Sshd) -> None:
    start: Any = sshd.start
    threading.Timer(1.5, start).start()
    seconds = wait_for_ssh("127.0.0.1", sshd.port, sshd.user, sshd.key, timeout_s=30)
    assert seconds >= 1.0


def test_a_key_the_host_does_not_accept_times_out_naming_the_refusal(sshd: Sshd) -> None:
    start: Any = sshd.start
    start()
    with pytest.raises(SshNotReadyError, match="Permission denied") as raised:
        wait_for_ssh("127.0.0.1", sshd.port, sshd.user, sshd.other_key, timeout_s=3)
    assert any("Permission denied" in line for line in raised.value.tool_output)


def test_nothing_listening_times_out_with_connection_refused(sshd: Sshd) -> None:
    with pytest.raises(SshNotReadyError, match="Connection refused"):
        wait_for_ssh("127.0.0.1", sshd.port, sshd.user, sshd.key, timeout_s=1.5)


def test_an_interrupted_wait_stops_at_once(sshd: Sshd) -> None:
    with pytest.raises(SshWaitInterruptedError):
        wait_for_ssh("127.0.0.1", sshd.port, sshd.user, sshd.key, timeout_s=60, cancelled=lambda: True)


def _master_running(sshd: Sshd) -> bool:
    path = control_path()
    assert path is not None
    check = ["ssh", "-o", f"ControlPath={path}", "-p", str(sshd.port), "-O", "check", f"{sshd.user}@127.0.0.1"]
    return subprocess.run(check, capture_output=True, check=False).returncode == 0


def test_the_wait_leaves_a_master_connection_that_close_master_stops(sshd: Sshd) -> None:
    start: Any = sshd.start
    start()
    wait_for_ssh("127.0.0.1", sshd.port, sshd.user, sshd.key, timeout_s=30)
    assert _master_running(sshd)  # ansible's first task reuses it (ANSIBLE_SSH_ARGS names the same path)
    close_master("127.0.0.1", sshd.port, sshd.user)
    assert not _master_running(sshd)


def test_while_nothing_listens_the_wait_only_probes_the_port_and_runs_no_ssh(
    sshd: Sshd, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[object] = []
    real_run = subprocess.run

    def counting_run(*args: Any, **kwargs: Any) -> Any:
        runs.append(args)
        return real_run(*args, **kwargs)

    monkeypatch.setattr(subprocess, "run", counting_run)
    with pytest.raises(SshNotReadyError) as raised:
        wait_for_ssh("127.0.0.1", sshd.port, sshd.user, sshd.key, timeout_s=1.0)
    assert runs == []
    assert len(raised.value.tool_output) > 3  # polled, one line per probe
