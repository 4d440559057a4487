"""The dynamic providers' create/read/diff/update/delete against the real LXD socket (no Pulumi engine)."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from orchestrator.infrastructure.pulumi.lxd_provider import (
    InstanceNameTakenError,
    InstanceNotReadyError,
    LxdConnection,
    LxdInstanceProvider,
    LxdProfileProvider,
    connect,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def names(lab: Any) -> Iterator[tuple[str, str]]:
    suffix = secrets.token_hex(3)
    instance, profile = f"prov-{suffix}", f"prov-{suffix}"
    yield instance, profile
    client = connect(LxdConnection())
    if client.instances.exists(instance):
        found = client.instances.get(instance)
        if found.status == "Running":
            found.stop(force=True, wait=True)
        found.delete(wait=True)
    if client.profiles.exists(profile):
        client.profiles.get(profile).delete()


def _profile_props(name: str, nesting: str = "true") -> dict[str, Any]:
    return {
        "name": name,
        "config": {"security.nesting": nesting},
        "devices": {
            "root": {"type": "disk", "path": "/", "pool": "default"},
            "eth0": {"type": "nic", "name": "eth0", "network": "lxdbr0"},
        },
        **LxdConnection().as_props(),
    }


def _instance_props(name: str, profile: str, image: str) -> dict[str, Any]:
    return {
        "name": name,
        "image_alias": image,
        "instance_type": "container",
        "profiles": [profile],
        "config": {},
        "ready_timeout_s": 60.0,
        "ipv4": None,
        "status": None,
        **LxdConnection().as_props(),
    }


def test_profile_provider_creates_reads_updates_and_deletes_a_profile(names: tuple[str, str]) -> None:
    _, profile = names
    provider = LxdProfileProvider()
    created = provider.create(_profile_props(profile))
    assert created.id == profile
    read = provider.read(profile, _profile_props(profile))
    assert read.outs is not None and read.outs["config"] == {"security.nesting": "true"}

    changed = _profile_props(profile, nesting="false")
    diff = provider.diff(profile, _profile_props(profile), changed)
    assert diff.changes and not diff.replaces
    provider.update(profile, _profile_props(profile), changed)
    assert connect(LxdConnection()).profiles.get(profile).config["security.nesting"] == "false"

    provider.delete(profile, changed)
    assert provider.read(profile, changed).id == ""
    provider.delete(profile, changed)  # already gone is not an error


def test_instance_provider_creates_a_running_container_with_an_ipv4_then_reads_and_deletes_it(
    names: tuple[str, str], lab: Any
) -> None:
    instance, profile = names
    LxdProfileProvider().create(_profile_props(profile))
    provider = LxdInstanceProvider()
    props = _instance_props(instance, profile, lab.image_alias)

    created = provider.create(props)
    assert created.outs is not None
    ip = created.outs["ipv4"]
    assert ipaddress.ip_address(ip) in ipaddress.ip_network(lab.subnet)
    read = provider.read(instance, created.outs)
    assert read.id == instance and read.outs is not None
    assert read.outs["status"] == "Running" and read.outs["ipv4"] == ip

    other_image = {**created.outs, "image_alias": "another-image"}
    assert provider.diff(instance, created.outs, other_image).replaces == ["image_alias"]
    stopped = {**created.outs, "status": "Stopped"}
    assert provider.diff(instance, stopped, props).changes

    provider.delete(instance, created.outs)
    assert provider.read(instance, created.outs).id == ""
    provider.delete(instance, created.outs)  # already gone is not an error


def test_instance_from_a_missing_image_fails_and_a_timeout_is_a_clear_error(names: tuple[str, str], lab: Any) -> None:
    instance, profile = names
    LxdProfileProvider().create(_profile_props(profile))
    with pytest.raises(Exception, match=r"(?i)not found|no such|alias"):
        LxdInstanceProvider().create(_instance_props(instance, profile, "no-such-image"))

    props = {**_instance_props(instance, profile, lab.image_alias), "ready_timeout_s": 0.01}
    with pytest.raises(InstanceNotReadyError, match="got no IPv4 address on eth0"):
        LxdInstanceProvider().create(props)
    assert not connect(LxdConnection()).instances.exists(instance), "a failed create leaves no instance"


def test_create_takes_over_an_instance_left_by_an_interrupted_create_but_not_a_stranger(
    names: tuple[str, str], lab: Any
) -> None:
    instance, profile = names
    LxdProfileProvider().create(_profile_props(profile))
    client = connect(LxdConnection())
    client.instances.create(
        {
            "name": instance,
            "type": "container",
            "source": {"type": "image", "alias": lab.image_alias},
            "profiles": [profile],
        },
        wait=True,
    )
    created = LxdInstanceProvider().create(_instance_props(instance, profile, lab.image_alias))
    assert created.outs is not None and created.outs["status"] == "Running"

    stranger = {**_instance_props(instance, profile, lab.image_alias), "profiles": ["default"]}
    with pytest.raises(InstanceNameTakenError, match="was not created for this environment"):
        LxdInstanceProvider().create(stranger)
    assert client.instances.exists(instance)
