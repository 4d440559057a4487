"""`LxdProvider`'s protocol methods with a fake LXD client: secrets stay secret, previews never connect,
a missing resource reads as gone, diffs reach the engine with their kinds."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from pulumi.provider.experimental import provider as protocol
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.runtime.rpc import UNKNOWN
from pylxd.exceptions import NotFound

from pulumi_lxd.plugin.client import ProviderConfig
from pulumi_lxd.plugin.provider import LxdProvider
from pulumi_lxd.plugin.values import wire

INSTANCE_URN = "urn:pulumi:dev::proj::lxd:index:Instance::box"
PROFILE_URN = "urn:pulumi:dev::proj::lxd:index:Profile::web"


class _Response:
    status_code = 404
    content = b"not found"

    def json(self) -> dict[str, str]:
        return {"error": "not found"}


class _Missing:
    def get(self, name: str) -> Any:
        raise NotFound(_Response())


class _EmptyServer:
    instances = _Missing()
    profiles = _Missing()


def _never(config: ProviderConfig) -> Any:
    raise AssertionError("the provider connected to LXD")


def run(coroutine: Any) -> Any:
    """Run on a loop of its own (`asyncio.run` would leave the thread without one for Pulumi's mocks)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


def test_the_client_key_is_kept_secret_even_when_it_arrives_in_plain_text() -> None:
    provider = LxdProvider(_never)
    news = wire({"remote": "https://lxd:8443", "clientCert": "C", "clientKey": "K"})
    checked = run(provider.check_config(protocol.CheckRequest("urn:x", {}, news, b"")))
    assert checked.failures is None
    assert checked.inputs["clientKey"] == PropertyValue("K", is_secret=True)
    assert not checked.inputs["remote"].is_secret


def test_configure_does_not_connect_and_get_schema_serves_the_schema() -> None:
    provider = LxdProvider(_never)
    answer = run(provider.configure(protocol.ConfigureRequest({}, wire({"remote": "https://lxd:8443"}), True, True)))
    assert answer.accept_secrets and answer.supports_preview
    schema = json.loads(run(provider.get_schema(protocol.GetSchemaRequest(0))).schema)
    assert set(schema["resources"]) == {"lxd:index:Instance", "lxd:index:Profile"}


def test_a_preview_create_never_touches_lxd_and_reports_the_outputs_unknown() -> None:
    provider = LxdProvider(_never)
    inputs = wire({"name": "box", "image": "img", "config": {"user.user-data": "x"}}, frozenset({"config"}))
    created = run(provider.create(protocol.CreateRequest(INSTANCE_URN, inputs, 60.0, preview=True)))
    assert created.resource_id == "box"
    assert created.properties["ipv4"] == PropertyValue(UNKNOWN)  # the engine's sentinel: marshals, unlike Computed
    created.properties["ipv4"].marshal()
    assert created.properties["config"].is_secret


def test_reading_a_resource_that_is_gone_answers_with_no_id() -> None:
    provider = LxdProvider(lambda config: _EmptyServer())
    for urn, name in ((INSTANCE_URN, "box"), (PROFILE_URN, "web")):
        read = run(provider.read(protocol.ReadRequest(urn, name, {}, {})))
        assert read.resource_id == "" and read.properties == {}


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        ({"image": "other"}, protocol.PropertyDiffKind.UPDATE_REPLACE),
        ({"profiles": ["q"]}, protocol.PropertyDiffKind.UPDATE),
    ],
)
def test_a_diff_reaches_the_engine_with_the_kind_of_each_change(changes: dict[str, Any], kind: Any) -> None:
    provider = LxdProvider(lambda config: _ImageServer())
    state = {"name": "box", "image": "img", "profiles": ["p"], "status": "Running", "imageFingerprint": "f" * 64}
    given = {key: value for key, value in {**state, **changes}.items() if key not in ("status", "imageFingerprint")}
    news = run(provider.check(protocol.CheckRequest(INSTANCE_URN, {}, wire(given), b""))).inputs
    diff = run(provider.diff(protocol.DiffRequest(INSTANCE_URN, "box", wire(state), news, [])))
    (key,) = changes
    assert diff.changes and diff.diffs == [key]
    assert diff.detailed_diff[key].kind is kind
    assert diff.replaces == ([key] if kind is protocol.PropertyDiffKind.UPDATE_REPLACE else [])


class _Images:
    def get_by_alias(self, alias: str) -> Any:
        raise NotFound(_Response())

    def get(self, fingerprint: str) -> Any:
        raise NotFound(_Response())


class _ImageServer:
    images = _Images()
