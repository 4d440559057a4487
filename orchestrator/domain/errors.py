"""The error base of torrust-deploy and the domain's errors: each carries a one-line `tip` and its exit code.

`DeployError` is the one base every error the user may see derives from (domain, persistence, config,
commands, api): message, tip, and the process exit code the CLI ends with. The CLI renders them; it maps
no error classes itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import Any

from orchestrator.domain import vocabulary
from orchestrator.domain.tips import state_tip


class ExitCode(IntEnum):
    """The process exit codes, defined once (docs and the CLI's table derive from `EXIT_CODE_MEANINGS`)."""

    OK = 0
    FAILED = 1
    USAGE = 2
    LOCKED = 3
    NOT_FOUND = 4
    DRIFT = 5
    INTERRUPTED = 130


EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "success",
    ExitCode.FAILED: "the command ran and failed (the environment is in a *Failed state; see the trace file), "
    "or an unexpected error",
    ExitCode.USAGE: "bad usage or invalid input: unknown option, invalid name or config file, unusable key, "
    "wrong state for the command, confirmation needed but stdin is not a terminal",
    ExitCode.LOCKED: "another torrust-deploy process holds the environment's lock (its PID is in the message)",
    ExitCode.NOT_FOUND: "no such environment in the working directory",
    ExitCode.DRIFT: "`check` found drift between the stored state and the LXD target",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C or SIGTERM); a command that was running records the step it stopped "
    "at as its failure first (see `show`)",
}


def _rebuild(cls: type[DeployError], args: tuple[Any, ...], state: dict[str, Any]) -> DeployError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class DeployError(Exception):
    """Base of every error torrust-deploy reports: a one-line message, a one-line `tip`, an exit code."""

    exit_code: ExitCode = ExitCode.FAILED
    """The exit code the CLI ends with; a class sets its own, an instance may refine it."""

    def __init__(self, message: str, tip: str) -> None:
        super().__init__(message)
        self.tip = tip

    def __reduce__(self) -> tuple[Any, ...]:
        # Subclasses take other constructor arguments; pickle the state, not the signature.
        return (_rebuild, (type(self), self.args, self.__dict__))


class DomainError(DeployError):
    """Base class of every domain error: invalid input or a wrong state (exit code 2)."""

    exit_code = ExitCode.USAGE


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
        needed = " or ".join(_shown(tag) for tag in required.split(" or "))
        super().__init__(
            f"cannot {transition} environment '{env_name}': it is in state {_shown(actual)}, "
            f"and {transition} needs state {needed}",
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


class NoTrackerError(DomainError):
    """`release` of an environment whose config has no tracker section."""

    def __init__(self, env_name: str) -> None:
        super().__init__(
            f"environment '{env_name}' has no tracker to release: its config has no `tracker` section",
            "create the environment from a config with a `tracker` section (`torrust-deploy create template` has one)",
        )


class WrongStateError(DomainError):
    """The environment is in a state the command does not start from."""

    def __init__(self, env_name: str, actual: str, required: type[Any] | str) -> None:
        if isinstance(required, str):  # a command: name every state it starts from
            accepted = vocabulary.ACCEPTED[required]
            needs = f"`{required}` starts from {_one_of(accepted)}"
            target = accepted[0]
        else:
            needs = f"this needs state {_shown(required.tag)}"
            target = required.tag
        super().__init__(
            f"environment '{env_name}' is in state {_shown(actual)}, but {needs}", state_tip(env_name, actual, target)
        )
        self.env_name = env_name
        self.actual = actual
        self.required = required


def _shown(tag: str) -> str:
    """A state as users see it everywhere (`ProvisionFailed`), from its stored tag."""
    return vocabulary.DISPLAY_NAME.get(tag, tag)


def _one_of(tags: Sequence[str]) -> str:
    names = [vocabulary.DISPLAY_NAME[tag] for tag in tags]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
