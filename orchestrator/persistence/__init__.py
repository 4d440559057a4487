"""Persistence of environments: the repository protocol and its crash-safe, locked JSON implementation.

The names below are imported on first use (PEP 562), so that the standard-library-only modules of this
package (`strict_read`, `lock_holder`) can be imported without pydantic or the lock machinery.
"""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from orchestrator.persistence.errors import (
        CorruptStateError,
        LockTimeoutError,
        PersistenceError,
        StaleStateError,
        UnreadableStateError,
        UnsupportedSchemaError,
    )
    from orchestrator.persistence.models import TransitionEvent
    from orchestrator.persistence.repository import EVENTS_FILE, EnvironmentRepository, JsonFileRepository
    from orchestrator.persistence.strict_read import LOCK_FILE, SCHEMA_VERSION, STATE_FILE

_WHERE = {
    "CorruptStateError": "errors",
    "LockTimeoutError": "errors",
    "PersistenceError": "errors",
    "StaleStateError": "errors",
    "UnreadableStateError": "errors",
    "UnsupportedSchemaError": "errors",
    "TransitionEvent": "models",
    "EVENTS_FILE": "repository",
    "EnvironmentRepository": "repository",
    "JsonFileRepository": "repository",
    "LOCK_FILE": "strict_read",
    "SCHEMA_VERSION": "strict_read",
    "STATE_FILE": "strict_read",
}

if not TYPE_CHECKING:

    def __getattr__(name: str) -> object:
        module = _WHERE.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(__import__(f"{__name__}.{module}", fromlist=[name]), name)
        globals()[name] = value
        return value


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
