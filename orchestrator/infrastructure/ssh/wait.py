"""Waits until a host accepts SSH with the environment's key (real key authentication, bounded)."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from orchestrator.domain import EnvironmentContext
from orchestrator.infrastructure.ssh.multiplexing import control_path, master_options

POLL_INTERVAL_S = 0.1
"""Until sshd listens, a TCP connect ends at once with "connection refused": polling often costs nothing and
answers up to ~0.4 s sooner than a 0.5 s poll did (measured by `python -m bench`, section deploy)."""
CONNECT_TIMEOUT_S = 5.0
"""How long one TCP connect may take (ssh's own ConnectTimeout below is the same)."""
AUTH_FAILURE_BACKOFF_S = 2.0
"""After a refused key, wait longer: OpenSSH >= 9.8 (trixie) penalizes sources that fail authentication
repeatedly (PerSourcePenalties) by refusing their connections for a while."""


class SshNotReadyError(Exception):
    """The host did not accept SSH with the key in time; `last_error` is ssh's last complaint."""

    def __init__(self, target: str, timeout_s: float, last_error: str, attempts: list[str]) -> None:
        super().__init__(f"{target} did not accept SSH with the key within {timeout_s:.0f} s: {last_error}")
        self.last_error = last_error
        self.tool_output = ["ssh attempts (elapsed s: outcome):", *attempts]


def ssh_command(
    host: str, port: int, username: str, private_key_path: Path, *remote: str, options: Sequence[str] = ()
) -> list[str]:
    """An `ssh` invocation that never prompts and trusts the freshly created host key."""
    return [
        "ssh",
        *options,
        "-i",
        str(private_key_path),
        "-p",
        str(port),
        "-o",
        "BatchMode=yes",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "LogLevel=ERROR",
        "-o",
        f"ConnectTimeout={CONNECT_TIMEOUT_S:.0f}",
        f"{username}@{host}",
        *remote,
    ]


class SshWaitInterruptedError(Exception):
    """The command was interrupted while waiting for SSH."""


def port_refusal(host: str, port: int, timeout_s: float = CONNECT_TIMEOUT_S) -> str | None:
    """None when a TCP connection to host:port opens (it is closed at once), else why not, in ssh's words.

    A connect costs a syscall where an `ssh` attempt costs a process and its start-up: the wait probes the
    port this way until something listens, and runs `ssh` only then."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return None
    except OSError as error:
        return f"ssh: connect to host {host} port {port}: {error.strerror or error}"


def wait_for_ssh(
    host: str,
    port: int,
    username: str,
    private_key_path: Path,
    timeout_s: float = 120.0,
    cancelled: Callable[[], bool] = lambda: False,
) -> float:
    """Return the seconds it took until `ssh … true` succeeded; raise SshNotReadyError at the deadline.

    While the port refuses connections, only TCP connects are made (`port_refusal`)."""
    started = time.monotonic()
    deadline = started + timeout_s
    options = master_options(control_path())  # the successful attempt leaves a connection for ansible
    last_error = "no attempt made"
    auth_error: str | None = None  # a refused key says more than what follows it (sshd penalizes retries)
    attempts: list[str] = []
    while True:
        refusal = port_refusal(host, port)
        if refusal is not None:
            last_error = refusal
        else:
            complaint = _try_ssh(host, port, username, private_key_path, options)
            if complaint is None:
                return time.monotonic() - started
            last_error = complaint
            if "Permission denied" in last_error:
                auth_error = last_error
        attempts.append(f"{time.monotonic() - started:6.1f}: {last_error}")
        if cancelled():
            raise SshWaitInterruptedError(f"interrupted while waiting for SSH on {host}:{port}")
        if time.monotonic() >= deadline:
            raise SshNotReadyError(f"{username}@{host}:{port}", timeout_s, auth_error or last_error, attempts)
        time.sleep(AUTH_FAILURE_BACKOFF_S if "Permission denied" in last_error else POLL_INTERVAL_S)


def _try_ssh(host: str, port: int, username: str, private_key_path: Path, options: Sequence[str]) -> str | None:
    """One `ssh … true`: None when it succeeded, else ssh's last complaint."""
    try:
        result = subprocess.run(
            ssh_command(host, port, username, private_key_path, "true", options=options),
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return "ssh timed out"
    if result.returncode == 0:
        return None
    return result.stderr.strip().splitlines()[-1] if result.stderr.strip() else f"exit {result.returncode}"


class SshWaiter:
    """The SshProbe adapter: waits for key authentication as the environment's user."""

    def __init__(self, cancelled: Callable[[], bool] | None = None) -> None:
        self._cancelled = cancelled or (lambda: False)

    def wait(self, context: EnvironmentContext, host: str, timeout_s: float) -> float:
        ssh = context.ssh
        return wait_for_ssh(host, ssh.port, ssh.username, ssh.private_key_path, timeout_s, self._cancelled)
