"""Persistence of environments: the repository protocol and its crash-safe, locked JSON implementation."""

from orchestrator.persistence.errors import (
    CorruptStateError,
    LockTimeoutError,
    PersistenceError,
    StaleStateError,
    UnreadableStateError,
    UnsupportedSchemaError,
)
from orchestrator.persistence.models import SCHEMA_VERSION, TransitionEvent
from orchestrator.persistence.repository import (
    EVENTS_FILE,
    LOCK_FILE,
    STATE_FILE,
    EnvironmentRepository,
    JsonFileRepository,
)

__all__ = [
    "EVENTS_FILE",
    "LOCK_FILE",
    "SCHEMA_VERSION",
    "STATE_FILE",
    "CorruptStateError",
    "EnvironmentRepository",
    "JsonFileRepository",
    "LockTimeoutError",
    "PersistenceError",
    "StaleStateError",
    "TransitionEvent",
    "UnreadableStateError",
    "UnsupportedSchemaError",
]
