"""Every public `JsonFileRepository` method takes a plain `str` where it expects an EnvironmentName
(validated, with the same error as `EnvironmentName`), and says what to pass for anything else."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orchestrator.domain import EnvironmentName, InvalidEnvironmentNameError
from orchestrator.domain.names import as_environment_name
from orchestrator.persistence import JsonFileRepository
from tests.support.environments import created

NAME = EnvironmentName("e2e")


def _lock(repo: JsonFileRepository, name: Any) -> bool:
    with repo.lock(name):
        return repo.is_locked(name)


def _delete(repo: JsonFileRepository, name: Any) -> bool:
    repo.delete(name)
    return repo.exists(NAME)


METHODS: dict[str, Callable[[JsonFileRepository, Any], object]] = {
    "environment_dir": JsonFileRepository.environment_dir,
    "state_path": JsonFileRepository.state_path,
    "lock_path": JsonFileRepository.lock_path,
    "events_path": JsonFileRepository.events_path,
    "exists": JsonFileRepository.exists,
    "load": JsonFileRepository.load,
    "read_events": JsonFileRepository.read_events,
    "is_locked": JsonFileRepository.is_locked,
    "lock": _lock,
    "delete": _delete,
}


@pytest.fixture
def saved(repo: JsonFileRepository) -> JsonFileRepository:
    repo.save(created().start_destroying())
    return repo


@pytest.mark.parametrize("method", METHODS, ids=list(METHODS))
def test_a_str_name_does_what_the_environment_name_does(saved: JsonFileRepository, method: str) -> None:
    got = METHODS[method](saved, "e2e")
    expected = METHODS[method](saved, NAME)  # (delete: both calls see a deleted environment)

    assert got == expected
    assert got not in (None, [], False) or method in ("is_locked", "delete")


@pytest.mark.parametrize("method", METHODS, ids=list(METHODS))
def test_a_bad_str_name_raises_the_same_error_as_environment_name(saved: JsonFileRepository, method: str) -> None:
    with pytest.raises(InvalidEnvironmentNameError) as direct:
        EnvironmentName("Bad_Name")

    with pytest.raises(InvalidEnvironmentNameError) as caught:
        METHODS[method](saved, "Bad_Name")

    assert str(caught.value) == str(direct.value)
    assert caught.value.tip == direct.value.tip


@pytest.mark.parametrize("method", METHODS, ids=list(METHODS))
@pytest.mark.parametrize("wrong", [42, None, Path("e2e"), b"e2e"], ids=["int", "None", "Path", "bytes"])
def test_anything_else_is_a_type_error_that_says_what_to_pass(
    saved: JsonFileRepository, method: str, wrong: object
) -> None:
    with pytest.raises(TypeError, match=r"expected an environment name \(an EnvironmentName or a str\), got "):
        METHODS[method](saved, wrong)


def test_an_environment_where_a_name_is_expected_is_told_to_pass_its_name(saved: JsonFileRepository) -> None:
    env = saved.load(NAME)

    with pytest.raises(TypeError, match=r"got Environment; pass its \.name"):
        saved.load(env)  # type: ignore[arg-type]


def test_save_of_something_that_is_not_an_environment_is_a_type_error(repo: JsonFileRepository) -> None:
    with pytest.raises(TypeError, match=r"save\(\) takes an Environment .*got str"):
        repo.save("e2e")  # type: ignore[arg-type]


def test_list_returns_environment_names_and_the_data_dir_may_be_a_str(data_dir: Path) -> None:
    repo = JsonFileRepository(str(data_dir))
    repo.save(created())

    assert repo.list() == [NAME]
    assert repo.data_dir == data_dir


def test_as_environment_name_keeps_a_name_and_validates_a_str() -> None:
    assert as_environment_name(NAME) is NAME
    assert as_environment_name("e2e") == NAME
    with pytest.raises(InvalidEnvironmentNameError, match="it must start with a letter"):
        as_environment_name("1abc")
    with pytest.raises(TypeError, match="got int"):
        as_environment_name(1)
