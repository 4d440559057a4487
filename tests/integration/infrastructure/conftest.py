"""A real sshd on loopback (a free port, a temp host key, root login with a temp key only)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SSHD = Path("/usr/sbin/sshd")


@dataclass(frozen=True)
class Sshd:
    port: int
    user: str
    key: Path
    other_key: Path
    start: object  # () -> None, starts the daemon (tests may wait for SSH before starting it)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _keygen(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[Sshd]:
    if not SSHD.exists() or os.geteuid() != 0:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("the sshd integration tests need /usr/sbin/sshd and root (scripts/test.sh installs it)")
        pytest.skip("needs /usr/sbin/sshd and root")
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    port = _free_port()
    host_key = _keygen(tmp_path / "host_key")
    key, other = _keygen(tmp_path / "client_key"), _keygen(tmp_path / "other_key")
    authorized = tmp_path / "authorized_keys"
    authorized.write_text(key.with_suffix(".pub").read_text())
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
        yield Sshd(port=port, user="root", key=key, other_key=other, start=start)
    finally:
        for process in started:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        time.sleep(0)
