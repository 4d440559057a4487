"""`LxdProvider`: the resource provider protocol's gRPC methods for `lxd:index:Instance` and
`lxd:index:Profile`.

Each method turns the request's property maps into plain values (`values`), lets `rules` decide and
`resources` act, and answers with the keys that came in secret still secret. gRPC runs each call in a
worker thread of its own, so a blocking pylxd call leaves the server responsive. Previews (`preview=True`)
never touch LXD: what is not known yet is reported as unknown. An exception answers the call with gRPC's
UNKNOWN status and its message, which the engine reports as the resource's error.
"""

from __future__ import annotations

import functools
import json
import threading
import traceback
from collections.abc import Callable
from importlib import resources as package_files
from typing import Any, TypeVar

import grpc
from google.protobuf import empty_pb2

from pulumi_lxd.plugin import resources
from pulumi_lxd.plugin.client import ProviderConfig, open_client
from pulumi_lxd.plugin.proto import plugin_pb2, provider_pb2, provider_pb2_grpc
from pulumi_lxd.plugin.rules import (
    INSTANCE,
    INSTANCE_OUTPUTS,
    PROFILE,
    PROVIDER_SECRETS,
    Diff,
    Failure,
    check_instance,
    check_profile,
    check_provider,
    diff_instance,
    diff_profile,
    diff_provider,
)
from pulumi_lxd.plugin.values import UNKNOWN, Props, plain, wire

T = TypeVar("T")
Method = Callable[[Any, Any, Any], Any]


class UnknownResourceTypeError(Exception):
    def __init__(self, token: str) -> None:
        super().__init__(f"pulumi-resource-lxd has no resource type {token!r} (it has {INSTANCE} and {PROFILE})")


def schema_text() -> str:
    """The package schema shipped beside the SDK (`pulumi_lxd/schema.json`)."""
    return package_files.files("pulumi_lxd").joinpath("schema.json").read_text(encoding="utf-8")


def package_version() -> str:
    version: str = json.loads(schema_text())["version"]
    return version


def _failures(failures: list[Failure]) -> list[Any]:
    return [provider_pb2.CheckFailure(property=item.property, reason=item.reason) for item in failures]


def _diff_response(diff: Diff) -> Any:
    kinds = {
        key: provider_pb2.PropertyDiff(
            kind=provider_pb2.PropertyDiff.UPDATE_REPLACE if key in diff.replaces else provider_pb2.PropertyDiff.UPDATE,
            inputDiff=key not in diff.outputs_only,
        )
        for key in diff.changed
    }
    return provider_pb2.DiffResponse(
        changes=_changes(diff.changes),
        replaces=list(diff.replaces),
        deleteBeforeReplace=diff.delete_before_replace,
        diffs=list(diff.changed),
        detailedDiff=kinds,
        hasDetailedDiff=True,
    )


def _changes(changed: bool) -> Any:
    return provider_pb2.DiffResponse.DIFF_SOME if changed else provider_pb2.DiffResponse.DIFF_NONE


def _preview(token: str, inputs: Props) -> Props:
    """What a create or update will return, as far as it is known before it runs."""
    return {**inputs, **dict.fromkeys(INSTANCE_OUTPUTS, UNKNOWN)} if token == INSTANCE else dict(inputs)


def _type_of(urn: str) -> str:
    """The type token of a resource URN (`urn:pulumi:STACK::PROJECT::[PARENT$]TYPE::NAME`)."""
    return urn.split("::")[2].rsplit("$", 1)[-1]


def answers(method: Method) -> Method:
    """A protocol method whose exception answers the call: gRPC's UNKNOWN status with the exception's
    message (the engine's error for the resource), the traceback on stderr (the engine's log)."""

    @functools.wraps(method)
    def answer(self: Any, request: Any, context: Any) -> Any:
        try:
            return method(self, request, context)
        except Exception as error:
            traceback.print_exc()
            context.abort(grpc.StatusCode.UNKNOWN, str(error) or type(error).__name__)

    return answer


