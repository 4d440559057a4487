"""What the LXD benchmarks share: a key pair, environment configs, plain SSH and scp, the tracker's release
rendered for the raw floor, the lab's storage pool, and cleanup of what they made.

Everything made here is named `bench-…` (environments) / `torrust-bench-…` (product instances and
profiles) / `bench-raw-…` (raw instances), and cleanup deletes only the names recorded in a `Made` list.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
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


def environment_config(
    name: str, keypair: Keypair, base_dir: Path, *, pool: str | None = None, tracker: bool = True
) -> EnvironmentConfig:
    """A config for environment `name` with the bench key pair, the default (local socket) LXD target on
    storage pool `pool` (None: the config's default) and the default tracker (so `deploy` ends Running)."""
    document: dict[str, Any] = {
        "name": name,
        "ssh": {
            "private_key_path": str(keypair.private_key),
            "public_key_path": str(keypair.public_key_path),
            "username": SSH_USER,
        },
    }
    if pool is not None:
        document["lxd"] = {"storage_pool": pool}
    if tracker:
        document["tracker"] = {}
    return parse_config(document, base_dir, source=f"bench config {name}")


def lab_pool() -> str:
    """The lab's storage pool: the one the default profile's root disk is on (what `lab status` reports)."""
    from orchestrator.lab.local_lab import Lab

    return Lab().status().storage_pool


def pool_driver(client: Any, pool: str) -> str:
    return str(client.storage_pools.get(pool).driver)


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


def scp_argv(host: str, keypair: Keypair, sources: Sequence[Path], target_dir: str) -> list[str]:
    """`scp` with the same options as the product's ssh (one connection for every file)."""
    ssh = ssh_argv(host, keypair)
    options = ssh[1 : ssh.index("-p")] + ssh[ssh.index("-p") + 2 : -1]  # -i KEY and the -o options
    return ["scp", "-q", "-P", "22", *options, *(str(p) for p in sources), f"{SSH_USER}@{host}:{target_dir}"]


class RemoteCommandError(Exception):
    pass


def scp_files(host: str, keypair: Keypair, sources: Sequence[Path], target_dir: str = "/tmp/") -> None:
    result = subprocess.run(
        scp_argv(host, keypair, sources, target_dir), capture_output=True, text=True, check=False, timeout=300
    )
    if result.returncode != 0:
        raise RemoteCommandError(f"scp to {host} exited {result.returncode}: {result.stderr.strip()[-300:]}")


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


def wait_health(host: str, port: int, timeout_s: float = 120.0, poll_s: float = 0.1) -> int:
    """Poll the tracker's `GET /health_check` until it answers `"status": "Ok"`; return the attempts."""
    deadline = time.monotonic() + timeout_s
    attempts = 0
    while True:
        attempts += 1
        try:
            with urllib.request.urlopen(f"http://{host}:{port}/health_check", timeout=2) as reply:
                if json.loads(reply.read()).get("status") == "Ok":
                    return attempts
        except (OSError, ValueError, urllib.error.URLError):
            pass
        if time.monotonic() >= deadline:
            raise RemoteCommandError(f"the tracker on {host}:{port} was not healthy within {timeout_s:.0f} s")
        time.sleep(poll_s)


# --- the tracker's release, rendered for the raw floor ---------------------------------------------------


@dataclass(frozen=True)
class RawRelease:
    """The product's release files (same renderer, same image) for the raw floor's scp."""

    files: tuple[Path, ...]  # compose, config, env
    archive: Path
    tag: str
    import_changes: tuple[str, ...]
    health_check_port: int

    def load_command(self, remote_dir: str = "/tmp") -> str:
        """Install the files where the product puts them and `docker import` the image, in one shell line."""
        import shlex

        from orchestrator.infrastructure.tracker.release import REMOTE_RELEASE_DIR

        compose, config, env = (f"{remote_dir}/{p.name}" for p in self.files)
        changes = " ".join(f"--change {shlex.quote(change)}" for change in self.import_changes)
        archive = f"{remote_dir}/{self.archive.name}"
        return (
            f"set -e; sudo install -d -m 0750 {REMOTE_RELEASE_DIR}; "
            f"sudo install -m 0644 {compose} {config} {REMOTE_RELEASE_DIR}/; "
            f"sudo install -m 0600 {env} {REMOTE_RELEASE_DIR}/; "
            f"sudo docker import {changes} {archive} {shlex.quote(self.tag)} >/dev/null; rm -f {archive}"
        )

    def files_command(self, remote_dir: str = "/tmp") -> str:
        """Install changed files (a re-release: the image is there already)."""
        from orchestrator.infrastructure.tracker.release import REMOTE_RELEASE_DIR

        compose, config, env = (f"{remote_dir}/{p.name}" for p in self.files)
        return (
            f"set -e; sudo install -m 0644 {compose} {config} {REMOTE_RELEASE_DIR}/; "
            f"sudo install -m 0600 {env} {REMOTE_RELEASE_DIR}/"
        )


def compose_up_command() -> str:
    from orchestrator.infrastructure.tracker.release import COMPOSE_FILE, COMPOSE_PROJECT, REMOTE_RELEASE_DIR

    return f"sudo docker compose --project-name {COMPOSE_PROJECT} --file {REMOTE_RELEASE_DIR}/{COMPOSE_FILE} up -d"


def raw_release(out_dir: Path, token: str, settings: Any = None) -> RawRelease:
    """Render the tracker's release with the product's renderer (default settings unless `settings`)."""
    from orchestrator.domain.tracker import TrackerSettings
    from orchestrator.infrastructure.tracker.artifact import TrackerArtifacts
    from orchestrator.infrastructure.tracker.release import render_release

    tracker = settings or TrackerSettings()
    image = TrackerArtifacts().ensure_image(tracker.version)
    files = render_release(tracker, image.tag, token, out_dir)
    return RawRelease(
        (files.compose, files.config, files.env),
        image.archive,
        image.tag,
        tuple(image.changes),
        tracker.health_check_port,
    )


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
