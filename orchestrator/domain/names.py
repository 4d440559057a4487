"""Validated names: environment names and LXD instance names."""

from __future__ import annotations

import re
from dataclasses import dataclass

from orchestrator.domain.errors import InvalidEnvironmentNameError, InvalidInstanceNameError

MAX_NAME_LENGTH = 63
_ENV_NAME = re.compile(r"[a-z](?:[a-z0-9-]*[a-z0-9])?")
_INSTANCE_NAME = re.compile(r"[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?")


def _name_problem(value: object, pattern: re.Pattern[str], allowed: str, described: str) -> str | None:
    if not isinstance(value, str):
        return f"expected a string, got {type(value).__name__}"
    if not value:
        return "it is empty"
    if len(value) > MAX_NAME_LENGTH:
        return f"it is {len(value)} characters long, the limit is {MAX_NAME_LENGTH}"
    if pattern.fullmatch(value) is not None:
        return None
    bad = [c for c in value if not (c.isascii() and re.fullmatch(f"[{allowed}]", c))]
    if bad:
        return f"it contains {bad[0]!r}; only {described} are allowed"
    if not value[0].isalpha():
        return "it must start with a letter"
    return "it must not end with a dash"


@dataclass(frozen=True, slots=True)
class EnvironmentName:
    """Name of an environment; also used as LXD instance suffix and Pulumi stack name."""

    value: str

    def __post_init__(self) -> None:
        problem = _name_problem(self.value, _ENV_NAME, "a-z0-9-", "lowercase letters, digits and dashes")
        if problem is not None:
            raise InvalidEnvironmentNameError(str(self.value), problem)

    def __str__(self) -> str:
        return self.value


def as_environment_name(value: object) -> EnvironmentName:
    """`value` as an EnvironmentName: an EnvironmentName as is, a `str` validated (InvalidEnvironmentNameError
    for a bad one); anything else is a TypeError that says what to pass."""
    if isinstance(value, EnvironmentName):
        return value
    if isinstance(value, str):
        return EnvironmentName(value)
    hint = "; pass its .name" if isinstance(getattr(value, "name", None), EnvironmentName) else ""
    raise TypeError(f"expected an environment name (an EnvironmentName or a str), got {type(value).__name__}{hint}")


def validate_instance_name(value: str) -> str:
    """Return `value` if LXD accepts it as an instance name, else raise InvalidInstanceNameError."""
    problem = _name_problem(value, _INSTANCE_NAME, "A-Za-z0-9-", "letters, digits and dashes")
    if problem is not None:
        raise InvalidInstanceNameError(str(value), problem)
    return value
