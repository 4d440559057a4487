from __future__ import annotations

import pytest

from orchestrator.domain import (
    DomainError,
    EnvironmentName,
    InvalidEnvironmentNameError,
    InvalidInstanceNameError,
    validate_instance_name,
)


@pytest.mark.parametrize("value", ["a", "e2e", "staging-1", "a1-b2-c3", "a" * 63, "x-y-z"])
def test_environment_name_accepts_lowercase_letters_digits_and_dashes(value: str) -> None:
    name = EnvironmentName(value)

    assert str(name) == value
    assert name.value == value


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "empty"),
        ("..", "'.'"),
        ("/", "'/'"),
        ("a/b", "'/'"),
        ("../etc", "'.'"),
        ("a b", "' '"),
        (" a", "' '"),
        ("a\n", "'\\n'"),
        ("a_b", "'_'"),
        ("a.b", "'.'"),
        ("ümlaut", "'ü'"),
        ("naïve", "'ï'"),
        ("日本", "'日'"),
        ("a" * 64, "64 characters"),
        ("Staging", "'S'"),
        ("STAGING", "'S'"),
        ("1abc", "start with a letter"),
        ("-abc", "start with a letter"),
        ("abc-", "end with a dash"),
    ],
)
def test_environment_name_rejects_unusable_names_with_reason_and_tip(value: str, reason: str) -> None:
    with pytest.raises(InvalidEnvironmentNameError) as caught:
        EnvironmentName(value)

    assert reason in str(caught.value)
    assert caught.value.tip
    assert "\n" not in caught.value.tip
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, DomainError)


def test_environment_name_is_a_value_object() -> None:
    assert EnvironmentName("a") == EnvironmentName("a")
    assert len({EnvironmentName("a"), EnvironmentName("a")}) == 1
    with pytest.raises(AttributeError):
        EnvironmentName("a").value = "b"  # type: ignore[misc]


@pytest.mark.parametrize("value", ["torrust-e2e", "Torrust-E2E", "a" * 63])
def test_instance_name_accepts_lxd_names(value: str) -> None:
    assert validate_instance_name(value) == value


@pytest.mark.parametrize("value", ["", "1vm", "-vm", "vm-", "vm_1", "vm.1", "a" * 64])
def test_instance_name_rejects_names_lxd_refuses(value: str) -> None:
    with pytest.raises(InvalidInstanceNameError) as caught:
        validate_instance_name(value)

    assert caught.value.tip
