"""Domain errors: each one carries a one-line `tip` telling the user what to do."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, cast

from orchestrator.domain.tips import state_tip

if TYPE_CHECKING:
    from orchestrator.domain.states import State

_S = TypeVar("_S", bound="State")


def _rebuild(cls: type[DomainError], args: tuple[Any, ...], state: dict[str, Any]) -> DomainError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class DomainError(Exception):
    """Base class of every domain error."""

    def __init__(self, message: str, tip: str) -> None:
        super().__init__(message)
        self.tip = tip

    def __reduce__(self) -> tuple[Any, ...]:
        # Subclasses take other constructor arguments; pickle the state, not the signature.
        return (_rebuild, (type(self), self.args, self.__dict__))


class InvalidEnvironmentNameError(DomainError, ValueError):
    """An environment name that is not usable as LXD instance and Pulumi stack name."""

    def __init__(self, value: str, reason: str) -> None:
        super().__init__(
            f"invalid environment name {value!r}: {reason}",
            "use 1-63 lowercase letters, digits and dashes, starting with a letter, e.g. `staging-1`",
        )
        self.value = value
        self.reason = reason


class InvalidInstanceNameError(DomainError, ValueError):
    """An LXD instance name that LXD would reject."""

    def __init__(self, value: str, reason: str) -> None:
        super().__init__(
            f"invalid LXD instance name {value!r}: {reason}",
            "use 1-63 letters, digits and dashes, starting with a letter and not ending with a dash "
            "(the default `torrust-NAME` needs an environment name of at most 55 characters)",
        )
        self.value = value
        self.reason = reason


class InvalidSshCredentialsError(DomainError, ValueError):
    """SSH username or port out of range."""


class InvalidLxdTargetError(DomainError, ValueError):
    """An LXD target setting that cannot work."""


class InvalidInstanceIpError(DomainError, ValueError):
    """An instance address that is not an IP address."""


class InvalidFailureContextError(DomainError, ValueError):
    """A failure context that does not fit the transition it is given to."""


class InvalidTransitionError(DomainError):
    """A transition called on an environment in a state that does not allow it."""

    def __init__(self, env_name: str, actual: str, transition: str, required: str) -> None:
        super().__init__(
            f"cannot {transition} environment '{env_name}': it is in state {actual}, "
            f"and {transition} needs state {required}",
            state_tip(env_name, actual, required),
        )
        self.env_name = env_name
        self.actual = actual
        self.transition = transition
        self.required = required


class RegisteredHostError(DomainError):
    """`provision` on a host adopted with `register`: the tool did not create it and must not recreate it."""

    def __init__(self, env_name: str) -> None:
        super().__init__(
            f"environment '{env_name}' is a registered host; provision would create a new instance",
            f"run `torrust-deploy configure {env_name}` to configure the registered host",
        )


class WrongStateError(DomainError):
    """`require()` found the environment in another state than the command needs."""

    def __init__(self, env_name: str, actual: str, required: type[_S]) -> None:
        super().__init__(
            f"environment '{env_name}' is in state {actual}, but this needs state {required.tag}",
            state_tip(env_name, actual, required.tag),
        )
        self.env_name = env_name
        self.actual = actual
        self.required = cast("type[State]", required)
