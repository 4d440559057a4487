"""Pulumi wire values (`google.protobuf.Struct`) ↔ plain Python values.

Inputs arrive as property maps; the rules and the LXD code work on plain values (None, bool, float, str,
list, dict). A value not known yet (during a preview) becomes `UNKNOWN`: on the wire it is the engine's
unknown sentinel string. A secret is a map marked with the engine's signature key (`SIG_KEY: SECRET_SIG`,
the value under "value"). Secrecy is kept per top-level property: the keys that came in secret (or holding
a secret) go out secret. The other signed values (assets, archives, resource references, output values)
are not in this provider's schema and are refused. The constants are the engine's, as the SDK spells them
(`pulumi.runtime.rpc`; tests/unit/pulumi_lxd/test_values.py compares).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from google.protobuf import struct_pb2

UNKNOWN_SENTINEL: Final = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SIG_KEY: Final = "4dabf18193072939515e22adb298388d"
SECRET_SIG: Final = "1b47061264138c4ac30d75fd1eb44270"


class Unknown:
    """A value the engine does not know yet (preview)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = Unknown()

Props = dict[str, Any]


def to_python(value: struct_pb2.Value) -> tuple[Any, bool]:
    """The plain value of a wire value, and whether it was (or held) a secret."""
    kind = value.WhichOneof("kind")
    if kind is None or kind == "null_value":
        return None, False
    if kind == "bool_value":
        return value.bool_value, False
    if kind == "number_value":
        return value.number_value, False
    if kind == "string_value":
        return (UNKNOWN if value.string_value == UNKNOWN_SENTINEL else value.string_value), False
    if kind == "list_value":
        items = [to_python(item) for item in value.list_value.values]
        return [item for item, _ in items], any(secret for _, secret in items)
    fields = value.struct_value.fields
    if SIG_KEY in fields:
        signature = fields[SIG_KEY].string_value
        if signature != SECRET_SIG or "value" not in fields:
            raise TypeError(f"unsupported property value (signature {signature!r})")
        inner, _ = to_python(fields["value"])
        return inner, True
    entries = {key: to_python(item) for key, item in fields.items()}
    return {key: item for key, (item, _) in entries.items()}, any(secret for _, secret in entries.values())


def from_python(value: Any, secret: bool = False) -> struct_pb2.Value:
    """The wire value of a plain value (marked secret if `secret`)."""
    result = struct_pb2.Value()
    if isinstance(value, Unknown):
        result.string_value = UNKNOWN_SENTINEL
    elif value is None:
        result.null_value = struct_pb2.NULL_VALUE
    elif isinstance(value, bool):
        result.bool_value = value
    elif isinstance(value, int | float):
        result.number_value = float(value)
    elif isinstance(value, str):
        result.string_value = value
    elif isinstance(value, Mapping):
        result.struct_value.SetInParent()  # an empty map is still a map
        for key, item in value.items():
            result.struct_value.fields[str(key)].CopyFrom(from_python(item))
    elif isinstance(value, list | tuple):
        result.list_value.SetInParent()
        result.list_value.values.extend(from_python(item) for item in value)
    else:
        raise TypeError(f"unsupported value {value!r}")
    if not secret:
        return result
    wrapped = struct_pb2.Value()
    wrapped.struct_value.fields[SIG_KEY].string_value = SECRET_SIG
    wrapped.struct_value.fields["value"].CopyFrom(result)
    return wrapped


def plain(props: struct_pb2.Struct) -> tuple[Props, frozenset[str]]:
    """The plain values of a property map, and the keys that were (or contained) secrets."""
    entries = {key: to_python(value) for key, value in props.fields.items()}
    values = {key: value for key, (value, _) in entries.items()}
    return values, frozenset(key for key, (_, secret) in entries.items() if secret)


def wire(values: Mapping[str, Any], secrets: frozenset[str] = frozenset()) -> struct_pb2.Struct:
    """A property map of plain values; the keys in `secrets` are marked secret."""
    props = struct_pb2.Struct()
    for key, value in values.items():
        props.fields[key].CopyFrom(from_python(value, key in secrets))
    return props


def contains_unknown(value: Any) -> bool:
    if isinstance(value, Unknown):
        return True
    if isinstance(value, dict):
        return any(contains_unknown(item) for item in value.values())
    if isinstance(value, list):
        return any(contains_unknown(item) for item in value)
    return False
