"""Reads an environment's instance and profile through the LXD API (the provider's connection), compared
with what the stack program declares. Changes nothing."""

from __future__ import annotations

from typing import Any

from orchestrator.commands.ports import InstanceObservation
from orchestrator.domain import EnvironmentContext
from orchestrator.infrastructure.pulumi.lxd_connection import LxdConnection, connect, eth0_ipv4
from orchestrator.infrastructure.pulumi.stacks import load_environment_module, stack_spec


def _differences(kind: str, expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    lines = []
    for key in sorted(set(expected) | set(actual)):
        if expected.get(key) != actual.get(key):
            lines.append(f"{kind} {key}: expected {expected.get(key)!r}, found {actual.get(key)!r}")
    return lines


class LxdInspector:
    def observe(self, context: EnvironmentContext) -> InstanceObservation:
        from pylxd.exceptions import NotFound

        spec = stack_spec(context)
        program = load_environment_module()
        client = connect(spec.connection if spec.connection else LxdConnection())
        try:
            instance = client.instances.get(context.instance_name)
            exists, status, ipv4 = True, str(instance.status), eth0_ipv4(instance)
        except NotFound:
            exists, status, ipv4 = False, None, None
        differences: list[str] = []
        try:
            profile = client.profiles.get(context.profile_name)
            profile_exists = True
            differences += _differences("config", program.profile_config(spec), dict(profile.config))
            differences += _differences("device", program.profile_devices(spec), dict(profile.devices))
        except NotFound:
            profile_exists = False
        return InstanceObservation(exists, status, ipv4, profile_exists, tuple(differences))
