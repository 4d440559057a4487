"""The provider's decisions without LXD: defaults and checks, and which changes replace and which update."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_lxd.plugin.rules import (
    check_instance,
    check_profile,
    check_provider,
    diff_instance,
    diff_profile,
    diff_provider,
)
from pulumi_lxd.plugin.values import UNKNOWN

FINGERPRINT = "85574cd3cd2c" + "0" * 52


def _instance(**changes: Any) -> dict[str, Any]:
    inputs, failures = check_instance({"name": "box", "image": "torrust-trixie", "profiles": ["p"], **changes})
    assert failures == []
    return inputs


def _state(**changes: Any) -> dict[str, Any]:
    return {**_instance(), "ipv4": "10.0.0.2", "status": "Running", "imageFingerprint": FINGERPRINT, **changes}


def test_instance_defaults_are_a_running_container_waiting_180_s_for_an_ipv4_on_eth0() -> None:
    inputs, failures = check_instance({"name": "box", "image": "img"})
    assert failures == []
    assert inputs == {
        "name": "box",
        "image": "img",
        "type": "container",
        "profiles": ["default"],
        "config": {},
        "devices": {},
        "waitForIpv4": True,
        "ipv4Interface": "eth0",
        "ipv4TimeoutSeconds": 180.0,
    }


@pytest.mark.parametrize(
    ("inputs", "property_"),
    [
        ({"name": "9box", "image": "img"}, "name"),
        ({"name": "box-", "image": "img"}, "name"),
        ({"name": "box", "image": ""}, "image"),
        ({"name": "box", "image": "img", "type": "vm"}, "type"),
        ({"name": "box", "image": "img", "config": {"limits.cpu": 2}}, "config"),
        ({"name": "box", "image": "img", "devices": {"eth0": {"mtu": 1500}}}, "devices.eth0"),
        ({"name": "box", "image": "img", "ipv4TimeoutSeconds": 0}, "ipv4TimeoutSeconds"),
        ({"name": "box", "image": "img", "colour": "blue"}, "colour"),
    ],
)
def test_instance_inputs_that_lxd_would_refuse_fail_the_check_naming_the_property(
    inputs: dict[str, Any], property_: str
) -> None:
    _, failures = check_instance(inputs)
    assert [failure.property for failure in failures] == [property_]


def test_unknown_values_pass_the_check_during_a_preview() -> None:
    _, failures = check_instance({"name": UNKNOWN, "image": UNKNOWN, "profiles": [UNKNOWN]})
    assert failures == []


@pytest.mark.parametrize("key", ["name", "image", "type"])
def test_a_changed_name_image_or_type_replaces_the_instance(key: str) -> None:
    value = {"name": "other", "image": "other-image", "type": "virtual-machine"}[key]
    diff = diff_instance(_state(), _instance(**{key: value}), resolve_image=lambda image: None)
    assert diff.changed == (key,) and diff.replaces == (key,)


def test_a_replacement_under_the_same_name_deletes_first_and_a_rename_creates_first() -> None:
    same_name = diff_instance(_state(), _instance(image="other"), resolve_image=lambda image: None)
    renamed = diff_instance(_state(), _instance(name="other"))
    assert same_name.delete_before_replace
    assert not renamed.delete_before_replace


@pytest.mark.parametrize(
    "changes",
    [
        {"profiles": ["p", "q"]},
        {"config": {"user.user-data": "#cloud-config\n"}},
        {"devices": {"data": {"type": "disk", "path": "/data", "source": "/srv"}}},
        {"waitForIpv4": False},
        {"ipv4TimeoutSeconds": 30.0},
    ],
)
def test_profiles_config_devices_and_the_wait_settings_are_updated_in_place(changes: dict[str, Any]) -> None:
    diff = diff_instance(_state(), _instance(**changes))
    assert diff.changes and diff.changed == tuple(changes) and diff.replaces == ()


def test_an_alias_of_the_image_the_instance_was_made_from_is_no_change() -> None:
    imported = _state(image=FINGERPRINT)  # `pulumi import` records the fingerprint
    assert not diff_instance(imported, _instance(), resolve_image={"torrust-trixie": FINGERPRINT}.get).changes
    assert not diff_instance(imported, _instance(image=FINGERPRINT[:12])).changes
    moved = diff_instance(imported, _instance(), resolve_image={"torrust-trixie": "f" * 64}.get)
    assert moved.replaces == ("image",)


def test_the_image_is_resolved_only_when_the_names_differ() -> None:
    def never(image: str) -> str | None:
        raise AssertionError("no LXD call for an unchanged image")

    assert not diff_instance(_state(), _instance(), resolve_image=never).changes


def test_an_instance_found_stopped_is_updated_which_starts_it() -> None:
    diff = diff_instance(_state(status="Stopped"), _instance())
    assert diff.changed == ("status",) and diff.replaces == () and diff.outputs_only == {"status"}


def test_an_unknown_replacing_input_may_replace_during_a_preview() -> None:
    diff = diff_instance(_state(), {**_instance(), "name": UNKNOWN})
    assert diff.replaces == ("name",)


def test_a_state_from_before_the_defaults_existed_sees_no_change() -> None:
    old = {"name": "box", "image": "torrust-trixie", "profiles": ["p"], "status": "Running"}
    assert not diff_instance(old, _instance()).changes


def test_profile_name_replaces_it_creating_the_new_one_first_and_the_rest_updates_in_place() -> None:
    base, _ = check_profile({"name": "web", "config": {"security.nesting": "true"}})
    renamed, _ = check_profile({**base, "name": "web2"})
    assert diff_profile(base, renamed).replaces == ("name",)
    assert not diff_profile(base, renamed).delete_before_replace
    variants: list[dict[str, Any]] = [{"config": {}}, {"devices": {"eth0": {"type": "nic"}}}, {"description": "d"}]
    for changes in variants:
        changed, failures = check_profile({**base, **changes})
        assert failures == []
        diff = diff_profile(base, changed)
        assert diff.changes and diff.replaces == ()
    assert not diff_profile(base, base).changes


def test_provider_configuration_checks_an_https_remote_and_its_certificate_pair() -> None:
    assert check_provider({}) == ({}, [])
    _, failures = check_provider({"remote": "http://lxd:8443"})
    assert [failure.property for failure in failures] == ["remote"]
    _, failures = check_provider({"remote": "https://lxd:8443", "clientCert": "C"})
    assert [failure.property for failure in failures] == ["clientKey"]
    _, failures = check_provider({"clientCert": "C", "clientKey": "K"})
    assert {failure.property for failure in failures} == {"clientCert", "clientKey"}


def test_a_changed_connection_updates_the_provider_and_never_replaces_it() -> None:
    diff = diff_provider({"remote": "https://a:8443"}, {"remote": "https://b:8443", "clientKey": "K"})
    assert diff.changed == ("remote", "clientKey") and diff.replaces == ()
    assert not diff_provider({"remote": ""}, {}).changes
