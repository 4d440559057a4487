"""What each resource does in LXD: create, read (refresh and import), update and delete, over pylxd.

Only what a resource declares is managed: an instance's `config` and `devices` name the keys and devices
it owns (LXD's own `volatile.*` and `image.*` keys, and anything set by others, are left alone; a key the
last inputs had and the new ones do not is removed). Deleting something already gone is not an error.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Final

from pulumi_lxd.plugin.client import (
    ImageNotFoundError,
    InstanceNameTakenError,
    interface_ipv4,
    not_found,
    wait_for_ipv4,
)
from pulumi_lxd.plugin.rules import INSTANCE_DEFAULTS, RUNNING
from pulumi_lxd.plugin.values import Props

LXD_OWNED_PREFIXES: Final = ("volatile.", "image.")
DELETE_TIMEOUT_S: Final = 120.0
"""How long a delete waits for another client's operations on the same instance (a stop, a delete)."""
QUIET_RETRIES: Final = 3


def resolve_image(client: Any, image: str) -> str | None:
    """The full fingerprint of an image alias, fingerprint or fingerprint prefix; None when there is none."""
    from pylxd.exceptions import LXDAPIException

    try:
        return str(client.images.get_by_alias(image).fingerprint)
    except LXDAPIException:
        pass
    try:
        return str(client.images.get(image).fingerprint)
    except LXDAPIException:
        return None


# --- profile -----------------------------------------------------------------------------------------


def _profile_props(profile: Any) -> Props:
    return {
        "name": str(profile.name),
        "description": str(profile.description or ""),
        "config": dict(profile.config or {}),
        "devices": {name: dict(device) for name, device in (profile.devices or {}).items()},
    }


def create_profile(client: Any, inputs: Props) -> Props:
    """Create the profile; one of that name (left by an interrupted create) is taken over and set."""
    name = inputs["name"]
    if client.profiles.exists(name):
        profile = client.profiles.get(name)
        _set_profile(profile, inputs)
    else:
        client.profiles.create(
            name, config=dict(inputs["config"]), devices=dict(inputs["devices"]), description=inputs["description"]
        )
    return dict(inputs)


def _set_profile(profile: Any, inputs: Props) -> None:
    profile.description = inputs["description"]
    profile.config = dict(inputs["config"])
    profile.devices = dict(inputs["devices"])
    profile.save()


def read_profile(client: Any, name: str) -> Props | None:
    try:
        return _profile_props(client.profiles.get(name))
    except Exception as error:
        if not_found(error):
            return None
        raise


def update_profile(client: Any, news: Props) -> Props:
    _set_profile(client.profiles.get(news["name"]), news)
    return dict(news)


def delete_profile(client: Any, name: str) -> None:
    try:
        client.profiles.get(name).delete()
    except Exception as error:
        if not not_found(error):
            raise


# --- instance ----------------------------------------------------------------------------------------


