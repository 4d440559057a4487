"""The environment state machine: names, credentials, states, transitions. No I/O."""

from orchestrator.domain.context import EnvironmentContext
from orchestrator.domain.credentials import SshCredentials
from orchestrator.domain.environment import TRANSITION_LOGGER, AnyEnvironment, Environment
from orchestrator.domain.errors import (
    DomainError,
    InvalidEnvironmentNameError,
    InvalidFailureContextError,
    InvalidInstanceIpError,
    InvalidInstanceNameError,
    InvalidLxdTargetError,
    InvalidSshCredentialsError,
    InvalidTransitionError,
    WrongStateError,
)
from orchestrator.domain.failure import FailureContext
from orchestrator.domain.names import EnvironmentName, validate_instance_name
from orchestrator.domain.states import (
    STATE_TYPES,
    STATE_TYPES_BY_TAG,
    Configured,
    ConfigureFailed,
    Configuring,
    Created,
    Destroyed,
    DestroyFailed,
    Destroying,
    FailedState,
    Provisioned,
    ProvisionFailed,
    Provisioning,
    State,
)
from orchestrator.domain.steps import ConfigureStep, DestroyStep, ProvisionStep, Step
from orchestrator.domain.target import InstanceType, LxdTarget
from orchestrator.domain.transition import Command, Transition

__all__ = [
    "STATE_TYPES",
    "STATE_TYPES_BY_TAG",
    "TRANSITION_LOGGER",
    "AnyEnvironment",
    "Command",
    "ConfigureFailed",
    "ConfigureStep",
    "Configured",
    "Configuring",
    "Created",
    "DestroyFailed",
    "DestroyStep",
    "Destroyed",
    "Destroying",
    "DomainError",
    "Environment",
    "EnvironmentContext",
    "EnvironmentName",
    "FailedState",
    "FailureContext",
    "InstanceType",
    "InvalidEnvironmentNameError",
    "InvalidFailureContextError",
    "InvalidInstanceIpError",
    "InvalidInstanceNameError",
    "InvalidLxdTargetError",
    "InvalidSshCredentialsError",
    "InvalidTransitionError",
    "LxdTarget",
    "ProvisionFailed",
    "ProvisionStep",
    "Provisioned",
    "Provisioning",
    "SshCredentials",
    "State",
    "Step",
    "Transition",
    "WrongStateError",
    "validate_instance_name",
]
