from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.domain import EnvironmentName
from orchestrator.persistence import (
    CorruptStateError,
    JsonFileRepository,
    PersistenceError,
    UnreadableStateError,
    UnsupportedSchemaError,
)
from tests.support.environments import BUILDERS, created

NAME = EnvironmentName("e2e")


def valid_document(repo: JsonFileRepository) -> dict[str, object]:
    repo.save(BUILDERS["provision_failed"]())
    document: dict[str, object] = json.loads(repo.state_path(NAME).read_text())
    return document


def write(repo: JsonFileRepository, raw: bytes) -> Path:
    path = repo.state_path(NAME)
    path.write_bytes(raw)
    return path


def replace(document: dict[str, object], **changes: object) -> bytes:
    return json.dumps({**document, **changes}).encode()


def without(document: dict[str, object], key: str) -> bytes:
    return json.dumps({k: v for k, v in document.items() if k != key}).encode()


@pytest.mark.parametrize(
    ("corrupt", "reason"),
    [
        (lambda d: b"{not json", "not valid JSON"),
        (lambda d: b"", "not valid JSON"),
        (lambda d: b"\xff\xfe", "not valid JSON"),
        (lambda d: b"[1, 2]", "expected a JSON object"),
        (lambda d: replace(d, state="mystery"), "unknown state 'mystery'"),
        (lambda d: without(d, "state"), "unknown state None"),
        (lambda d: without(d, "schema_version"), "schema_version is missing"),
        (lambda d: replace(d, schema_version=0), "unknown schema_version 0"),
        (lambda d: without(d, "context"), "context: Field required"),
        (lambda d: without(d, "failure"), "failure: Field required"),
        (lambda d: replace(d, state="created"), "failure: Extra inputs are not permitted"),
        (lambda d: replace(d, last_seq="many"), "last_seq"),
        (lambda d: replace(d, name="other"), "describes environment 'other', not 'e2e'"),
        (lambda d: replace(d, name="Bad Name"), "invalid environment name"),
        (lambda d: replace(d, state="provisioned"), "failure"),
    ],
)
def test_unreadable_state_file_is_a_clear_error_naming_the_file_and_left_untouched(
    repo: JsonFileRepository, corrupt: object, reason: str
) -> None:
    path = write(repo, corrupt(valid_document(repo)))  # type: ignore[operator]
    before = path.read_bytes()

    with pytest.raises(CorruptStateError) as caught:
        repo.load(NAME)

    assert str(path) in str(caught.value)
    assert reason in str(caught.value)
    assert str(path) in caught.value.tip
    assert caught.value.path == path
    assert path.read_bytes() == before


def test_provisioned_state_without_ip_is_corrupt(repo: JsonFileRepository) -> None:
    repo.save(BUILDERS["provisioned"]())
    document = json.loads(repo.state_path(NAME).read_text())
    document["context"]["instance_ip"] = None
    path = write(repo, json.dumps(document).encode())

    with pytest.raises(CorruptStateError, match="no instance IP"):
        repo.load(NAME)
    assert path.exists()


def test_newer_schema_version_is_unsupported_and_names_the_file(repo: JsonFileRepository) -> None:
    path = write(repo, replace(valid_document(repo), schema_version=3, new_field=True))

    with pytest.raises(UnsupportedSchemaError) as caught:
        repo.load(NAME)

    assert str(path) in str(caught.value)
    assert "schema_version 3" in str(caught.value)
    assert "upgrade torrust-deploy" in caught.value.tip
    assert (caught.value.found, caught.value.supported) == (3, 2)


@pytest.mark.parametrize("raw", [b"{not json", b'{"schema_version": 3}', b'{"schema_version": 2, "state": "mystery"}'])
def test_save_refuses_to_overwrite_an_unreadable_state_file(repo: JsonFileRepository, raw: bytes) -> None:
    repo.environment_dir(NAME).mkdir(parents=True)
    path = write(repo, raw)

    with pytest.raises(UnreadableStateError) as caught:
        repo.save(created())

    assert isinstance(caught.value, PersistenceError)
    assert caught.value.path == path
    assert path.read_bytes() == raw
    assert not repo.events_path(NAME).exists()


def test_a_corrupt_environment_is_still_listed_so_it_does_not_silently_disappear(
    repo: JsonFileRepository,
) -> None:
    repo.environment_dir(NAME).mkdir(parents=True)
    write(repo, b"garbage")

    assert repo.list() == [NAME]
    assert repo.exists(NAME)
