"""Pulumi wire values (`PropertyValue`) ↔ plain Python values.

Inputs arrive as `PropertyValue`s; the rules and the LXD code work on plain values (None, bool, float,
str, list, dict). A value not known yet (during a preview) becomes `UNKNOWN`: on the wire it is the
engine's unknown sentinel string (the SDK's `PropertyValue` cannot marshal its own `Computed`). Secrecy is
kept per top-level property: the keys that came in secret go out secret.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from pulumi.provider.experimental.property_value import Computed, PropertyValue
from pulumi.runtime.rpc import UNKNOWN as UNKNOWN_SENTINEL


class Unknown:
    """A value the engine does not know yet (preview)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = Unknown()

Props = dict[str, Any]


def to_python(value: PropertyValue) -> Any:
    inner = value.value
    if isinstance(inner, Computed) or inner == UNKNOWN_SENTINEL:
        return UNKNOWN
    if inner is None or isinstance(inner, bool | float | str):
        return inner
    if isinstance(inner, Mapping):
        return {key: to_python(item) for key, item in inner.items()}
    if isinstance(inner, Sequence):
        return [to_python(item) for item in inner if isinstance(item, PropertyValue)]
    raise TypeError(f"unsupported property value {inner!r}")


def from_python(value: Any, secret: bool = False) -> PropertyValue:
    if isinstance(value, Unknown):
        result = PropertyValue(UNKNOWN_SENTINEL)
    elif value is None or isinstance(value, bool | str):
        result = PropertyValue(value)
    elif isinstance(value, int | float):
        result = PropertyValue(float(value))
    elif isinstance(value, Mapping):
        result = PropertyValue({str(key): from_python(item) for key, item in value.items()})
    elif isinstance(value, list | tuple):
        result = PropertyValue([from_python(item) for item in value])
    else:
        raise TypeError(f"unsupported value {value!r}")
    return result.with_secret(True) if secret else result


def plain(props: Mapping[str, PropertyValue]) -> tuple[Props, frozenset[str]]:
    """The plain values of a property map, and the keys that were (or contained) secrets."""
    values = {key: to_python(value) for key, value in props.items()}
    secrets = frozenset(key for key, value in props.items() if value.contains_secret())
    return values, secrets


def wire(values: Mapping[str, Any], secrets: frozenset[str] = frozenset()) -> dict[str, PropertyValue]:
    """A property map of plain values; the keys in `secrets` are marked secret."""
    return {key: from_python(value, key in secrets) for key, value in values.items()}


def contains_unknown(value: Any) -> bool:
    if isinstance(value, Unknown):
        return True
    if isinstance(value, dict):
        return any(contains_unknown(item) for item in value.values())
    if isinstance(value, list):
        return any(contains_unknown(item) for item in value)
    return False
