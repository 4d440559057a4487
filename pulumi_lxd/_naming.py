"""Wire (schema) property names ↔ Python names: `waitForIpv4` ↔ `wait_for_ipv4`.

The resources register their properties under the wire names and translate nothing (the SDK would also
translate the keys inside `config` and `devices`, which are LXD's own); a property whose Python name
differs is read through an accessor (`output`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, cast

import pulumi

_UPPER = re.compile(r"(?<!^)(?=[A-Z])")


def python_name(wire_name: str) -> str:
    return _UPPER.sub("_", wire_name).lower()


def wire_name(python: str) -> str:
    head, *rest = python.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def wire_props(values: Mapping[str, Any], outputs: tuple[str, ...] = ()) -> dict[str, Any]:
    """Resource props for the engine: the given Python-named inputs under their wire names (unset ones
    left out), and every output-only property present as None so that the SDK makes an Output for it."""
    props = {wire_name(key): value for key, value in values.items() if value is not None}
    for key in outputs:
        props.setdefault(key, None)
    return props


def output(resource: pulumi.Resource, wire: str) -> pulumi.Output[Any]:
    """The output property `wire` of `resource` (the SDK keeps it under that name)."""
    return cast("pulumi.Output[Any]", resource.__dict__[wire])
