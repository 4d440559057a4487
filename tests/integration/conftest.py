"""A real sshd on loopback (a free port, a temp host key, root login with a temp key only)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.ci import skip_unless_ci_fails
from tests.support.keys import make_keypair
from tests.support.sshd import Sshd

SSHD = Path("/usr/sbin/sshd")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[Sshd]:
    if not SSHD.exists() or os.geteuid() != 0:
        skip_unless_ci_fails("the sshd integration tests need /usr/sbin/sshd and root (scripts/test.sh installs it)")
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    port = _free_port()
    host_key = make_keypair(tmp_path / "host_key").private_key
    client, other = make_keypair(tmp_path / "client_key"), make_keypair(tmp_path / "other_key")
    authorized = tmp_path / "authorized_keys"
    authorized.write_text(client.public_key_path.read_text())
    config = tmp_path / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {host_key}",
                f"PidFile {tmp_path / 'sshd.pid'}",
                f"AuthorizedKeysFile {authorized}",
                "PermitRootLogin prohibit-password",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                "StrictModes no",
                "",
            ]
        )
    )
    started: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        started.append(subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config)], stderr=subprocess.DEVNULL))

    try:
        yield Sshd(port=port, user="root", key=client.private_key, other_key=other.private_key, start=start)
    finally:
        for process in started:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        time.sleep(0)
