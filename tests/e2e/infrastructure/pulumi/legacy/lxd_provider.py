"""(Frozen copy, see the package docstring.) LXD resources for Pulumi as dynamic providers over pylxd (the
`native` provider adapter).

The providers live in the installed package so Pulumi pickles them by reference. Every resource takes
the LXD endpoint among its inputs (local unix socket when `endpoint` is empty, otherwise an HTTPS remote
with a client certificate), so a refresh or destroy reconnects without any global state.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import (
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

CONNECTION_KEYS = ("endpoint", "client_cert", "client_key", "server_cert")
DEFAULT_READY_TIMEOUT_S = 180.0
POLL_INTERVAL_S = 0.1


class InstanceNameTakenError(Exception):
    """An instance with the environment's instance name exists and belongs to something else."""


class InstanceNotReadyError(Exception):
    """The instance started but did not get an IPv4 address on eth0 in time."""


@dataclass(frozen=True)
class LxdConnection:
    """How to reach the LXD API: the local socket (endpoint "") or an HTTPS remote."""

    endpoint: str = ""
    client_cert: str = ""
    client_key: str = ""
    server_cert: str = ""

    def as_props(self) -> dict[str, str]:
        return {key: getattr(self, key) for key in CONNECTION_KEYS}

    @classmethod
    def from_props(cls, props: dict[str, Any]) -> LxdConnection:
        return cls(**{key: str(props.get(key) or "") for key in CONNECTION_KEYS})


def connect(connection: LxdConnection) -> Any:
    """A pylxd client for the connection (pylxd is untyped).

    For HTTPS, pylxd pins the server certificate given as `verify`. Its requests session must ignore
    REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE from the environment: requests would otherwise replace the pinned
    certificate with the system bundle and the fingerprint check would fail.
    """
    import pylxd
    from pylxd.client import get_session_for_url

    if not connection.endpoint:
        return pylxd.Client()
    verify: str | bool = connection.server_cert or False
    cert = (connection.client_cert, connection.client_key)
    session = get_session_for_url(connection.endpoint, cert=cert, verify=verify)
    session.trust_env = False
    return pylxd.Client(endpoint=connection.endpoint, cert=cert, verify=verify, session=session)


def _not_found(error: Exception) -> bool:
    from pylxd.exceptions import NotFound

    return isinstance(error, NotFound)


def eth0_ipv4(instance: Any) -> str | None:
    """The global IPv4 of eth0 (docker0 and others are ignored), or None."""
    network = instance.state().network or {}
    for address in (network.get("eth0") or {}).get("addresses", []):
        if address.get("family") == "inet" and address.get("scope") == "global":
            return str(address["address"])
    return None


