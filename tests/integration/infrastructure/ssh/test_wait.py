"""wait_for_ssh against a real sshd on loopback."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from orchestrator.infrastructure.ssh.wait import SshNotReadyError, SshWaitInterruptedError, wait_for_ssh
from tests.integration.infrastructure.conftest import Sshd

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
