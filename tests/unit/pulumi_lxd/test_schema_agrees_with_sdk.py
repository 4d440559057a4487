"""The hand-written SDK (`pulumi_lxd`) says what the schema says: type tokens, every input as a typed
keyword argument (required exactly where the schema requires it), every property as a typed output, and
the schema's secrets sent as secrets. `pulumi package gen-sdk --language python` needs the Python language
host, which cannot be built here (ADR 0012): this test is what keeps the two together."""

from __future__ import annotations

import inspect
import json
import sys
from importlib import resources
from typing import Any

import pulumi
import pytest

import pulumi_lxd as lxd
from pulumi_lxd._naming import python_name, wire_name
from pulumi_lxd.plugin.provider import package_version, schema_text

SCHEMA: dict[str, Any] = json.loads(schema_text())
RESOURCES = {
    "lxd:index:Instance": (lxd.Instance, lxd.InstanceArgs),
    "lxd:index:Profile": (lxd.Profile, lxd.ProfileArgs),
}
SCALARS = {"string": "str", "number": "float", "boolean": "bool"}
SECRET_KEY, SECRET_VALUE = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"


def _input_type(spec: dict[str, Any]) -> str:
    kind = spec["type"]
    if kind == "array":
        return f"pulumi.Input[Sequence[{_input_type(spec['items'])}]]"
    if kind == "object":
        return f"pulumi.Input[Mapping[str, {_input_type(spec['additionalProperties'])}]]"
    return f"pulumi.Input[{SCALARS[kind]}]"


def _output_type(spec: dict[str, Any]) -> str:
    kind = spec["type"]
    if kind == "array":
        return f"list[{_output_type(spec['items'])}]"
    if kind == "object":
        return f"dict[str, {_output_type(spec['additionalProperties'])}]"
    return SCALARS[kind]


def _outputs(resource_class: type) -> dict[str, str]:
    """The resource's typed outputs: annotated attributes and accessor properties (Python names)."""
    found = {name: str(value) for name, value in resource_class.__annotations__.items()}
    for name, member in vars(resource_class).items():
        if isinstance(member, property) and member.fget is not None:
            found[name] = str(member.fget.__annotations__["return"])
    return found


def _arguments(args_class: type) -> dict[str, inspect.Parameter]:
    parameters = inspect.signature(vars(args_class)["__init__"]).parameters
    return {name: parameter for name, parameter in parameters.items() if name != "self"}


def _check_inputs(args_class: type, spec: dict[str, Any]) -> None:
    arguments = _arguments(args_class)
    properties: dict[str, Any] = spec["inputProperties"]
    assert set(arguments) == {python_name(name) for name in properties}
    required = set(spec.get("requiredInputs", []))
    for name, property_spec in properties.items():
        parameter = arguments[python_name(name)]
        assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
        expected = _input_type(property_spec)
        if name in required:
            assert parameter.default is inspect.Parameter.empty, name
            assert parameter.annotation == expected, name
        else:
            assert parameter.default is None, name
            assert parameter.annotation == f"{expected} | None", name


@pytest.mark.parametrize("token", sorted(RESOURCES))
def test_every_input_of_the_schema_is_a_typed_keyword_argument_required_where_the_schema_requires_it(
    token: str,
) -> None:
    _check_inputs(RESOURCES[token][1], SCHEMA["resources"][token])


@pytest.mark.parametrize("token", sorted(RESOURCES))
def test_every_property_of_the_schema_is_a_typed_output_of_the_resource(token: str) -> None:
    resource_class = RESOURCES[token][0]
    properties: dict[str, Any] = SCHEMA["resources"][token]["properties"]
    annotations = _outputs(resource_class)
    assert set(annotations) == {python_name(name) for name in properties}
    for name, spec in properties.items():
        assert annotations[python_name(name)] == f"pulumi.Output[{_output_type(spec)}]", name
    assert set(SCHEMA["resources"][token]["required"]) == set(properties)
    module = sys.modules[resource_class.__module__]
    assert token == module.TYPE_TOKEN


