from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path

import pytest

from orchestrator.domain import (
    ConfigureFailed,
    DestroyFailed,
    EnvironmentName,
    LxdTarget,
    ProvisionFailed,
)
from orchestrator.persistence import EnvironmentRepository, JsonFileRepository
from tests.support.environments import BUILDERS, created


@pytest.mark.parametrize("tag", list(BUILDERS))
def test_every_state_survives_save_and_load(repo: JsonFileRepository, tag: str) -> None:
    env = BUILDERS[tag]()

    repo.save(env)
    loaded = repo.load(env.name)

    assert loaded == env
    assert loaded is not None
    assert type(loaded.state) is type(env.state)
    assert loaded.context == env.context
    assert loaded.state_since == env.state_since
    assert loaded.last_seq == env.last_seq
    assert loaded.pending_transitions == ()


@pytest.mark.parametrize("tag", ["provision_failed", "configure_failed", "destroy_failed"])
def test_failure_context_survives_save_and_load(repo: JsonFileRepository, tag: str) -> None:
    env = BUILDERS[tag]()
    repo.save(env)

    loaded = repo.load(env.name)

    assert loaded is not None
    assert isinstance(loaded.state, ProvisionFailed | ConfigureFailed | DestroyFailed)
    assert isinstance(env.state, ProvisionFailed | ConfigureFailed | DestroyFailed)
    assert loaded.state.failure == env.state.failure
    assert type(loaded.state.failure.step) is type(env.state.failure.step)
    assert loaded.state.failure.started_at.tzinfo == UTC
    assert loaded.state.failure.duration == env.state.failure.duration


def test_non_default_context_survives_save_and_load(repo: JsonFileRepository) -> None:
    lxd = LxdTarget(
        endpoint="https://lxd.example:8443",
        client_cert_path=Path("/certs/client.crt"),
        client_key_path=Path("/certs/client.key"),
        server_cert_path=Path("/certs/server.crt"),
        image_alias="images:debian/13",
        instance_type="virtual-machine",
        profile_name="shared-profile",
        network="br1",
        storage_pool="fast",
    )
    env = created("remote", lxd).start_provisioning().complete_provisioning("fd42::7")
    repo.save(env)

    loaded = repo.load(env.name)

    assert loaded is not None
    assert loaded.context.lxd == lxd
    assert loaded.instance_ip == "fd42::7"
    assert loaded.context.created_at.tzinfo == UTC


def test_state_file_is_readable_json_with_schema_version_and_state_tag(repo: JsonFileRepository) -> None:
    env = BUILDERS["provision_failed"]()
    repo.save(env)

    document = json.loads(repo.state_path(env.name).read_text())

    assert document["schema_version"] == 2
    assert document["state"] == "provision_failed"
    assert document["last_seq"] == 3
    assert document["failure"]["step"] == "wait_cloud_init"
    assert document["context"]["ssh"]["private_key_path"] == "/keys/id_ed25519"


def test_load_of_an_unknown_environment_is_none(repo: JsonFileRepository) -> None:
    assert repo.load(EnvironmentName("nothing")) is None
    assert not repo.exists(EnvironmentName("nothing"))


def test_exists_list_and_delete(repo: JsonFileRepository, data_dir: Path) -> None:
    for name in ("zeta", "alpha", "mid"):
        repo.save(created(name))
    (data_dir / "not a name").mkdir()
    (data_dir / "empty").mkdir()
    (data_dir / "stray.txt").write_text("x")

    assert [str(n) for n in repo.list()] == ["alpha", "mid", "zeta"]
    assert repo.exists(EnvironmentName("mid"))

    repo.delete(EnvironmentName("mid"))

    assert not repo.environment_dir(EnvironmentName("mid")).exists()
    assert [str(n) for n in repo.list()] == ["alpha", "zeta"]
    assert repo.load(EnvironmentName("mid")) is None
    repo.delete(EnvironmentName("mid"))  # deleting twice is fine


def test_list_of_a_missing_data_dir_is_empty(tmp_path: Path) -> None:
    assert JsonFileRepository(tmp_path / "missing").list() == []


def test_environment_dir_is_data_dir_slash_name(repo: JsonFileRepository, data_dir: Path) -> None:
    assert repo.environment_dir(EnvironmentName("e2e")) == data_dir / "e2e"


def test_json_file_repository_implements_the_protocol(repo: JsonFileRepository) -> None:
    protocol_typed: EnvironmentRepository = repo
    protocol_typed.save(created())

    assert protocol_typed.list() == [EnvironmentName("e2e")]
