"""The `pulumi-lxd` provider through the real engine and the real plugin on the lab's LXD: up, refresh,
update in place, replace and destroy of each resource; drift (changed, stopped, deleted behind the tool's
back) seen by refresh and repaired by up; a preview that touches nothing; import of an instance made with
`lxc launch`."""

from __future__ import annotations

import ipaddress
import subprocess
from pathlib import Path
from typing import Any

import pulumi
import pytest

import pulumi_lxd as lxd
from tests.e2e.infrastructure.pulumi.harness import changes, program_stack, unique

pytestmark = pytest.mark.e2e
DEVICES = {
    "root": {"type": "disk", "path": "/", "pool": "default"},
    "eth0": {"type": "nic", "name": "eth0", "network": "lxdbr0"},
}


def _lxc(*args: str) -> str:
    return subprocess.run(["lxc", *args], capture_output=True, text=True, check=True).stdout.strip()


def _uuid(name: str) -> str:
    return _lxc("config", "get", name, "volatile.uuid")


def test_a_profile_is_created_refreshed_updated_in_place_replaced_and_destroyed(
    tmp_path: Path, names: list[str], lxd_client: Any
) -> None:
    first, second = unique(), unique()
    names += [first, second]

    def profile(name: str, description: str = "") -> None:
        lxd.Profile(
            "profile",
            lxd.ProfileArgs(name=name, description=description, config={"security.nesting": "true"}, devices=DEVICES),
            opts=pulumi.ResourceOptions(provider=lxd.Provider("lxd")),
        )

    with program_stack(tmp_path) as stack:
        assert changes(stack.up(lambda: profile(first)).summary) == {"create": 3}
        assert lxd_client.profiles.get(first).config == {"security.nesting": "true"}

        _lxc("profile", "set", first, "security.nesting", "false")  # behind the tool's back
        stack.refresh()
        assert stack.resources()["profile"]["outputs"]["config"] == {"security.nesting": "false"}
        assert changes(stack.up(lambda: profile(first)).summary) == {"update": 1}
        assert lxd_client.profiles.get(first).config == {"security.nesting": "true"}

        assert changes(stack.up(lambda: profile(first, "web")).summary) == {"update": 1}
        assert lxd_client.profiles.get(first).description == "web"

        assert changes(stack.up(lambda: profile(second)).summary) == {"replace": 1}
        assert lxd_client.profiles.exists(second) and not lxd_client.profiles.exists(first)

        assert changes(stack.destroy().summary) == {"delete": 3}
        assert not lxd_client.profiles.exists(second)


def test_an_instance_is_created_updated_in_place_repaired_after_drift_replaced_and_destroyed(
    tmp_path: Path, names: list[str], lxd_client: Any, lab: Any
) -> None:
    profile_name, first, second = unique(), unique(), unique()
    names += [first, second, profile_name]

    def program(name: str, config: dict[str, str]) -> None:
        provider = lxd.Provider("lxd")
        profile = lxd.Profile(
            "profile",
            lxd.ProfileArgs(name=profile_name, devices=DEVICES),
            opts=pulumi.ResourceOptions(provider=provider),
        )
        box = lxd.Instance(
            "instance",
            lxd.InstanceArgs(name=name, image=lab.image_alias, profiles=[profile.name], config=config),
            opts=pulumi.ResourceOptions(provider=provider),
        )
        pulumi.export("ipv4", box.ipv4)
        pulumi.export("fingerprint", box.image_fingerprint)

    with program_stack(tmp_path) as stack:
        assert changes(stack.preview(lambda: program(first, {})).change_summary) == {"create": 4}
        assert not lxd_client.instances.exists(first), "a preview touches nothing"

        up = stack.up(lambda: program(first, {}))
        ip = str(up.outputs["ipv4"].value)
        assert ipaddress.ip_address(ip) in ipaddress.ip_network(lab.subnet)
        assert len(str(up.outputs["fingerprint"].value)) == 64
        uuid = _uuid(first)
        assert changes(stack.refresh().summary) == {}

        assert changes(stack.up(lambda: program(first, {"user.note": "one"})).summary) == {"update": 1}
        assert _lxc("config", "get", first, "user.note") == "one"
        assert changes(stack.up(lambda: program(first, {})).summary) == {"update": 1}
        assert _lxc("config", "get", first, "user.note") == "", "a key no longer declared is removed"
        assert _uuid(first) == uuid, "updated in place, not recreated"

        _lxc("stop", "--force", first)  # drift: stopped
        stack.refresh()
        assert stack.resources()["instance"]["outputs"]["status"] == "Stopped"
        up = stack.up(lambda: program(first, {}))
        assert changes(up.summary) == {"update": 1}
        assert lxd_client.instances.get(first).status == "Running" and _uuid(first) == uuid

        _lxc("delete", "--force", first)  # drift: deleted
        stack.refresh()
        assert "instance" not in stack.resources()
        assert changes(stack.up(lambda: program(first, {})).summary) == {"create": 1}
        assert lxd_client.instances.exists(first) and _uuid(first) != uuid

        assert changes(stack.up(lambda: program(second, {})).summary) == {"replace": 1}
        assert lxd_client.instances.exists(second) and not lxd_client.instances.exists(first)

        stack.destroy()
        assert not lxd_client.instances.exists(second) and not lxd_client.profiles.exists(profile_name)


def test_an_instance_made_with_lxc_launch_is_imported_then_managed_and_destroyed(
    tmp_path: Path, names: list[str], lxd_client: Any, lab: Any
) -> None:
    name = unique()
    names.append(name)
    _lxc("launch", lab.image_alias, name)
    uuid = _uuid(name)

    def program(adopt: bool) -> None:
        lxd.Instance(
            "adopted",
            lxd.InstanceArgs(name=name, image=lab.image_alias),
            opts=pulumi.ResourceOptions(provider=lxd.Provider("lxd"), import_=name if adopt else None),
        )

    with program_stack(tmp_path) as stack:
        imported = stack.up(lambda: program(adopt=True))
        assert changes(imported.summary) == {"create": 2, "import": 1}  # the stack, the provider; the instance
        adopted = stack.resources()["adopted"]
        assert adopted["id"] == name and adopted["outputs"]["profiles"] == ["default"]
        assert adopted["outputs"]["imageFingerprint"] == lxd_client.instances.get(name).config["volatile.base_image"]
        assert changes(stack.up(lambda: program(adopt=False)).summary) == {}
        assert _uuid(name) == uuid, "the import changed nothing"

        stack.destroy()
        assert not lxd_client.instances.exists(name), "managed from then on: destroy deletes it"
