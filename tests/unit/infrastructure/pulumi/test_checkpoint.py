"""Reading a stack's checkpoint without the CLI: which instances a destroy deletes (what is deleted ahead of
the engine), whether the state still records anything, creating a new stack's files and removing an
emptied stack's files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from orchestrator.infrastructure.pulumi.checkpoint import (
    RecordedInstance,
    checkpoint_files,
    create_stack_files,
    instances_destroy_deletes,
    read_checkpoint,
    records_resources,
    remove_stack_files,
)
from orchestrator.infrastructure.pulumi.lxd_connection import LxdConnection
from orchestrator.infrastructure.pulumi.stacks import EarlyInstanceDelete

STACK = "urn:pulumi:env::torrust-deploy::"
PROVIDER = STACK + "pulumi:providers:lxd::lxd"


def _state(*resources: dict[str, Any], pending: list[Any] | None = None) -> dict[str, Any]:
    latest: dict[str, Any] = {"manifest": {}, "resources": list(resources)}
    if pending:
        latest["pending_operations"] = pending
    return {"version": 3, "checkpoint": {"stack": "organization/torrust-deploy/env", "latest": latest}}


def _provider(inputs: dict[str, Any] | None = None, urn: str = PROVIDER) -> dict[str, Any]:
    item: dict[str, Any] = {"urn": urn, "custom": True, "id": "uuid-1", "type": "pulumi:providers:lxd"}
    if inputs:
        item["inputs"] = inputs
    return item


def _instance(name: str, provider: str = PROVIDER, **flags: Any) -> dict[str, Any]:
    return {
        "urn": STACK + f"lxd:index:Instance::{name}",
        "custom": True,
        "id": name,
        "type": "lxd:index:Instance",
        "provider": f"{provider}::uuid-1",
        **flags,
    }


def test_the_instances_a_destroy_deletes_are_those_of_the_lxd_provider_not_protected_or_retained() -> None:
    state = _state(
        _provider(),
        {"urn": STACK + "lxd:index:Profile::profile", "custom": True, "id": "p", "type": "lxd:index:Profile"},
        _instance("box"),
        _instance("kept", protect=True),
        _instance("retained", retainOnDelete=True),
        _instance("read", external=True),
        _instance("old", delete=True),
        _instance("elsewhere", provider=STACK + "pulumi:providers:lxd::other"),
    )
    assert instances_destroy_deletes(state) == [RecordedInstance("box", "")]


def test_a_remote_provider_names_its_remote_and_a_socket_path_is_not_read() -> None:
    remote = _state(_provider({"remote": "https://lxd:8443", "clientKey": {"secret": "…"}}), _instance("box"))
    assert instances_destroy_deletes(remote) == [RecordedInstance("box", "https://lxd:8443")]
    socket = _state(_provider({"socketPath": "/other/unix.socket"}), _instance("box"))
    assert instances_destroy_deletes(socket) == []


def test_only_instances_on_the_environment_s_lxd_target_are_deleted_ahead_of_the_engine(tmp_path: Path) -> None:
    stacks = tmp_path / ".pulumi" / "stacks" / "torrust-deploy"
    stacks.mkdir(parents=True)
    (stacks / "env.json").write_text(json.dumps(_state(_provider({"remote": "https://a:8443"}), _instance("box"))))
    files = checkpoint_files(tmp_path, "env")
    assert EarlyInstanceDelete.for_checkpoint(files, LxdConnection(endpoint="https://a:8443")).names == ["box"]
    assert EarlyInstanceDelete.for_checkpoint(files, LxdConnection(endpoint="https://b:8443")).names == []
    assert EarlyInstanceDelete.for_checkpoint(files, LxdConnection()).names == []
    (stacks / "env.json").write_text("{not json")
    assert EarlyInstanceDelete.for_checkpoint(files, LxdConnection(endpoint="https://a:8443")).names == []


def test_a_destroyed_state_records_nothing_and_a_pending_operation_counts() -> None:
    destroyed = {"version": 3, "checkpoint": {"stack": "s", "latest": {"manifest": {}, "secrets_providers": {}}}}
    assert not records_resources(destroyed)
    assert records_resources(_state(_provider()))
    assert records_resources(_state(pending=[{"type": "creating"}]))


@pytest.mark.parametrize("layout", ["torrust-deploy/", ""], ids=["projects", "legacy"])
def test_removing_a_stack_s_files_leaves_the_backend_and_other_stacks(tmp_path: Path, layout: str) -> None:
    pulumi = tmp_path / ".pulumi"
    stacks = pulumi / "stacks" / layout
    stacks.mkdir(parents=True)
    (pulumi / "meta.yaml").write_text("version: 1\n")
    names = ["env.json", "env.json.attrs", "env.json.bak", "env.json.bak.attrs", "env.pulumi-tags", "env2.json"]
    for name in names:
        (stacks / name).write_text("{}")
    for kind in ("history", "backups"):
        (pulumi / kind / layout / "env").mkdir(parents=True)
        (pulumi / kind / layout / "env" / "env-1.history.json").write_text("{}")
        (pulumi / kind / layout / "env2").mkdir(parents=True)
    [checkpoint] = checkpoint_files(tmp_path, "env")
    remove_stack_files(tmp_path, checkpoint)
    assert checkpoint_files(tmp_path, "env") == []
    assert sorted(path.name for path in stacks.iterdir() if path.is_file()) == ["env2.json"]
    assert not (pulumi / "history" / layout / "env").exists() and not (pulumi / "backups" / layout / "env").exists()
    assert (pulumi / "history" / layout / "env2").is_dir() and (pulumi / "meta.yaml").is_file()


def test_a_gzipped_checkpoint_is_found_and_read(tmp_path: Path) -> None:
    stacks = tmp_path / ".pulumi" / "stacks" / "torrust-deploy"
    stacks.mkdir(parents=True)
    (stacks / "env.json.gz").write_bytes(gzip.compress(json.dumps(_state(_provider(), _instance("box"))).encode()))
    (stacks / "env.json.bak").write_text("{}")  # a backup is not a checkpoint
    [found] = checkpoint_files(tmp_path, "env")
    assert found.name == "env.json.gz"
    assert instances_destroy_deletes(read_checkpoint(found)) == [RecordedInstance("box", "")]


def test_a_new_backend_gets_the_projects_layout_and_a_stack_never_deployed(tmp_path: Path) -> None:
    assert create_stack_files(tmp_path, "torrust-deploy", "env")
    assert (tmp_path / ".pulumi" / "meta.yaml").read_text() == "version: 1\n"
    [checkpoint] = checkpoint_files(tmp_path, "env")
    assert checkpoint == tmp_path / ".pulumi" / "stacks" / "torrust-deploy" / "env.json"
    document = read_checkpoint(checkpoint)
    assert document == {"version": 3, "checkpoint": {"stack": "organization/torrust-deploy/env", "latest": None}}
    assert not records_resources(document)
    assert sorted(path.name for path in checkpoint.parent.iterdir()) == ["env.json"]  # no temporary file left
    assert {oct(path.stat().st_mode & 0o777) for path in (checkpoint, tmp_path / ".pulumi" / "meta.yaml")} == {"0o600"}


def test_a_stack_is_added_beside_others_of_a_projects_layout_backend(tmp_path: Path) -> None:
    assert create_stack_files(tmp_path, "torrust-deploy", "one")
    assert create_stack_files(tmp_path, "torrust-deploy", "two")
    assert sorted(path.name for path in (tmp_path / ".pulumi" / "stacks" / "torrust-deploy").iterdir()) == [
        "one.json",
        "two.json",
    ]


def test_an_existing_stack_is_never_written_over(tmp_path: Path) -> None:
    assert create_stack_files(tmp_path, "torrust-deploy", "env")
    [checkpoint] = checkpoint_files(tmp_path, "env")
    checkpoint.write_text(json.dumps(_state(_provider(), _instance("box"))))

    assert not create_stack_files(tmp_path, "torrust-deploy", "env")
    assert records_resources(read_checkpoint(checkpoint))


@pytest.mark.parametrize(
    "meta", [None, "version: 0\n", "version: 2\n"], ids=["legacy-without-meta", "legacy", "unknown-layout"]
)
def test_a_backend_in_another_layout_is_left_to_the_cli(tmp_path: Path, meta: str | None) -> None:
    pulumi = tmp_path / ".pulumi"
    (pulumi / "stacks").mkdir(parents=True)
    if meta is not None:
        (pulumi / "meta.yaml").write_text(meta)

    assert not create_stack_files(tmp_path, "torrust-deploy", "env")
    assert checkpoint_files(tmp_path, "env") == []
    assert (pulumi / "meta.yaml").exists() == (meta is not None)


def test_a_backend_directory_that_does_not_exist_is_left_to_the_cli(tmp_path: Path) -> None:
    assert not create_stack_files(tmp_path / "missing", "torrust-deploy", "env")
    assert not (tmp_path / "missing").exists()