def test_the_provider_takes_the_schema_s_configuration() -> None:
    _check_inputs(lxd.ProviderArgs, SCHEMA["provider"])
    assert SCHEMA["config"]["variables"] == SCHEMA["provider"]["inputProperties"]
    outputs = _outputs(lxd.Provider)
    assert set(outputs) == {python_name(name) for name in SCHEMA["provider"]["inputProperties"]}
    assert set(outputs.values()) == {"pulumi.Output[str]"}


def test_python_and_wire_names_round_trip() -> None:
    for spec in (*[SCHEMA["resources"][token] for token in RESOURCES], SCHEMA["provider"]):
        for name in spec.get("properties", spec["inputProperties"]):
            assert wire_name(python_name(name)) == name


def test_the_plugin_serves_the_shipped_schema_and_reports_its_version() -> None:
    shipped = resources.files("pulumi_lxd").joinpath("schema.json").read_text(encoding="utf-8")
    assert schema_text() == shipped
    plugin = json.loads(resources.files("pulumi_lxd").joinpath("pulumi-plugin.json").read_text(encoding="utf-8"))
    assert plugin == {"resource": True, "name": SCHEMA["name"], "version": SCHEMA["version"]}
    assert package_version() == SCHEMA["version"]


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.registered: dict[str, tuple[str, dict[str, Any]]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.registered[args.name] = (args.typ, dict(args.inputs))
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        return {}, []


@pytest.fixture
def mocks() -> RecordingMocks:
    recording = RecordingMocks()
    pulumi.runtime.set_mocks(recording, preview=False)
    return recording


@pulumi.runtime.test  # type: ignore[untyped-decorator]
def test_the_sdk_sends_the_schema_s_wire_names_and_type_tokens(mocks: RecordingMocks) -> Any:
    profile = lxd.Profile("p", lxd.ProfileArgs(name="p", description="d", config={"a": "b"}, devices={}))
    instance = lxd.Instance(
        "i",
        lxd.InstanceArgs(
            name="i",
            image="img",
            type="container",
            profiles=["p"],
            config={},
            devices={},
            wait_for_ipv4=False,
            ipv4_interface="eth1",
            ipv4_timeout_seconds=5.0,
        ),
    )

    def check(_: Any) -> None:
        for name, token in (("p", "lxd:index:Profile"), ("i", "lxd:index:Instance")):
            registered_type, inputs = mocks.registered[name]
            assert registered_type == token
            assert set(inputs) == set(SCHEMA["resources"][token]["inputProperties"])

    return pulumi.Output.all(profile.urn, instance.urn).apply(check)


@pulumi.runtime.test  # type: ignore[untyped-decorator]
def test_the_schema_s_secret_configuration_is_sent_as_a_secret(mocks: RecordingMocks) -> Any:
    secrets = {name for name, spec in SCHEMA["provider"]["inputProperties"].items() if spec.get("secret")}
    assert secrets == {"clientKey"}
    provider = lxd.Provider(
        "lxd",
        lxd.ProviderArgs(remote="https://lxd:8443", client_cert="CERT", client_key="KEY", server_cert="SERVER"),
    )

    def check(_: Any) -> None:
        registered_type, inputs = mocks.registered["lxd"]
        assert registered_type == "pulumi:providers:lxd"
        assert inputs["clientKey"] == {SECRET_KEY: SECRET_VALUE, "value": "KEY"}  # sent with the secret marker
        assert inputs["clientCert"] == "CERT" and inputs["remote"] == "https://lxd:8443"

    return provider.urn.apply(check)


@pulumi.runtime.test  # type: ignore[untyped-decorator]
def test_outputs_with_two_word_names_are_read_through_their_python_names(mocks: RecordingMocks) -> Any:
    instance = lxd.Instance("i", lxd.InstanceArgs(name="i", image="img", wait_for_ipv4=True))

    def check(values: list[Any]) -> None:
        assert values == [True, "img"]

    return pulumi.Output.all(instance.wait_for_ipv4, instance.image).apply(check)
