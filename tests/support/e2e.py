"""What the lifecycle e2e tests share besides fixtures (tests/e2e/commands/conftest.py): the type of the
`make_config` fixture, and running a command on an instance over SSH."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from typing import Any

from orchestrator.api import Deployer
from orchestrator.config import EnvironmentConfig
from orchestrator.infrastructure.pulumi.toolchain import find_pulumi
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


def plain_pulumi(deployer: Deployer, name: str, *args: str) -> Any:
    """Run the plain `pulumi` CLI against the environment's file backend; parse its JSON output."""
    toolchain = find_pulumi()
    result = subprocess.run(
        [str(toolchain.cli), *args],
        cwd=deployer.layout.working_dir,  # no Pulumi.yaml there: stack names are fully qualified
        capture_output=True,
        text=True,
        check=True,
        env={
            **toolchain.environment(),
            "PULUMI_BACKEND_URL": deployer.layout.pulumi_backend_dir(name).as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": "",
        },
    )
    return json.loads(result.stdout)


def stacks_in_backend(deployer: Deployer, name: str) -> list[str]:
    """The stacks the plain CLI lists in the environment's backend."""
    return [str(stack["name"]) for stack in plain_pulumi(deployer, name, "stack", "ls", "--all", "--json")]