def wait_for_ipv4(instance: Any, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while True:
        ip = eth0_ipv4(instance)
        if ip:
            return ip
        if time.monotonic() >= deadline:
            raise InstanceNotReadyError(
                f"instance {instance.name} got no IPv4 address on eth0 within {timeout_s:.0f} s"
            )
        time.sleep(POLL_INTERVAL_S)


# --- profile -----------------------------------------------------------------------------------------


class LxdProfileProvider(ResourceProvider):
    """An LXD profile: config keys and devices, identified by its name."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        client = connect(LxdConnection.from_props(props))
        name = props["name"]
        if client.profiles.exists(name):
            profile = client.profiles.get(name)
            profile.config = dict(props["config"])
            profile.devices = dict(props["devices"])
            profile.save()
        else:
            client.profiles.create(name, config=dict(props["config"]), devices=dict(props["devices"]))
        return CreateResult(name, dict(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        client = connect(LxdConnection.from_props(props))
        try:
            profile = client.profiles.get(id_)
        except Exception as error:
            if _not_found(error):
                return ReadResult("", {})
            raise
        outs = {**props, "config": dict(profile.config), "devices": dict(profile.devices)}
        return ReadResult(id_, outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in ("name", "config", "devices", *CONNECTION_KEYS) if olds.get(key) != news[key]]
        replaces = [key for key in changed if key in ("name", "endpoint")]
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=True)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        client = connect(LxdConnection.from_props(news))
        profile = client.profiles.get(news["name"])
        profile.config = dict(news["config"])
        profile.devices = dict(news["devices"])
        profile.save()
        return UpdateResult(dict(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        client = connect(LxdConnection.from_props(props))
        try:
            client.profiles.get(id_).delete()
        except Exception as error:
            if not _not_found(error):
                raise


class LxdProfile(Resource):
    """An LXD profile (dynamic resource)."""

    name: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        config: dict[str, str],
        devices: dict[str, dict[str, str]],
        connection: LxdConnection,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"name": name, "config": config, "devices": devices, **connection.as_props()}
        super().__init__(LxdProfileProvider(), resource_name, props, opts)


# --- instance ----------------------------------------------------------------------------------------

INSTANCE_REPLACE_KEYS = ("name", "image_alias", "instance_type", "endpoint")


class LxdInstanceProvider(ResourceProvider):
    """An LXD instance (container or VM) started from a local image alias; waits for eth0's IPv4."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        client = connect(LxdConnection.from_props(props))
        name = props["name"]
        if client.instances.exists(name):
            instance = self._adopt(client.instances.get(name), props)
        else:
            instance = client.instances.create(
                {
                    "name": name,
                    "type": props["instance_type"],
                    "source": {"type": "image", "alias": props["image_alias"]},
                    "profiles": list(props["profiles"]),
                    "config": dict(props["config"]),
                },
                wait=True,
            )
        try:
            if instance.status != "Running":
                instance.start(wait=True)
            ip = wait_for_ipv4(instance, float(props.get("ready_timeout_s") or DEFAULT_READY_TIMEOUT_S))
        except Exception:
            # Pulumi records nothing for a failed create: remove the instance so that none is orphaned.
            self._remove(instance)
            raise
        return CreateResult(name, {**props, "ipv4": ip, "status": "Running"})

    @staticmethod
    def _adopt(instance: Any, props: dict[str, Any]) -> Any:
        """An instance of this name left by an interrupted create (same profiles) is taken over;
        anything else is somebody else's and is not touched."""
        if list(instance.profiles) != list(props["profiles"]):
            raise InstanceNameTakenError(
                f"an LXD instance named {instance.name} already exists and was not created for this environment "
                f"(profiles {list(instance.profiles)}); choose another instance_name or remove it"
            )
        return instance

    @staticmethod
    def _remove(instance: Any) -> None:
        instance.sync()
        if instance.status == "Running":
            instance.stop(force=True, wait=True)
        instance.delete(wait=True)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        client = connect(LxdConnection.from_props(props))
        try:
            instance = client.instances.get(id_)
        except Exception as error:
            if _not_found(error):
                return ReadResult("", {})
            raise
        outs = {
            **props,
            "status": str(instance.status),
            "ipv4": eth0_ipv4(instance) or "",
            "profiles": list(instance.profiles),
        }
        return ReadResult(id_, outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        keys = (*INSTANCE_REPLACE_KEYS, "profiles", "config", *CONNECTION_KEYS)
        changed = [key for key in keys if olds.get(key) != news.get(key)]
        if olds.get("status") not in (None, "Running"):
            changed.append("status")
        replaces = [key for key in changed if key in INSTANCE_REPLACE_KEYS]
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=True)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        client = connect(LxdConnection.from_props(news))
        instance = client.instances.get(news["name"])
        instance.profiles = list(news["profiles"])
        instance.config = {**instance.config, **dict(news["config"])}
        instance.save(wait=True)
        if instance.status != "Running":
            instance.start(wait=True)
        ip = wait_for_ipv4(instance, float(news.get("ready_timeout_s") or DEFAULT_READY_TIMEOUT_S))
        return UpdateResult({**news, "ipv4": ip, "status": "Running"})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        client = connect(LxdConnection.from_props(props))
        try:
            instance = client.instances.get(id_)
        except Exception as error:
            if _not_found(error):
                return
            raise
        self._remove(instance)


class LxdInstance(Resource):
    """An LXD instance (dynamic resource) with outputs `ipv4` and `status`."""

    name: pulumi.Output[str]
    ipv4: pulumi.Output[str]
    status: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        image_alias: str,
        instance_type: str,
        profiles: list[pulumi.Input[str]],
        config: dict[str, str],
        connection: LxdConnection,
        ready_timeout_s: float = DEFAULT_READY_TIMEOUT_S,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "name": name,
            "image_alias": image_alias,
            "instance_type": instance_type,
            "profiles": profiles,
            "config": config,
            "ready_timeout_s": ready_timeout_s,
            "ipv4": None,
            "status": None,
            **connection.as_props(),
        }
        super().__init__(LxdInstanceProvider(), resource_name, props, opts)
