"""A checkpoint written by the old LXD dynamic provider (recorded from a real stack before it was removed)
becomes a `pulumi-lxd` one: same resources, ids and outputs, no pickled provider left, the connection
moved to the explicit provider (its client key a secret), and nothing the next `up` would change."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from orchestrator.infrastructure.pulumi.lxd_connection import LxdConnection
from orchestrator.infrastructure.pulumi.migration import SECRET_SIG, needs_migration, translate
from pulumi_lxd.plugin.rules import check_instance, check_profile, diff_instance, diff_profile

RECORDED = Path(__file__).with_name("fixtures") / "dynamic-provider-stack.json"
STACK = "urn:pulumi:mig-rec::torrust-deploy::"


def _recorded() -> dict[str, Any]:
    deployment: dict[str, Any] = json.loads(RECORDED.read_text(encoding="utf-8"))
    return deployment


def _by_type(deployment: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["type"]: item for item in deployment["resources"]}


def test_the_dynamic_resources_become_the_plugin_s_profile_and_instance_with_the_same_ids_and_outputs() -> None:
    old = _by_type(_recorded())["pulumi-python:dynamic:Resource"]  # the last one: the instance
    migrated = translate(_recorded())
    assert [item["type"] for item in migrated["resources"]] == [
        "pulumi:pulumi:Stack",
        "pulumi:providers:lxd",
        "lxd:index:Profile",
        "lxd:index:Instance",
    ]
    found = _by_type(migrated)
    provider, profile, instance = found["pulumi:providers:lxd"], found["lxd:index:Profile"], found["lxd:index:Instance"]
    assert provider["urn"] == STACK + "pulumi:providers:lxd::lxd"
    assert profile["urn"] == STACK + "lxd:index:Profile::profile"
    assert instance["urn"] == STACK + "lxd:index:Instance::instance"
    assert (profile["id"], instance["id"]) == ("torrust-mig-rec", old["id"])
    assert instance["provider"] == profile["provider"] == f"{provider['urn']}::{provider['id']}"
    assert instance["dependencies"] == [profile["urn"]]
    assert instance["propertyDependencies"]["profiles"] == [profile["urn"]]
    assert "image_alias" not in instance["propertyDependencies"] and "image" in instance["propertyDependencies"]
    assert instance["outputs"]["ipv4"] == old["outputs"]["ipv4"] == "10.200.77.51"
    assert instance["outputs"]["status"] == "Running"
    assert provider.get("inputs") == {}  # the local socket


def test_nothing_of_the_pickled_provider_or_the_dynamic_types_is_left() -> None:
    text = json.dumps(translate(_recorded()))
    for leftover in ("__provider", "pulumi-python", "gASV", "image_alias", "ready_timeout_s", "endpoint"):
        assert leftover not in text


def test_the_next_up_of_the_program_finds_nothing_to_change() -> None:
    found = _by_type(translate(_recorded()))
    profile, instance = found["lxd:index:Profile"], found["lxd:index:Instance"]
    user_data = instance["inputs"]["config"]["user.user-data"]
    program_instance, failures = check_instance(
        {
            "name": "torrust-mig-rec",
            "image": "torrust-trixie",
            "type": "container",
            "profiles": ["torrust-mig-rec"],
            "config": {"user.user-data": user_data},
            "ipv4TimeoutSeconds": 180.0,
        }
    )
    assert failures == []
    assert instance["inputs"] == program_instance
    assert not diff_instance(instance["outputs"], program_instance).changes
    program_profile, _ = check_profile(
        {"name": "torrust-mig-rec", "config": {"security.nesting": "true"}, "devices": profile["inputs"]["devices"]}
    )
    assert profile["inputs"] == program_profile
    assert not diff_profile(profile["outputs"], program_profile).changes


def test_an_https_connection_moves_to_the_provider_with_the_client_key_as_a_secret(tmp_path: Path) -> None:
    files = {name: tmp_path / name for name in ("client.crt", "client.key", "server.crt")}
    for name, path in files.items():
        path.write_text(f"-----BEGIN {name}-----\n", encoding="utf-8")
    connection = LxdConnection(
        "https://127.0.0.1:18443", str(files["client.crt"]), str(files["client.key"]), str(files["server.crt"])
    )
    deployment = _recorded()
    for item in deployment["resources"]:
        if item["type"] == "pulumi-python:dynamic:Resource":
            for key in ("inputs", "outputs"):
                item[key].update(connection.as_props())
    provider = _by_type(translate(deployment))["pulumi:providers:lxd"]
    assert provider["inputs"] == {
        "remote": "https://127.0.0.1:18443",
        "clientCert": "-----BEGIN client.crt-----\n",
        "clientKey": {**SECRET_SIG, "plaintext": json.dumps("-----BEGIN client.key-----\n")},
        "serverCert": "-----BEGIN server.crt-----\n",
    }
    assert provider["outputs"] == provider["inputs"]


def test_pending_operations_are_moved_too_and_a_migrated_or_new_stack_is_left_alone() -> None:
    deployment = _recorded()
    instance = copy.deepcopy(deployment["resources"][-1])
    deployment["pending_operations"] = [{"resource": instance, "type": "creating"}]
    migrated = translate(deployment)
    (operation,) = migrated["pending_operations"]
    assert operation["resource"]["type"] == "lxd:index:Instance" and operation["type"] == "creating"
    assert translate(migrated) == migrated
    assert translate({"manifest": {}, "resources": []}) == {"manifest": {}, "resources": []}


def test_needs_migration_reads_only_the_checkpoint_file(tmp_path: Path) -> None:
    backend = tmp_path / "pulumi"
    assert not needs_migration(backend, "mig-rec")
    checkpoint = backend / ".pulumi" / "stacks" / "torrust-deploy" / "mig-rec.json"
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_text(json.dumps({"checkpoint": {"latest": _recorded()}}), encoding="utf-8")
    assert needs_migration(backend, "mig-rec")
    assert not needs_migration(backend, "other")
    checkpoint.write_text(json.dumps({"checkpoint": {"latest": translate(_recorded())}}), encoding="utf-8")
    assert not needs_migration(backend, "mig-rec")
