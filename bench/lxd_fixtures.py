"""What the LXD benchmarks share: a key pair, environment configs, plain SSH, and cleanup of what they made.

Everything made here is named `bench-…` (environments) / `torrust-bench-…` (product instances and
profiles) / `bench-raw-…` (raw instances), and cleanup deletes only the names recorded in a `Made` list.
"""

from __future__ import annotations

import secrets
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.config import EnvironmentConfig, LxdSection, parse_config

DEFAULTS = LxdSection()
IMAGE_ALIAS = DEFAULTS.image_alias
SSH_USER = "torrust"


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class Keypair:
    private_key: Path

    @property
    def public_key_path(self) -> Path:
        return self.private_key.with_name(self.private_key.name + ".pub")

    @property
    def public_key(self) -> str:
        return self.public_key_path.read_text(encoding="utf-8").strip()


def make_keypair(directory: Path) -> Keypair:
    key = directory / "id_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "torrust-deploy-bench", "-f", str(key)],
        check=True,
        capture_output=True,
    )
    return Keypair(key)


def environment_config(name: str, keypair: Keypair, base_dir: Path) -> EnvironmentConfig:
    """A config for environment `name` with the bench key pair and the default (local socket) LXD target."""
    document = {
        "name": name,
        "ssh": {
            "private_key_path": str(keypair.private_key),
            "public_key_path": str(keypair.public_key_path),
            "username": SSH_USER,
        },
    }
    return parse_config(document, base_dir, source=f"bench config {name}")


def cloud_init_user_data(username: str, public_key: str) -> str:
    """The product's own cloud-config (from the shipped `stacks/environment.py`), so raw and product match."""
    from orchestrator.infrastructure.pulumi.lxd_provider import LxdConnection
    from orchestrator.infrastructure.pulumi.spec import StackSpec
    from orchestrator.infrastructure.pulumi.stacks import load_environment_module

    module = load_environment_module()
    spec = StackSpec(
        environment="bench",
        instance_name="bench",
        profile_name="bench",
        image_alias=IMAGE_ALIAS,
        instance_type="container",
        network=DEFAULTS.network,
        storage_pool=DEFAULTS.storage_pool,
        ssh_username=username,
        ssh_public_key=public_key,
        connection=LxdConnection(),
    )
    text: str = module.cloud_init_user_data(spec)
    return text


# --- plain SSH (the raw floor's transport) -------------------------------------------------------------


def ssh_argv(host: str, keypair: Keypair, *remote: str, username: str = SSH_USER) -> list[str]:
    """The same non-interactive ssh invocation the product uses (port 22)."""
    from orchestrator.infrastructure.ssh.wait import ssh_command

    return ssh_command(host, 22, username, keypair.private_key, *remote)


class RemoteCommandError(Exception):
    pass


def ssh_run(host: str, keypair: Keypair, command: str, timeout_s: float = 600.0) -> str:
    """Run `command` on `host` over one plain SSH connection; raise RemoteCommandError on failure."""
    result = subprocess.run(
        ssh_argv(host, keypair, command),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if result.returncode != 0:
        tail = (result.stderr.strip() or result.stdout.strip()).splitlines()[-3:]
        raise RemoteCommandError(f"`{command}` on {host} exited {result.returncode}: {' | '.join(tail)}")
    return result.stdout


def wait_ssh(host: str, keypair: Keypair, timeout_s: float = 120.0, poll_s: float = 0.1) -> int:
    """Poll `ssh true` until it succeeds; return the number of attempts."""
    deadline = time.monotonic() + timeout_s
    attempts = 0
    while True:
        attempts += 1
        result = subprocess.run(
            ssh_argv(host, keypair, "true"), capture_output=True, timeout=15, check=False, stdin=subprocess.DEVNULL
        )
        if result.returncode == 0:
            return attempts
        if time.monotonic() >= deadline:
            raise RemoteCommandError(f"{host} did not accept SSH within {timeout_s:.0f} s")
        time.sleep(poll_s)


# --- LXD ------------------------------------------------------------------------------------------------


def lxd_client() -> Any:
    import pylxd

    return pylxd.Client()


def eth0_ipv4(instance: Any) -> str | None:
    from orchestrator.infrastructure.pulumi.lxd_provider import eth0_ipv4 as product_eth0_ipv4

    return product_eth0_ipv4(instance)


def wait_ipv4(instance: Any, timeout_s: float = 120.0, poll_s: float = 0.1) -> str:
    deadline = time.monotonic() + timeout_s
    while True:
        ip = eth0_ipv4(instance)
        if ip:
            return ip
        if time.monotonic() >= deadline:
            raise RemoteCommandError(f"{instance.name} got no IPv4 on eth0 within {timeout_s:.0f} s")
        time.sleep(poll_s)


def delete_instance(client: Any, name: str) -> bool:
    """Stop (force) and delete instance `name` if it exists; True if it existed."""
    if not client.instances.exists(name):
        return False
    instance = client.instances.get(name)
    if instance.status == "Running":
        instance.stop(force=True, wait=True)
    instance.delete(wait=True)
    return True


def delete_profile(client: Any, name: str) -> bool:
    if not client.profiles.exists(name):
        return False
    client.profiles.get(name).delete()
    return True


@dataclass
class Made:
    """Names of what a benchmark created, so cleanup deletes exactly those and nothing else."""

    instances: list[str] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)
    environments: list[tuple[Path, str]] = field(default_factory=list)  # (working dir, environment name)

    def environment(self, working_dir: Path, name: str) -> None:
        """Record a product environment and the instance and profile its stack creates."""
        self.environments.append((working_dir, name))
        self.instances.append(f"torrust-{name}")
        self.profiles.append(f"torrust-{name}")

    def cleanup(self, log: Callable[[str], None] = print) -> None:
        """Destroy and purge recorded environments through the product, then delete leftovers by name."""
        from orchestrator.api import Deployer
        from orchestrator.domain import EnvironmentName

        for working_dir, name in self.environments:
            try:
                deployer = Deployer(working_dir=working_dir)
                if deployer.repository.exists(EnvironmentName(name)):
                    state = type(deployer.show(name).state).__name__
                    if state not in ("Created", "Destroyed"):
                        deployer.destroy(name)
                    deployer.purge(name, force=True)
            except Exception as error:  # cleanup goes on; leftovers are deleted from LXD below
                log(f"cleanup: environment {name}: {error}")
        try:
            client = lxd_client()
        except Exception as error:
            log(f"cleanup: cannot reach LXD: {error}")
            return
        for instance in self.instances:
            try:
                if delete_instance(client, instance):
                    log(f"cleanup: deleted leftover instance {instance}")
            except Exception as error:
                log(f"cleanup: instance {instance}: {error}")
        for profile in self.profiles:
            try:
                if delete_profile(client, profile):
                    log(f"cleanup: deleted leftover profile {profile}")
            except Exception as error:
                log(f"cleanup: profile {profile}: {error}")
        self.environments.clear()
        self.instances.clear()
        self.profiles.clear()
