"""`Environment[S]`: an environment in state S; transitions return new objects and are typed by state."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from ipaddress import ip_address
from typing import Any, Generic, TypeAlias, TypeVar, cast

from orchestrator.domain.context import DriftNote, EnvironmentContext
from orchestrator.domain.credentials import SshCredentials
from orchestrator.domain.errors import (
    InvalidFailureContextError,
    InvalidInstanceIpError,
    InvalidTransitionError,
    NoTrackerError,
    RegisteredHostError,
    WrongStateError,
)
from orchestrator.domain.failure import FailureContext
from orchestrator.domain.names import EnvironmentName, validate_instance_name
from orchestrator.domain.states import (
    STATE_TYPES,
    WITH_INSTANCE,
    Configured,
    ConfigureFailed,
    Configuring,
    Created,
    Destroyed,
    DestroyFailed,
    Destroying,
    Provisioned,
    ProvisionFailed,
    Provisioning,
    Released,
    ReleaseFailed,
    Releasing,
    RunFailed,
    Running,
    Starting,
    State,
    states_accepted_by,
)
from orchestrator.domain.steps import ConfigureStep, DestroyStep, ProvisionStep, ReleaseStep, RunStep, Step
from orchestrator.domain.target import LxdTarget
from orchestrator.domain.tracker import TrackerSettings
from orchestrator.domain.transition import Command, Transition

S_co = TypeVar("S_co", bound=State, covariant=True)
T = TypeVar("T", bound=State)

TRANSITION_LOGGER = "orchestrator.transitions"
_log = logging.getLogger(TRANSITION_LOGGER)

# The states each command starts from, as types (mypy) and as classes (run time, from the vocabulary);
# tests/unit/domain checks that each pair agrees.
Provisionable: TypeAlias = (
    Created
    | ProvisionFailed
    | Provisioned
    | Configured
    | ConfigureFailed
    | Released
    | ReleaseFailed
    | Running
    | RunFailed
)
PROVISIONABLE = states_accepted_by("provision")
Configurable: TypeAlias = Provisioned | ConfigureFailed | Configured | Released | ReleaseFailed | Running | RunFailed
CONFIGURABLE = states_accepted_by("configure")
Releasable: TypeAlias = Configured | ReleaseFailed | Released | Running | RunFailed
RELEASABLE = states_accepted_by("release")
Runnable: TypeAlias = Released | RunFailed | Running
RUNNABLE = states_accepted_by("run")


class Environment(Generic[S_co]):
    """An environment in state `S_co`. Build with `new()` (or `restore()` when loading); never mutated."""

    __slots__ = ("_context", "_last_seq", "_pending", "_state", "_state_since")

    _context: EnvironmentContext
    _state: S_co
    _state_since: datetime
    _last_seq: int
    _pending: tuple[Transition, ...]

    def __init__(
        self,
        context: EnvironmentContext,
        state: S_co,
        *,
        state_since: datetime,
        last_seq: int,
        pending: tuple[Transition, ...] = (),
    ) -> None:
        if not isinstance(state, STATE_TYPES):
            raise TypeError(f"not an environment state: {state!r}")
        if state_since.tzinfo is None:
            raise ValueError("state_since must be timezone-aware")
        if last_seq < 0:
            raise ValueError("last_seq must not be negative")
        if isinstance(state, WITH_INSTANCE) and context.instance_ip is None:
            raise InvalidInstanceIpError(
                f"environment '{context.name}' is {state.tag} but has no instance IP",
                "an environment that was provisioned always records its instance address",
            )
        for slot, value in (
            ("_context", context),
            ("_state", state),
            ("_state_since", state_since),
            ("_last_seq", last_seq),
            ("_pending", pending),
        ):
            object.__setattr__(self, slot, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Environment is immutable; cannot set {name}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Environment):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"Environment[{type(self._state).__name__}](name={self.name.value!r}, "
            f"state={self._state!r}, last_seq={self._last_seq})"
        )

    def _key(self) -> tuple[Any, ...]:
        return (self._context, self._state, self._state_since, self._last_seq)

    # -- construction -------------------------------------------------------------------------------

    @classmethod
    def new(
        cls,
        name: EnvironmentName,
        ssh: SshCredentials,
        lxd: LxdTarget | None = None,
        instance_name: str | None = None,
        tracker: TrackerSettings | None = None,
    ) -> Environment[Created]:
        """A newly created environment (records the `create` transition)."""
        if not isinstance(name, EnvironmentName):
            raise TypeError("name must be an EnvironmentName")
        if not isinstance(ssh, SshCredentials):
            raise TypeError("ssh must be SshCredentials")
        if tracker is not None and not isinstance(tracker, TrackerSettings):
            raise TypeError("tracker must be TrackerSettings or None")
        now = datetime.now(UTC)
        context = EnvironmentContext(
            name=name,
            instance_name=validate_instance_name(f"torrust-{name}" if instance_name is None else instance_name),
            ssh=ssh,
            lxd=LxdTarget() if lxd is None else lxd,
            instance_ip=None,
            created_at=now,
            tracker=tracker,
        )
        created = Transition(seq=1, from_state=None, to_state=Created.tag, at=now, command="create")
        _emit(name, created)
        return Environment(context, Created(), state_since=now, last_seq=1, pending=(created,))

    @staticmethod
    def restore(context: EnvironmentContext, state: State, *, state_since: datetime, last_seq: int) -> AnyEnvironment:
        """Rebuild a persisted environment (no pending transitions); its state is known only at run time."""
        return cast("AnyEnvironment", Environment(context, state, state_since=state_since, last_seq=last_seq))

    # -- read access --------------------------------------------------------------------------------

    @property
    def context(self) -> EnvironmentContext:
        """Everything known about the environment apart from its state."""
        return self._context

    @property
    def state(self) -> S_co:
        """The current state object."""
        return self._state

    @property
    def name(self) -> EnvironmentName:
        """The environment name."""
        return self._context.name

    @property
    def instance_ip(self) -> str | None:
        """The instance address, known once provisioned."""
        return self._context.instance_ip

    @property
    def state_since(self) -> datetime:
        """When the environment entered its current state."""
        return self._state_since

    @property
    def last_seq(self) -> int:
        """Sequence number of the last transition (persisted; the audit log's ordering key)."""
        return self._last_seq

    @property
    def pending_transitions(self) -> tuple[Transition, ...]:
        """Transitions made since this object's history was created or loaded (not yet known to be saved)."""
        return self._pending

    def require(self, state: type[T]) -> Environment[T]:
        """This environment typed as `Environment[state]`, or WrongStateError telling what to run first."""
        if isinstance(self._state, state):
            return cast("Environment[T]", self)
        raise WrongStateError(str(self.name), self._state.tag, state)

    def with_drift(self, findings: tuple[str, ...], checked_at: datetime) -> Environment[S_co]:
        """This environment, same state, noting what a `check` found (no findings: the note is cleared).
        No transition: saving it appends nothing to the history."""
        drift = DriftNote(checked_at, findings) if findings else None
        return Environment(
            replace(self._context, drift=drift),
            self._state,
            state_since=self._state_since,
            last_seq=self._last_seq,
            pending=self._pending,
        )

    def check_accepted_by(self, command: str) -> None:
        """Raise WrongStateError naming every state `command` starts from, unless it starts from this one."""
        if not isinstance(self._state, states_accepted_by(command)):
            raise WrongStateError(str(self.name), self._state.tag, command)

    # -- transitions --------------------------------------------------------------------------------

    def start_provisioning(self: Environment[Provisionable], reason: str | None = None) -> Environment[Provisioning]:
        """Created → Provisioning; also a retry from ProvisionFailed, and a repair (re-converge the
        instance) from Provisioned, Configured or ConfigureFailed. Not for a registered host."""
        self._guard(PROVISIONABLE, "start_provisioning")
        if self._context.registered:
            raise RegisteredHostError(str(self.name))
        return self._to(Provisioning(), "provision", reason=reason)

    def start_registering(self: Environment[Created]) -> Environment[Provisioning]:
        """Created → Provisioning for adopting an existing host (no infrastructure is created)."""
        self._guard(Created, "start_registering")
        return self._to(Provisioning(), "register")

    def complete_registration(
        self: Environment[Provisioning], ip: str, ssh_port: int | None = None
    ) -> Environment[Provisioned]:
        """Provisioning → Provisioned for a registered host, recording its address and SSH port."""
        self._guard(Provisioning, "complete_registration")
        ssh = self._context.ssh if ssh_port is None else replace(self._context.ssh, port=ssh_port)
        context = replace(self._context, instance_ip=_address(ip), ssh=ssh, registered=True)
        return self._to(Provisioned(), "register", context=context)

    def complete_provisioning(self: Environment[Provisioning], ip: str) -> Environment[Provisioned]:
        """Provisioning → Provisioned, recording the instance address."""
        self._guard(Provisioning, "complete_provisioning")
        return self._to(Provisioned(), "provision", context=replace(self._context, instance_ip=_address(ip)))

    def fail_provisioning(self: Environment[Provisioning], failure: FailureContext) -> Environment[ProvisionFailed]:
        """Provisioning → ProvisionFailed."""
        self._guard(Provisioning, "fail_provisioning")
        _check_step(failure, ProvisionStep, "fail_provisioning")
        return self._to(ProvisionFailed(failure), "provision", step=failure.step_name)

    def start_configuring(self: Environment[Configurable], reason: str | None = None) -> Environment[Configuring]:
        """Provisioned → Configuring; also a retry from ConfigureFailed and a re-run from Configured, and a
        repair under a released or running tracker (Docker stopped behind the tool's back): the playbooks
        are idempotent; `release` and `run` then follow."""
        self._guard(CONFIGURABLE, "start_configuring")
        return self._to(Configuring(), "configure", reason=reason)

    def complete_configuring(self: Environment[Configuring]) -> Environment[Configured]:
        """Configuring → Configured."""
        self._guard(Configuring, "complete_configuring")
        return self._to(Configured(), "configure")

    def fail_configuring(self: Environment[Configuring], failure: FailureContext) -> Environment[ConfigureFailed]:
        """Configuring → ConfigureFailed."""
        self._guard(Configuring, "fail_configuring")
        _check_step(failure, ConfigureStep, "fail_configuring")
        return self._to(ConfigureFailed(failure), "configure", step=failure.step_name)

    def start_releasing(
        self: Environment[Releasable], tracker: TrackerSettings | None = None, reason: str | None = None
    ) -> Environment[Releasing]:
        """Configured → Releasing; also a retry from ReleaseFailed and a re-release from Released, Running
        or RunFailed. `tracker`, when given, replaces the tracker's settings (a new version or config)."""
        self._guard(RELEASABLE, "start_releasing")
        if tracker is not None and not isinstance(tracker, TrackerSettings):
            raise TypeError("tracker must be TrackerSettings or None")
        context = self._context if tracker is None else replace(self._context, tracker=tracker)
        if context.tracker is None:
            raise NoTrackerError(str(self.name))
        return self._to(Releasing(), "release", context=context, reason=reason)

    def complete_releasing(self: Environment[Releasing]) -> Environment[Released]:
        """Releasing → Released."""
        self._guard(Releasing, "complete_releasing")
        return self._to(Released(), "release")

    def fail_releasing(self: Environment[Releasing], failure: FailureContext) -> Environment[ReleaseFailed]:
        """Releasing → ReleaseFailed."""
        self._guard(Releasing, "fail_releasing")
        _check_step(failure, ReleaseStep, "fail_releasing")
        return self._to(ReleaseFailed(failure), "release", step=failure.step_name)

    def start_running(self: Environment[Runnable], reason: str | None = None) -> Environment[Starting]:
        """Released → Starting; also a retry from RunFailed and a restart from Running."""
        self._guard(RUNNABLE, "start_running")
        return self._to(Starting(), "run", reason=reason)

    def complete_running(self: Environment[Starting]) -> Environment[Running]:
        """Starting → Running."""
        self._guard(Starting, "complete_running")
        return self._to(Running(), "run")

    def fail_running(self: Environment[Starting], failure: FailureContext) -> Environment[RunFailed]:
        """Starting → RunFailed."""
        self._guard(Starting, "fail_running")
        _check_step(failure, RunStep, "fail_running")
        return self._to(RunFailed(failure), "run", step=failure.step_name)

    def start_destroying(self) -> Environment[Destroying]:
        """Any state → Destroying."""
        return self._to(Destroying(), "destroy")

    def complete_destroying(self: Environment[Destroying]) -> Environment[Destroyed]:
        """Destroying → Destroyed; the instance address is forgotten."""
        self._guard(Destroying, "complete_destroying")
        return self._to(Destroyed(), "destroy", context=replace(self._context, instance_ip=None))

    def fail_destroying(self: Environment[Destroying], failure: FailureContext) -> Environment[DestroyFailed]:
        """Destroying → DestroyFailed."""
        self._guard(Destroying, "fail_destroying")
        _check_step(failure, DestroyStep, "fail_destroying")
        return self._to(DestroyFailed(failure), "destroy", step=failure.step_name)

    def _guard(self, expected: type[State] | tuple[type[State], ...], transition: str) -> None:
        # The static type of a loaded environment may not match its state; check at run time too.
        if not isinstance(self._state, expected):
            accepted = expected if isinstance(expected, tuple) else (expected,)
            required = " or ".join(state.tag for state in accepted)
            raise InvalidTransitionError(str(self.name), self._state.tag, transition, required)

    def _to(
        self,
        state: T,
        command: Command,
        *,
        step: str | None = None,
        context: EnvironmentContext | None = None,
        reason: str | None = None,
    ) -> Environment[T]:
        now = datetime.now(UTC)
        transition = Transition(
            seq=self._last_seq + 1,
            from_state=self._state.tag,
            to_state=state.tag,
            at=now,
            command=command,
            step=step,
            duration_in_previous_state_s=max(0.0, (now - self._state_since).total_seconds()),
            reason=reason,
        )
        moved = Environment(
            replace(self._context if context is None else context, drift=None),  # a command ran since the check
            state,
            state_since=now,
            last_seq=transition.seq,
            pending=(*self._pending, transition),
        )
        _emit(self.name, transition)
        return moved


def _address(ip: str) -> str:
    try:
        return str(ip_address(ip))
    except ValueError:
        raise InvalidInstanceIpError(
            f"invalid instance IP address {ip!r}",
            "pass the IPv4 address that LXD reports for the instance",
        ) from None


def _check_step(failure: FailureContext, expected: type[Step], transition: str) -> None:
    if not isinstance(failure, FailureContext):
        raise TypeError(f"{transition} needs a FailureContext")
    if failure.step is not None and not isinstance(failure.step, expected):
        raise InvalidFailureContextError(
            f"{transition} got a failure at step {failure.step.value!r}, which is not a {expected.__name__}",
            f"build the failure context with a {expected.__name__} member",
        )


def _emit(name: EnvironmentName, transition: Transition) -> None:
    duration = transition.duration_in_previous_state_s
    if transition.from_state is None:
        message = f"environment {name}: created"
    else:
        message = (
            f"environment {name}: {transition.from_state} -> {transition.to_state} "
            f"after {duration:.3f} s in {transition.from_state}"
        )
    _log.info(
        message,
        extra={
            "environment": name.value,
            "from_state": transition.from_state,
            "to_state": transition.to_state,
            "duration_s": duration,
            "command": transition.command,
            "step": transition.step,
            "seq": transition.seq,
            "reason": transition.reason,
        },
    )


AnyEnvironment: TypeAlias = (
    Environment[Created]
    | Environment[Provisioning]
    | Environment[Provisioned]
    | Environment[ProvisionFailed]
    | Environment[Configuring]
    | Environment[Configured]
    | Environment[ConfigureFailed]
    | Environment[Releasing]
    | Environment[Released]
    | Environment[ReleaseFailed]
    | Environment[Starting]
    | Environment[Running]
    | Environment[RunFailed]
    | Environment[Destroying]
    | Environment[Destroyed]
    | Environment[DestroyFailed]
)
