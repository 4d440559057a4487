"""The plain `pulumi` CLI on an environment's stack, with no orchestrator program: login to the
environment's file backend, select its stack, refresh (drift seen), import an instance made with
`lxc launch`, destroy — from the shipped `stacks/plain` project, as the README says. `pulumi up` there
stops at the project's guard and changes nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from orchestrator.api import Deployer
from orchestrator.config import parse_config
from orchestrator.infrastructure.pulumi.toolchain import find_pulumi, lxd_plugin_dir
from orchestrator.resources import shipped_dir
from tests.e2e.infrastructure.pulumi.harness import unique
from tests.support.keys import SshKeypair

pytestmark = pytest.mark.e2e


def _plain_environment(home: Path) -> dict[str, str]:
    """What a user exports: the CLI (with the YAML host beside it) and the plugin on PATH, the passphrase of
    the tool's stacks (empty), no downloads, no registry, and a Pulumi home of the test's own."""
    toolchain = find_pulumi()
    return {
        "PATH": f"{toolchain.bin_dir}:{lxd_plugin_dir()}:/usr/bin:/bin",
        "HOME": str(home),
        "PULUMI_HOME": str(home / ".pulumi"),
        "PULUMI_CONFIG_PASSPHRASE": "",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_DISABLE_REGISTRY_RESOLVE": "true",
    }


def _state(pulumi: Any) -> dict[str, dict[str, Any]]:
    deployment = json.loads(pulumi("stack", "export").stdout)["deployment"]
    return {str(item["urn"]).rsplit("::", 1)[-1]: item for item in deployment["resources"]}


def test_plain_pulumi_refreshes_imports_and_destroys_an_environment_s_stack(
    tmp_path: Path, ssh_keypair: SshKeypair, lab: Any
) -> None:
    import pylxd

    client = pylxd.Client()
    name, launched = unique("plain"), unique("plainl")
    config = parse_config(
        {
            "name": name,
            "ssh": {
                "private_key_path": str(ssh_keypair.private_key),
                "public_key_path": str(ssh_keypair.public_key_path),
            },
        },
        tmp_path,
    )
    deployer = Deployer(working_dir=tmp_path / "work")
    environment = deployer.create(config)
    provisioner = deployer.adapters.provisioner
    provisioner.up(provisioner.prepare(environment.context))  # the environment's own stack and instance
    instance = environment.context.instance_name
    project = tmp_path / "plain"
    shutil.copytree(shipped_dir("stacks") / "plain", project)
    env = _plain_environment(tmp_path / "home")

    def pulumi(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["pulumi", *args], cwd=project, env=env, capture_output=True, text=True, check=check, timeout=300
        )

    try:
        pulumi("login", deployer.layout.pulumi_backend_dir(name).as_uri())
        pulumi("stack", "select", name)
        assert _state(pulumi)["instance"]["id"] == instance

        subprocess.run(["lxc", "stop", "--force", instance], check=True)
        pulumi("refresh", "--yes")
        assert _state(pulumi)["instance"]["outputs"]["status"] == "Stopped"

        subprocess.run(["lxc", "launch", lab.image_alias, launched], check=True, capture_output=True)
        provider = _state(pulumi)["lxd"]
        imported = pulumi(
            "import", "lxd:index:Instance", "launched", launched,
            "--provider", f"lxd={provider['urn']}", "--protect=false", "--yes",
        )  # fmt: skip
        assert "1 imported" in imported.stdout and "type: lxd:Instance" in imported.stdout  # the YAML it generated
        assert _state(pulumi)["launched"]["outputs"]["profiles"] == ["default"]

        guarded = pulumi("up", "--yes", check=False)
        assert guarded.returncode != 0 and "run-torrust-deploy-provision" in guarded.stdout + guarded.stderr
        assert set(_state(pulumi)) >= {"instance", "launched", "profile"}, "the guard changed nothing"

        schema = pulumi("package", "get-schema", str(lxd_plugin_dir() / "pulumi-resource-lxd"))
        assert set(json.loads(schema.stdout)["resources"]) == {"lxd:index:Instance", "lxd:index:Profile"}

        destroyed = pulumi("destroy", "--yes")
        assert "5 deleted" in destroyed.stdout  # the stack, the provider, the profile, both instances
        assert not client.instances.exists(instance) and not client.instances.exists(launched)
        assert not client.profiles.exists(environment.context.profile_name)
    finally:
        for leftover in (instance, launched):
            if client.instances.exists(leftover):
                subprocess.run(["lxc", "delete", "--force", leftover], check=False)
        if client.profiles.exists(environment.context.profile_name):
            client.profiles.get(environment.context.profile_name).delete()
