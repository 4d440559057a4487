"""The environment state machine: names, credentials, states, transitions. No I/O.

Names are imported on first use (PEP 562), so that `orchestrator.domain.vocabulary` — the state
vocabulary the CLI's standard-library quick path reads — costs no more than itself.
"""

from __future__ import annotations

from importlib import import_module

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs the quick path
if TYPE_CHECKING:
    from typing import Any

    from orchestrator.domain.context import (
        EnvironmentContext,
    )
    from orchestrator.domain.credentials import (
        SshCredentials,
    )
    from orchestrator.domain.environment import (
        CONFIGURABLE,
        PROVISIONABLE,
        RELEASABLE,
        RUNNABLE,
        TRANSITION_LOGGER,
        AnyEnvironment,
        Configurable,
        Environment,
        Provisionable,
        Releasable,
        Runnable,
    )
    from orchestrator.domain.errors import (
        EXIT_CODE_MEANINGS,
        DeployError,
        DomainError,
        ExitCode,
        InvalidEnvironmentNameError,
        InvalidFailureContextError,
        InvalidInstanceIpError,
        InvalidInstanceNameError,
        InvalidLxdTargetError,
        InvalidSshCredentialsError,
        InvalidTransitionError,
        NoTrackerError,
        RegisteredHostError,
        WrongStateError,
    )
    from orchestrator.domain.failure import (
        FailureContext,
    )
    from orchestrator.domain.names import (
        EnvironmentName,
        validate_instance_name,
    )
    from orchestrator.domain.states import (
        FAILED_STATE_TYPES,
        IN_PROGRESS,
        STATE_TYPES,
        STATE_TYPES_BY_TAG,
        WITH_INSTANCE,
        Configured,
        ConfigureFailed,
        Configuring,
        Created,
        Destroyed,
        DestroyFailed,
        Destroying,
        FailedState,
        PlainState,
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
        display_name,
        states_accepted_by,
    )
    from orchestrator.domain.steps import (
        STEP_ENUMS,
        ConfigureStep,
        DestroyStep,
        ProvisionStep,
        ReleaseStep,
        RunStep,
        Step,
    )
    from orchestrator.domain.target import (
        InstanceType,
        LxdTarget,
    )
    from orchestrator.domain.tracker import (
        DEFAULT_TRACKER_VERSION,
        InvalidTrackerSettingsError,
        TrackerSettings,
    )
    from orchestrator.domain.transition import (
        Command,
        Transition,
    )

_WHERE = {
    "EnvironmentContext": "context",
    "SshCredentials": "credentials",
    "CONFIGURABLE": "environment",
    "PROVISIONABLE": "environment",
    "RELEASABLE": "environment",
    "RUNNABLE": "environment",
    "TRANSITION_LOGGER": "environment",
    "AnyEnvironment": "environment",
    "Configurable": "environment",
    "Environment": "environment",
    "Provisionable": "environment",
    "Releasable": "environment",
    "Runnable": "environment",
    "EXIT_CODE_MEANINGS": "errors",
    "DeployError": "errors",
    "DomainError": "errors",
    "ExitCode": "errors",
    "InvalidEnvironmentNameError": "errors",
    "InvalidFailureContextError": "errors",
    "InvalidInstanceIpError": "errors",
    "InvalidInstanceNameError": "errors",
    "InvalidLxdTargetError": "errors",
    "InvalidSshCredentialsError": "errors",
    "InvalidTransitionError": "errors",
    "NoTrackerError": "errors",
    "RegisteredHostError": "errors",
    "WrongStateError": "errors",
    "FailureContext": "failure",
    "EnvironmentName": "names",
    "validate_instance_name": "names",
    "FAILED_STATE_TYPES": "states",
    "IN_PROGRESS": "states",
    "STATE_TYPES": "states",
    "STATE_TYPES_BY_TAG": "states",
    "WITH_INSTANCE": "states",
    "Configured": "states",
    "ConfigureFailed": "states",
    "Configuring": "states",
    "Created": "states",
    "Destroyed": "states",
    "DestroyFailed": "states",
    "Destroying": "states",
    "FailedState": "states",
    "PlainState": "states",
    "Provisioned": "states",
    "ProvisionFailed": "states",
    "Provisioning": "states",
    "Released": "states",
    "ReleaseFailed": "states",
    "Releasing": "states",
    "RunFailed": "states",
    "Running": "states",
    "Starting": "states",
    "State": "states",
    "display_name": "states",
    "states_accepted_by": "states",
    "STEP_ENUMS": "steps",
    "ConfigureStep": "steps",
    "DestroyStep": "steps",
    "ProvisionStep": "steps",
    "ReleaseStep": "steps",
    "RunStep": "steps",
    "Step": "steps",
    "InstanceType": "target",
    "LxdTarget": "target",
    "DEFAULT_TRACKER_VERSION": "tracker",
    "InvalidTrackerSettingsError": "tracker",
    "TrackerSettings": "tracker",
    "Command": "transition",
    "Transition": "transition",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"orchestrator.domain.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "CONFIGURABLE",
    "DEFAULT_TRACKER_VERSION",
    "EXIT_CODE_MEANINGS",
    "FAILED_STATE_TYPES",
    "IN_PROGRESS",
    "PROVISIONABLE",
    "RELEASABLE",
    "RUNNABLE",
    "STATE_TYPES",
    "STATE_TYPES_BY_TAG",
    "STEP_ENUMS",
    "TRANSITION_LOGGER",
    "WITH_INSTANCE",
    "AnyEnvironment",
    "Command",
    "Configurable",
    "ConfigureFailed",
    "ConfigureStep",
    "Configured",
    "Configuring",
    "Created",
    "DeployError",
    "DestroyFailed",
    "DestroyStep",
    "Destroyed",
    "Destroying",
    "DomainError",
    "Environment",
    "EnvironmentContext",
    "EnvironmentName",
    "ExitCode",
    "FailedState",
    "FailureContext",
    "InstanceType",
    "InvalidEnvironmentNameError",
    "InvalidFailureContextError",
    "InvalidInstanceIpError",
    "InvalidInstanceNameError",
    "InvalidLxdTargetError",
    "InvalidSshCredentialsError",
    "InvalidTrackerSettingsError",
    "InvalidTransitionError",
    "LxdTarget",
    "NoTrackerError",
    "PlainState",
    "ProvisionFailed",
    "ProvisionStep",
    "Provisionable",
    "Provisioned",
    "Provisioning",
    "RegisteredHostError",
    "Releasable",
    "ReleaseFailed",
    "ReleaseStep",
    "Released",
    "Releasing",
    "RunFailed",
    "RunStep",
    "Runnable",
    "Running",
    "SshCredentials",
    "Starting",
    "State",
    "Step",
    "TrackerSettings",
    "Transition",
    "WrongStateError",
    "display_name",
    "states_accepted_by",
    "validate_instance_name",
]
