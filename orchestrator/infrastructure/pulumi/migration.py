"""Moves a stack created with the old LXD dynamic provider onto the `pulumi-lxd` provider, in its state only.

The dynamic provider kept each resource as `pulumi-python:dynamic:Resource` with a pickled provider
(`__provider`) and the LXD connection among its inputs. Nothing here unpickles it or calls LXD: the
checkpoint is exported, each dynamic resource is rewritten as the `lxd:index:Profile` or
`lxd:index:Instance` it is (same name, same id — the LXD name — same inputs under the new property
names, same outputs), the connection becomes the explicit provider `pulumi:providers:lxd::lxd` the
program now declares, and the result is imported back. The instance is not touched: the next `up`
refreshes it through the plugin and finds it as it was (same instance, same address), and a `destroy`
deletes it through the plugin.

`needs_migration` only reads the checkpoint file (no CLI run): environments already on the plugin pay
nothing.
"""

from __future__ import annotations

import gzip
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from orchestrator.infrastructure.pulumi.checkpoint import checkpoint_files
from orchestrator.infrastructure.pulumi.lxd_connection import LxdConnection, provider_config
from pulumi_lxd.plugin.rules import INSTANCE, PROFILE, PROVIDER_SECRETS

DYNAMIC_TYPE = "pulumi-python:dynamic:Resource"
DYNAMIC_PROVIDER_TYPE = "pulumi:providers:pulumi-python"
PROVIDER_TYPE = "pulumi:providers:lxd"
PROVIDER_NAME = "lxd"
SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
"""The marker Pulumi's state uses for a secret value (`plaintext` here: the import encrypts it)."""

log = logging.getLogger("orchestrator.infrastructure.pulumi")

# old input name → new input name (None: dropped, it was the connection or the pickled provider)
_PROFILE_INPUTS: Mapping[str, str | None] = {"name": "name", "config": "config", "devices": "devices"}
_INSTANCE_INPUTS: Mapping[str, str | None] = {
    "name": "name",
    "image_alias": "image",
    "instance_type": "type",
    "profiles": "profiles",
    "config": "config",
    "ready_timeout_s": "ipv4TimeoutSeconds",
}
_DROPPED = {"__provider", "endpoint", "client_cert", "client_key", "server_cert"}


class StackMigrationError(Exception):
    """The checkpoint holds dynamic resources this migration does not know."""


def needs_migration(backend_dir: Path, stack: str) -> bool:
    """Whether the stack's checkpoint still holds resources of the dynamic provider."""
    for path in checkpoint_files(backend_dir, stack):
        raw = path.read_bytes()
        text = gzip.decompress(raw) if path.suffix == ".gz" else raw
        if DYNAMIC_TYPE.encode() in text:
            return True
    return False


def _urn(stack: str, project: str, type_: str, name: str) -> str:
    return f"urn:pulumi:{stack}::{project}::{type_}::{name}"


def _urn_parts(urn: str) -> tuple[str, str, str, str]:
    """(stack, project, type, name) of a URN `urn:pulumi:STACK::PROJECT::TYPE::NAME`."""
    head, project, type_, name = urn.split("::", 3)
    return head.removeprefix("urn:pulumi:"), project, type_.rsplit("$", 1)[-1], name


def _kind(resource: Mapping[str, Any]) -> str:
    inputs = resource.get("inputs") or {}
    if "image_alias" in inputs or "instance_type" in inputs:
        return INSTANCE
    if "devices" in inputs and "profiles" not in inputs:
        return PROFILE
    raise StackMigrationError(f"the dynamic resource {resource.get('urn')} is neither the profile nor the instance")


def _secret(value: str) -> dict[str, str]:
    return {**SECRET_SIG, "plaintext": json.dumps(value)}


def _rename(values: Mapping[str, Any], names: Mapping[str, str | None]) -> dict[str, Any]:
    renamed: dict[str, Any] = {}
    for key, value in values.items():
        if key in _DROPPED:
            continue
        new = names.get(key, key)
        if new is not None:
            renamed[new] = value
    return renamed


def _inputs(kind: str, old: Mapping[str, Any]) -> dict[str, Any]:
    """The new provider's inputs for the old ones, with the defaults its `check` adds (so that the next
    `up` sees no change)."""
    if kind == PROFILE:
        return {"description": "", "config": {}, "devices": {}, **_rename(old, _PROFILE_INPUTS)}
    renamed = _rename(old, _INSTANCE_INPUTS)
    return {
        "type": "container",
        "profiles": ["default"],
        "config": {},
        "devices": {},
        "waitForIpv4": True,
        "ipv4Interface": "eth0",
        "ipv4TimeoutSeconds": 180.0,
        **renamed,
    }


