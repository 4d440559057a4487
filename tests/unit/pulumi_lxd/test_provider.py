"""`LxdProvider`'s protocol methods with a fake LXD client: secrets stay secret, previews never connect,
a missing resource reads as gone, diffs reach the engine with their kinds, errors answer the call."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulumi.runtime.proto import provider_pb2
from pulumi.runtime.rpc import UNKNOWN
from pylxd.exceptions import NotFound

from pulumi_lxd.plugin.client import ProviderConfig
from pulumi_lxd.plugin.provider import LxdProvider
from pulumi_lxd.plugin.values import SECRET_SIG, SIG_KEY, plain, wire

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


class _AbortedError(Exception):
    pass


class _Context:
    """What a gRPC servicer context does for `LxdProvider`: abort the call with a status."""

    def abort(self, code: Any, details: str) -> None:
        raise _AbortedError(code, details)


CONTEXT = _Context()


def test_the_client_key_is_kept_secret_even_when_it_arrives_in_plain_text() -> None:
    provider = LxdProvider(_never)
    news = wire({"remote": "https://lxd:8443", "clientCert": "C", "clientKey": "K"})
    checked = provider.CheckConfig(provider_pb2.CheckRequest(urn="urn:x", news=news), CONTEXT)
    assert list(checked.failures) == []
    values, secrets = plain(checked.inputs)
    assert values["clientKey"] == "K" and secrets == {"clientKey"}
    assert checked.inputs.fields["clientKey"].struct_value.fields[SIG_KEY].string_value == SECRET_SIG


def test_configure_does_not_connect_and_get_schema_serves_the_schema() -> None:
    provider = LxdProvider(_never)
    request = provider_pb2.ConfigureRequest(args=wire({"remote": "https://lxd:8443"}), acceptSecrets=True)
    answer = provider.Configure(request, CONTEXT)
    assert answer.acceptSecrets and answer.supportsPreview
    schema = json.loads(provider.GetSchema(provider_pb2.GetSchemaRequest(), CONTEXT).schema)
    assert set(schema["resources"]) == {"lxd:index:Instance", "lxd:index:Profile"}


def test_a_preview_create_never_touches_lxd_and_reports_the_outputs_unknown() -> None:
    provider = LxdProvider(_never)
    inputs = wire({"name": "box", "image": "img", "config": {"user.user-data": "x"}}, frozenset({"config"}))
    request = provider_pb2.CreateRequest(urn=INSTANCE_URN, properties=inputs, timeout=60.0, preview=True)
    created = provider.Create(request, CONTEXT)
    assert created.id == "box"
    assert created.properties.fields["ipv4"].string_value == UNKNOWN  # the engine's sentinel
    assert plain(created.properties)[1] == {"config"}


def test_reading_a_resource_that_is_gone_answers_with_no_id() -> None:
    provider = LxdProvider(lambda config: _EmptyServer())
    for urn, name in ((INSTANCE_URN, "box"), (PROFILE_URN, "web")):
        read = provider.Read(provider_pb2.ReadRequest(urn=urn, id=name), CONTEXT)
        assert read.id == "" and len(read.properties.fields) == 0


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        ({"image": "other"}, provider_pb2.PropertyDiff.UPDATE_REPLACE),
        ({"profiles": ["q"]}, provider_pb2.PropertyDiff.UPDATE),
    ],
)
def test_a_diff_reaches_the_engine_with_the_kind_of_each_change(changes: dict[str, Any], kind: Any) -> None:
    provider = LxdProvider(lambda config: _ImageServer())
    state = {"name": "box", "image": "img", "profiles": ["p"], "status": "Running", "imageFingerprint": "f" * 64}
    given = {key: value for key, value in {**state, **changes}.items() if key not in ("status", "imageFingerprint")}
    news = provider.Check(provider_pb2.CheckRequest(urn=INSTANCE_URN, news=wire(given)), CONTEXT).inputs
    diff = provider.Diff(provider_pb2.DiffRequest(urn=INSTANCE_URN, id="box", olds=wire(state), news=news), CONTEXT)
    (key,) = changes
    assert diff.changes == provider_pb2.DiffResponse.DIFF_SOME and list(diff.diffs) == [key]
    assert diff.hasDetailedDiff and diff.detailedDiff[key].kind == kind
    assert list(diff.replaces) == ([key] if kind == provider_pb2.PropertyDiff.UPDATE_REPLACE else [])


def test_a_provider_configuration_change_reaches_the_engine_as_a_change() -> None:
    provider = LxdProvider(_never)
    olds, news = wire({"remote": "https://a:8443"}), wire({"remote": "https://b:8443"})
    diff = provider.DiffConfig(provider_pb2.DiffRequest(urn="urn:x", olds=olds, news=news), CONTEXT)
    assert diff.changes == provider_pb2.DiffResponse.DIFF_SOME and list(diff.diffs) == ["remote"]
    same = provider.DiffConfig(provider_pb2.DiffRequest(urn="urn:x", olds=olds, news=olds), CONTEXT)
    assert same.changes == provider_pb2.DiffResponse.DIFF_NONE


def test_an_unknown_resource_type_answers_the_call_with_its_message() -> None:
    provider = LxdProvider(_never)
    request = provider_pb2.CheckRequest(urn="urn:pulumi:dev::proj::lxd:index:Volume::v", news=wire({}))
    with pytest.raises(_AbortedError, match="no resource type 'lxd:index:Volume'"):
        provider.Check(request, CONTEXT)


def test_the_resource_type_is_the_last_of_a_nested_urn_s_types() -> None:
    provider = LxdProvider(_never)
    urn = "urn:pulumi:dev::proj::my:index:Component$lxd:index:Profile::web"
    checked = provider.Check(provider_pb2.CheckRequest(urn=urn, news=wire({"name": "web"})), CONTEXT)
    assert plain(checked.inputs)[0]["name"] == "web"


class _Images:
    def get_by_alias(self, alias: str) -> Any:
        raise NotFound(_Response())

    def get(self, fingerprint: str) -> Any:
        raise NotFound(_Response())


class _ImageServer:
    images = _Images()
