"""Reads the environment's host over SSH without changing anything (Docker's state, for drift checks).

Uses the OpenSSH master connection the SSH wait left when there is one (cheap), and plain SSH otherwise.
"""

from __future__ import annotations

import subprocess

from orchestrator.domain import EnvironmentContext
from orchestrator.infrastructure.ssh.multiplexing import control_path, master_options
from orchestrator.infrastructure.ssh.wait import ssh_command

TIMEOUT_S = 20.0


class SshHostProbe:
    def docker_running(self, context: EnvironmentContext) -> bool:
        if not context.instance_ip:
            return False
        argv = ssh_command(
            context.instance_ip,
            context.ssh.port,
            context.ssh.username,
            context.ssh.private_key_path,
            "systemctl is-active --quiet docker",
            options=master_options(control_path()),
        )
        try:
            result = subprocess.run(argv, capture_output=True, timeout=TIMEOUT_S, check=False, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired):
            return False
        return result.returncode == 0