def _outputs(kind: str, inputs: Mapping[str, Any], old_outputs: Mapping[str, Any]) -> dict[str, Any]:
    if kind == PROFILE:
        return dict(inputs)
    return {
        **inputs,
        "ipv4": old_outputs.get("ipv4") or "",
        "status": old_outputs.get("status") or "Running",
        "imageFingerprint": "",  # the first refresh reads it
    }


def provider_state(config: Mapping[str, str]) -> dict[str, Any]:
    """The provider resource's inputs/outputs in the checkpoint (the client key as a secret)."""
    return {key: _secret(value) if key in PROVIDER_SECRETS else value for key, value in config.items()}


def translate(
    deployment: Mapping[str, Any], provider_config_for: Callable[[LxdConnection], Mapping[str, str]] = provider_config
) -> dict[str, Any]:
    """The deployment with its dynamic LXD resources rewritten for the `pulumi-lxd` provider.

    `provider_config_for` turns the connection the old resources carried into the provider's
    configuration (it reads the certificate files)."""
    resources: list[dict[str, Any]] = [dict(item) for item in deployment.get("resources") or []]
    dynamic = [item for item in resources if item.get("type") == DYNAMIC_TYPE]
    if not dynamic:
        return dict(deployment)
    stack, project, _, _ = _urn_parts(str(dynamic[0]["urn"]))
    stack_urn = next(
        (item["urn"] for item in resources if item.get("type") == "pulumi:pulumi:Stack"),
        _urn(stack, project, "pulumi:pulumi:Stack", f"{project}-{stack}"),
    )
    connection = LxdConnection.from_props(dict(dynamic[0].get("inputs") or {}))
    provider_urn = _urn(stack, project, PROVIDER_TYPE, PROVIDER_NAME)
    provider_id = str(uuid.uuid4())
    state = provider_state(provider_config_for(connection))
    provider_resource = {
        "urn": provider_urn,
        "custom": True,
        "id": provider_id,
        "type": PROVIDER_TYPE,
        "inputs": state,
        "outputs": dict(state),
        "parent": stack_urn,
    }
    renamed_urns = {
        str(item["urn"]): _urn(stack, project, _kind(item), _urn_parts(str(item["urn"]))[3]) for item in dynamic
    }

    def rewrite(item: dict[str, Any]) -> dict[str, Any]:
        if item.get("type") != DYNAMIC_TYPE:
            return item
        kind = _kind(item)
        inputs = _inputs(kind, item.get("inputs") or {})
        names = _PROFILE_INPUTS if kind == PROFILE else _INSTANCE_INPUTS
        moved = {
            **item,
            "urn": renamed_urns[str(item["urn"])],
            "type": kind,
            "inputs": inputs,
            "outputs": _outputs(kind, inputs, item.get("outputs") or {}),
            "provider": f"{provider_urn}::{provider_id}",
        }
        if "dependencies" in item:
            moved["dependencies"] = [renamed_urns.get(urn, urn) for urn in item["dependencies"]]
        if "propertyDependencies" in item:
            moved["propertyDependencies"] = {
                key: [renamed_urns.get(urn, urn) for urn in urns]
                for key, urns in _rename(item["propertyDependencies"], names).items()
            }
        return moved

    migrated: list[dict[str, Any]] = []
    for item in resources:
        if item.get("type") == DYNAMIC_PROVIDER_TYPE:
            continue
        migrated.append(rewrite(item))
        if item.get("type") == "pulumi:pulumi:Stack":
            migrated.append(provider_resource)
    if provider_resource not in migrated:
        migrated.insert(0, provider_resource)
    pending = [
        {**operation, "resource": rewrite(dict(operation["resource"]))}
        for operation in deployment.get("pending_operations") or []
        if operation.get("resource", {}).get("type") != DYNAMIC_PROVIDER_TYPE
    ]
    result = {**deployment, "resources": migrated}
    if pending or "pending_operations" in deployment:
        result["pending_operations"] = pending
    return result


def migrate(stack: Any) -> bool:
    """Rewrite the stack's state for the plugin (an `auto.Stack`); False when there was nothing to do."""
    from pulumi import automation as auto

    exported = stack.export_stack()
    state = dict(exported.deployment or {})
    migrated = translate(state)
    if migrated == state:
        return False
    log.warning("moving the Pulumi stack %s from the LXD dynamic provider to the pulumi-lxd plugin", stack.name)
    stack.import_stack(auto.Deployment(version=exported.version, deployment=migrated))
    return True
