"""The environment states: one small immutable class each; failed states carry a failure context.

Tags, display names and groups come from `vocabulary.STATES` (the class name is the display name).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TypeAlias, TypeVar

from orchestrator.domain import vocabulary
from orchestrator.domain.failure import FailureContext

_C = TypeVar("_C", bound=type)


def _state(cls: _C) -> _C:
    """Give a state class its tag from the vocabulary (its name is the display name)."""
    cls.tag = vocabulary.TAG_OF[cls.__name__]  # type: ignore[attr-defined]
    return cls


@_state
@dataclass(frozen=True, slots=True)
class Created:
    """Registered; nothing exists on the host yet."""

    tag: ClassVar[str]


@_state
@dataclass(frozen=True, slots=True)
class Provisioning:
    """`provision` is running (or died while running)."""

    tag: ClassVar[str]


@_state
@dataclass(frozen=True, slots=True)
class Provisioned:
    """The LXD instance exists and answers SSH; cloud-init finished."""

    tag: ClassVar[str]


@_state
@dataclass(frozen=True, slots=True)
class ProvisionFailed:
    """`provision` stopped at `failure.step`."""

    failure: FailureContext
    tag: ClassVar[str]


@_state
@dataclass(frozen=True, slots=True)
class Configuring:
    """`configure` is running (or died while running)."""

    tag: ClassVar[str]


@_state
@dataclass(frozen=True, slots=True)
class Configured:
    """Docker and Docker Compose are installed."""

    tag: ClassVar[str]


@_state
@dataclass(frozen=True, slots=True)
class ConfigureFailed:
    """`configure` stopped at `failure.step`."""

    failure: FailureContext
    tag: ClassVar[str]


@_state
@dataclass(frozen=True, slots=True)
class Releasing:
    """`release` is running (or died while running)."""

    tag: ClassVar[str]


@_state
@dataclass(frozen=True, slots=True)
class Released:
    """The tracker's compose stack, config and image are on the host."""

    tag: ClassVar[str]


@_state
@dataclass(frozen=True, slots=True)
class ReleaseFailed:
    """`release` stopped at `failure.step`."""

    failure: FailureContext
    tag: ClassVar[str]


@_state
@dataclass(frozen=True, slots=True)
class Starting:
    """`run` is starting the tracker (or died while doing so)."""

    tag: ClassVar[str]


@_state
@dataclass(frozen=True, slots=True)
class Running:
    """The tracker runs on the host and its health check passed."""

    tag: ClassVar[str]


@_state
@dataclass(frozen=True, slots=True)
class RunFailed:
    """`run` stopped at `failure.step`."""

    failure: FailureContext
    tag: ClassVar[str]


@_state
@dataclass(frozen=True, slots=True)
class Destroying:
    """`destroy` is running (or died while running)."""

    tag: ClassVar[str]


@_state
@dataclass(frozen=True, slots=True)
class Destroyed:
    """The infrastructure is gone."""

    tag: ClassVar[str]


@_state
@dataclass(frozen=True, slots=True)
class DestroyFailed:
    """`destroy` stopped at `failure.step`."""

    failure: FailureContext
    tag: ClassVar[str]


State: TypeAlias = (
    Created
    | Provisioning
    | Provisioned
    | ProvisionFailed
    | Configuring
    | Configured
    | ConfigureFailed
    | Releasing
    | Released
    | ReleaseFailed
    | Starting
    | Running
    | RunFailed
    | Destroying
    | Destroyed
    | DestroyFailed
)
FailedState: TypeAlias = ProvisionFailed | ConfigureFailed | ReleaseFailed | RunFailed | DestroyFailed
PlainState: TypeAlias = (
    Created
    | Provisioning
    | Provisioned
    | Configuring
    | Configured
    | Releasing
    | Released
    | Starting
    | Running
    | Destroying
    | Destroyed
)

_CLASSES: dict[str, type[State]] = {
    cls.__name__: cls
    for cls in (
        Created,
        Provisioning,
        Provisioned,
        ProvisionFailed,
        Configuring,
        Configured,
        ConfigureFailed,
        Releasing,
        Released,
        ReleaseFailed,
        Starting,
        Running,
        RunFailed,
        Destroying,
        Destroyed,
        DestroyFailed,
    )
}
STATE_TYPES: tuple[type[State], ...] = tuple(_CLASSES[display] for _, display, _, _ in vocabulary.STATES)
"""Every state class, in the vocabulary's order."""
STATE_TYPES_BY_TAG: dict[str, type[State]] = {cls.tag: cls for cls in STATE_TYPES}
FAILED_STATE_TYPES: tuple[type[FailedState], ...] = tuple(
    STATE_TYPES_BY_TAG[tag]  # type: ignore[misc]
    for tag in vocabulary.FAILED_TAGS
)
IN_PROGRESS: tuple[type[State], ...] = tuple(STATE_TYPES_BY_TAG[tag] for tag in vocabulary.IN_PROGRESS_TAGS)
"""In-progress states: found without a live lock holder they mean the run was interrupted."""
WITH_INSTANCE: tuple[type[State], ...] = tuple(STATE_TYPES_BY_TAG[tag] for tag in vocabulary.WITH_INSTANCE)
"""States in which the instance exists and its address is recorded."""


def states_accepted_by(command: str) -> tuple[type[State], ...]:
    """The states `command` starts from."""
    return tuple(STATE_TYPES_BY_TAG[tag] for tag in vocabulary.ACCEPTED[command])


def display_name(tag: str) -> str:
    """`ProvisionFailed` for `provision_failed`; unknown tags are shown as they are."""
    return vocabulary.DISPLAY_NAME.get(tag, tag)