def _managed(current: Mapping[str, Any], old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """`current` with the keys only `old` declared removed and `new` applied."""
    merged = {key: value for key, value in current.items() if key in new or key not in old}
    merged.update(new)
    return merged


def create_instance(client: Any, inputs: Props) -> Props:
    """Create and start the instance and (unless told not to) wait for its IPv4 address.

    An instance of that name with the same profiles is one an interrupted create left: it is taken over.
    Any other is somebody else's and is not touched. A create that fails after LXD made the instance
    removes it: Pulumi records nothing for a failed create."""
    name = inputs["name"]
    fingerprint = resolve_image(client, inputs["image"])
    if fingerprint is None:
        raise ImageNotFoundError(f"no image with the alias or fingerprint {inputs['image']!r} on the LXD server")
    if client.instances.exists(name):
        instance = client.instances.get(name)
        if list(instance.profiles) != list(inputs["profiles"]):
            raise InstanceNameTakenError(
                f"an LXD instance named {name} already exists and was not created by this resource "
                f"(profiles {list(instance.profiles)}); import it, choose another name or remove it"
            )
    else:
        instance = client.instances.create(
            {
                "name": name,
                "type": inputs["type"],
                "source": {"type": "image", "fingerprint": fingerprint},
                "profiles": list(inputs["profiles"]),
                "config": dict(inputs["config"]),
                "devices": dict(inputs["devices"]),
            },
            wait=True,
        )
    try:
        ip = _run(instance, inputs)
    except Exception:
        _remove(instance)
        raise
    return {**inputs, "ipv4": ip, "status": RUNNING, "imageFingerprint": fingerprint}


def _run(instance: Any, inputs: Props) -> str:
    """Start the instance unless it runs; its IPv4 address (waited for when `waitForIpv4`)."""
    if instance.status != RUNNING:
        instance.start(wait=True)
    interface = inputs["ipv4Interface"]
    if inputs["waitForIpv4"]:
        return wait_for_ipv4(instance, float(inputs["ipv4TimeoutSeconds"]), interface)
    return interface_ipv4(instance, interface) or ""


def _remove(instance: Any) -> None:
    instance.sync()
    if instance.status == RUNNING:
        instance.stop(force=True, wait=True)
    instance.delete(wait=True)


def read_instance(client: Any, name: str, inputs: Mapping[str, Any] | None) -> tuple[Props, Props] | None:
    """(outputs, inputs) of the instance as LXD has it now, or None when it is gone.

    Refresh (`inputs` given): the declared config keys and devices with their current values, the rest of
    the inputs as they were. Import (`inputs` None): every config key but LXD's own, the instance-local
    devices, and its image fingerprint as `image`."""
    try:
        instance = client.instances.get(name)
    except Exception as error:
        if not_found(error):
            return None
        raise
    config = dict(instance.config or {})
    devices = {key: dict(device) for key, device in (instance.devices or {}).items()}
    fingerprint = str(config.get("volatile.base_image", ""))
    if inputs is not None:
        known = {**INSTANCE_DEFAULTS, **{key: value for key, value in inputs.items() if value is not None}}
        image = str(known.get("image") or fingerprint)
        config = {key: config[key] for key in known["config"] if key in config}
        devices = {key: devices[key] for key in known["devices"] if key in devices}
    else:
        known = dict(INSTANCE_DEFAULTS)
        image = fingerprint
        config = {key: value for key, value in config.items() if not key.startswith(LXD_OWNED_PREFIXES)}
    read_inputs: Props = {
        "name": str(instance.name),
        "image": image,
        "type": str(instance.type),
        "profiles": list(instance.profiles),
        "config": config,
        "devices": devices,
        "waitForIpv4": known["waitForIpv4"],
        "ipv4Interface": known["ipv4Interface"],
        "ipv4TimeoutSeconds": known["ipv4TimeoutSeconds"],
    }
    status = str(instance.status)
    ipv4 = (interface_ipv4(instance, str(known["ipv4Interface"])) if status == RUNNING else None) or ""
    outputs = {**read_inputs, "ipv4": ipv4, "status": status, "imageFingerprint": fingerprint}
    return outputs, read_inputs


def update_instance(client: Any, olds: Mapping[str, Any], news: Props) -> Props:
    """Apply profiles, config and devices in place, start the instance if it is not running, and (unless
    told not to) wait for its IPv4 address."""
    instance = client.instances.get(news["name"])
    instance.profiles = list(news["profiles"])
    instance.config = _managed(dict(instance.config or {}), dict(olds.get("config") or {}), dict(news["config"]))
    instance.devices = _managed(dict(instance.devices or {}), dict(olds.get("devices") or {}), dict(news["devices"]))
    instance.save(wait=True)
    ip = _run(instance, news)
    fingerprint = str((instance.config or {}).get("volatile.base_image", "") or olds.get("imageFingerprint") or "")
    return {**news, "ipv4": ip, "status": RUNNING, "imageFingerprint": fingerprint}


def delete_instance(client: Any, name: str, timeout_s: float = DELETE_TIMEOUT_S) -> None:
    """Stop (force) and delete the instance; one already gone is not an error.

    Safe beside another client deleting the same instance at the same time (the orchestrator's destroy
    starts the delete before the engine asks for it): LXD then refuses this client's operation ("busy
    running a stop operation", "a matching non-reusable operation has now succeeded"). Such a refusal is
    answered by waiting for the instance's running operations and trying again, until the instance is gone
    or `timeout_s` has passed. A refusal with no operation running on the instance is retried at once, a
    few times (the other client's operation may have just ended, or it may be between its stop and its
    delete), then raised."""
    deadline = time.monotonic() + timeout_s
    quiet_retries = QUIET_RETRIES
    while True:
        try:
            _remove(client.instances.get(name))
            return
        except Exception as error:
            if not_found(error):
                return
            if time.monotonic() >= deadline:
                raise
            if not _wait_for_operations(client, name, deadline):
                if quiet_retries == 0:
                    raise
                quiet_retries -= 1


def running_operations(client: Any, name: str) -> list[str]:
    """Ids of the LXD operations running on instance `name` (by anyone)."""
    metadata = client.api.operations.get(params={"recursion": 1}).json().get("metadata") or {}
    suffix = f"/instances/{name}"
    return [
        str(operation["id"])
        for operation in metadata.get("running") or []
        if any(
            resource.split("?", 1)[0].endswith(suffix)
            for resource in (operation.get("resources") or {}).get("instances") or []
        )
    ]


def _wait_for_operations(client: Any, name: str, deadline: float) -> bool:
    """Wait (until `deadline`) for the operations running on the instance; False when there were none."""
    operations = running_operations(client, name)
    for operation in operations:
        remaining = max(1, int(deadline - time.monotonic()))
        try:
            client.api.operations[operation].wait.get(params={"timeout": remaining})
        except Exception as error:  # an operation that ended before the wait is not an error
            if not not_found(error):
                raise
    return bool(operations)
