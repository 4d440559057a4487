"""Fixtures for the lifecycle e2e tests: a Deployer on a temp working dir and environments that are
always cleaned up (destroyed through the tool, then any leftover instance/profile deleted from LXD)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.api import Deployer
from orchestrator.config import EnvironmentConfig, parse_config
from tests.support.e2e import MakeConfig
from tests.support.keys import SshKeypair


def unique_name(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


@pytest.fixture
def deployer(tmp_path: Path, lab: Any) -> Deployer:
    return Deployer(working_dir=tmp_path / "work", ssh_timeout_s=60.0)


@pytest.fixture
def lxd_client(lab: Any) -> Any:
    import pylxd

    return pylxd.Client()


@pytest.fixture
def make_config(tmp_path: Path, ssh_keypair: SshKeypair, deployer: Deployer, lxd_client: Any) -> Iterator[MakeConfig]:
    """Builds configs for fresh environments; every environment made is destroyed at the end."""
    made: list[EnvironmentConfig] = []

    def make(
        prefix: str, *, public_key: Path | None = None, tracker: dict[str, Any] | None = None, **lxd: Any
    ) -> EnvironmentConfig:
        document: dict[str, Any] = {
            "name": unique_name(prefix),
            "ssh": {
                "private_key_path": str(ssh_keypair.private_key),
                "public_key_path": str(public_key or ssh_keypair.private_key.with_suffix(".pub")),
            },
            "lxd": lxd,
        }
        if tracker is not None:
            document["tracker"] = tracker
        config = parse_config(document, tmp_path)
        made.append(config)
        return config

    yield make
    for config in made:
        try:
            if deployer.repository.exists(config.environment_name()):
                deployer.destroy(config.name)
        except Exception as error:  # cleanup must go on; the test already reported what matters
            print(f"cleanup: destroy of {config.name} failed: {error}")
        instance_name = config.instance_name or f"torrust-{config.name}"
        if lxd_client.instances.exists(instance_name):
            instance = lxd_client.instances.get(instance_name)
            if instance.status == "Running":
                instance.stop(force=True, wait=True)
            instance.delete(wait=True)
        profile = config.lxd.profile_name or f"torrust-{config.name}"
        if lxd_client.profiles.exists(profile):
            lxd_client.profiles.get(profile).delete()