class LxdProvider(provider_pb2_grpc.ResourceProviderServicer):  # type: ignore[misc]
    def __init__(self, connect: Callable[[ProviderConfig], Any] = open_client) -> None:
        self._connect = connect
        self._config = ProviderConfig()
        self._client: Any = None
        self._guard = threading.Lock()
        self._in_flight = 0
        self._cancels = 0

    @property
    def busy(self) -> bool:
        """Whether an LXD call is running (in one of gRPC's worker threads)."""
        return self._in_flight > 0

    @property
    def done(self) -> bool:
        """Whether the engine is ending this plugin after an operation that ran to its end: nothing running,
        and exactly one Cancel (the engine sends one before it closes a plugin, and one more when the
        operation itself is cancelled, e.g. by Ctrl-C)."""
        return not self.busy and self._cancels == 1

    # --- plugin --------------------------------------------------------------------------------------

    def GetPluginInfo(self, request: Any, context: Any) -> Any:  # noqa: N802 (the protocol's method names)
        return plugin_pb2.PluginInfo(version=package_version())

    def Cancel(self, request: Any, context: Any) -> Any:  # noqa: N802
        with self._guard:
            self._cancels += 1
        return empty_pb2.Empty()

    def GetSchema(self, request: Any, context: Any) -> Any:  # noqa: N802
        return provider_pb2.GetSchemaResponse(schema=schema_text())

    # --- provider ------------------------------------------------------------------------------------

    @answers
    def CheckConfig(self, request: Any, context: Any) -> Any:  # noqa: N802
        news, secrets = plain(request.news)
        config, failures = check_provider(news)
        if "version" in news:
            config["version"] = news["version"]
        return provider_pb2.CheckResponse(inputs=wire(config, secrets | PROVIDER_SECRETS), failures=_failures(failures))

    @answers
    def DiffConfig(self, request: Any, context: Any) -> Any:  # noqa: N802
        olds, _ = plain(request.olds)
        news, _ = plain(request.news)
        diff = diff_provider(olds, news)
        return provider_pb2.DiffResponse(changes=_changes(diff.changes), diffs=list(diff.changed))

    @answers
    def Configure(self, request: Any, context: Any) -> Any:  # noqa: N802
        values, _ = plain(request.args)
        if not values and request.variables:
            values = {key.rsplit(":", 1)[-1]: value for key, value in request.variables.items()}
        self._config = ProviderConfig.from_inputs(values)
        self._client = None
        return provider_pb2.ConfigureResponse(acceptSecrets=True, supportsPreview=True, acceptResources=True)

    def _lxd(self) -> Any:
        """The pylxd client, opened on first use (a preview or `get-schema` never connects)."""
        if self._client is None:
            self._client = self._connect(self._config)
        return self._client

    def _call(self, body: Callable[[], T]) -> T:
        """Run an LXD call, counted as running while it does (`busy`)."""
        with self._guard:
            self._in_flight += 1
        try:
            return body()
        finally:
            with self._guard:
                self._in_flight -= 1

    # --- resources -----------------------------------------------------------------------------------

    @answers
    def Check(self, request: Any, context: Any) -> Any:  # noqa: N802
        news, secrets = plain(request.news)
        token = _type_of(request.urn)
        if token == INSTANCE:
            inputs, failures = check_instance(news)
        elif token == PROFILE:
            inputs, failures = check_profile(news)
        else:
            raise UnknownResourceTypeError(token)
        return provider_pb2.CheckResponse(inputs=wire(inputs, secrets), failures=_failures(failures))

    @answers
    def Diff(self, request: Any, context: Any) -> Any:  # noqa: N802
        olds, _ = plain(request.olds)
        news, _ = plain(request.news)
        token = _type_of(request.urn)
        if token == INSTANCE:
            diff = self._call(lambda: diff_instance(olds, news, self._image_resolver()))
        elif token == PROFILE:
            diff = diff_profile(olds, news)
        else:
            raise UnknownResourceTypeError(token)
        return _diff_response(diff)

    def _image_resolver(self) -> Callable[[str], str | None]:
        return lambda image: resources.resolve_image(self._lxd(), image)

    @answers
    def Create(self, request: Any, context: Any) -> Any:  # noqa: N802
        inputs, secrets = plain(request.properties)
        name = inputs.get("name")
        token = _type_of(request.urn)
        if request.preview:
            preview = wire(_preview(token, inputs), secrets)
            return provider_pb2.CreateResponse(id=name if isinstance(name, str) else "", properties=preview)
        outputs: Props
        if token == INSTANCE:
            outputs = self._call(lambda: resources.create_instance(self._lxd(), inputs))
        elif token == PROFILE:
            outputs = self._call(lambda: resources.create_profile(self._lxd(), inputs))
        else:
            raise UnknownResourceTypeError(token)
        return provider_pb2.CreateResponse(id=str(name), properties=wire(outputs, secrets))

    @answers
    def Read(self, request: Any, context: Any) -> Any:  # noqa: N802
        """Refresh (the last inputs given) and import (no inputs: everything is read from LXD)."""
        given, secrets = plain(request.inputs)
        _, state_secrets = plain(request.properties)
        name = request.id
        token = _type_of(request.urn)
        if token == INSTANCE:
            found = self._call(lambda: resources.read_instance(self._lxd(), name, given or None))
        elif token == PROFILE:
            profile = self._call(lambda: resources.read_profile(self._lxd(), name))
            found = None if profile is None else (profile, dict(profile))
        else:
            raise UnknownResourceTypeError(token)
        if found is None:
            return provider_pb2.ReadResponse(id="", properties=wire({}), inputs=wire({}))  # gone
        outputs, inputs = found
        return provider_pb2.ReadResponse(
            id=name,
            properties=wire(outputs, secrets | state_secrets),
            inputs=wire(inputs, secrets),
        )

    @answers
    def Update(self, request: Any, context: Any) -> Any:  # noqa: N802
        olds, _ = plain(request.olds)
        news, secrets = plain(request.news)
        token = _type_of(request.urn)
        if request.preview:
            return provider_pb2.UpdateResponse(properties=wire(_preview(token, news), secrets))
        outputs: Props
        if token == INSTANCE:
            outputs = self._call(lambda: resources.update_instance(self._lxd(), olds, news))
        elif token == PROFILE:
            outputs = self._call(lambda: resources.update_profile(self._lxd(), news))
        else:
            raise UnknownResourceTypeError(token)
        return provider_pb2.UpdateResponse(properties=wire(outputs, secrets))

    @answers
    def Delete(self, request: Any, context: Any) -> Any:  # noqa: N802
        name = request.id
        token = _type_of(request.urn)
        if token == INSTANCE:
            self._call(lambda: resources.delete_instance(self._lxd(), name))
        elif token == PROFILE:
            self._call(lambda: resources.delete_profile(self._lxd(), name))
        else:
            raise UnknownResourceTypeError(token)
        return empty_pb2.Empty()
