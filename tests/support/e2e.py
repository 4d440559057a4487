"""What the lifecycle e2e tests share besides fixtures (tests/e2e/commands/conftest.py): the type of the
`make_config` fixture, and running a command on an instance over SSH."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

from orchestrator.config import EnvironmentConfig
from orchestrator.infrastructure.ssh.wait import ssh_command

MakeConfig = Callable[..., EnvironmentConfig]
"""`make_config(prefix, *, public_key=None, tracker=None, **lxd)`: a config for a fresh environment (with a
`tracker` section when given), destroyed at the end."""


def ssh_run(config: EnvironmentConfig, host: str, *command: str) -> subprocess.CompletedProcess[str]:
    """Run a command on the instance over SSH as the environment's user, with its key."""
    return subprocess.run(
        ssh_command(host, config.ssh.port, config.ssh.username, config.ssh.private_key_path, *command),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )
