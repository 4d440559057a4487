"""The environment states: one small immutable class each; failed states carry a failure context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TypeAlias

from orchestrator.domain.failure import FailureContext


@dataclass(frozen=True, slots=True)
class Created:
    """Registered; nothing exists on the host yet."""

    tag: ClassVar[str] = "created"


@dataclass(frozen=True, slots=True)
class Provisioning:
    """`provision` is running (or died while running)."""

    tag: ClassVar[str] = "provisioning"


@dataclass(frozen=True, slots=True)
class Provisioned:
    """The LXD instance exists and answers SSH; cloud-init finished."""

    tag: ClassVar[str] = "provisioned"


@dataclass(frozen=True, slots=True)
class ProvisionFailed:
    """`provision` stopped at `failure.step`."""

    failure: FailureContext
    tag: ClassVar[str] = "provision_failed"


@dataclass(frozen=True, slots=True)
class Configuring:
    """`configure` is running (or died while running)."""

    tag: ClassVar[str] = "configuring"


@dataclass(frozen=True, slots=True)
class Configured:
    """Docker and Docker Compose are installed."""

    tag: ClassVar[str] = "configured"


@dataclass(frozen=True, slots=True)
class ConfigureFailed:
    """`configure` stopped at `failure.step`."""

    failure: FailureContext
    tag: ClassVar[str] = "configure_failed"


@dataclass(frozen=True, slots=True)
class Destroying:
    """`destroy` is running (or died while running)."""

    tag: ClassVar[str] = "destroying"


@dataclass(frozen=True, slots=True)
class Destroyed:
    """The infrastructure is gone."""

    tag: ClassVar[str] = "destroyed"


@dataclass(frozen=True, slots=True)
class DestroyFailed:
    """`destroy` stopped at `failure.step`."""

    failure: FailureContext
    tag: ClassVar[str] = "destroy_failed"


State: TypeAlias = (
    Created
    | Provisioning
    | Provisioned
    | ProvisionFailed
    | Configuring
    | Configured
    | ConfigureFailed
    | Destroying
    | Destroyed
    | DestroyFailed
)
FailedState: TypeAlias = ProvisionFailed | ConfigureFailed | DestroyFailed

STATE_TYPES: tuple[type[State], ...] = (
    Created,
    Provisioning,
    Provisioned,
    ProvisionFailed,
    Configuring,
    Configured,
    ConfigureFailed,
    Destroying,
    Destroyed,
    DestroyFailed,
)
STATE_TYPES_BY_TAG: dict[str, type[State]] = {cls.tag: cls for cls in STATE_TYPES}
