"""`LxdProvider`: the resource provider protocol's methods for `lxd:index:Instance` and `lxd:index:Profile`.

The protocol's requests carry `PropertyValue`s; each method turns them into plain values, lets `rules`
decide and `resources` act (pylxd is blocking: it runs in a worker thread so the gRPC server stays
responsive), and answers with the keys that came in secret still secret. Previews (`preview=True`) never
touch LXD: what is not known yet is reported as unknown.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from importlib import resources as package_files
from typing import Any, TypeVar

from pulumi.provider.experimental import provider as protocol

from pulumi_lxd.plugin import resources
from pulumi_lxd.plugin.client import ProviderConfig, open_client
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


class UnknownResourceTypeError(Exception):
    def __init__(self, token: str) -> None:
        super().__init__(f"pulumi-resource-lxd has no resource type {token!r} (it has {INSTANCE} and {PROFILE})")


def schema_text() -> str:
    """The package schema shipped beside the SDK (`pulumi_lxd/schema.json`)."""
    return package_files.files("pulumi_lxd").joinpath("schema.json").read_text(encoding="utf-8")


def package_version() -> str:
    version: str = json.loads(schema_text())["version"]
    return version


def _failures(failures: list[Failure]) -> list[protocol.CheckFailure] | None:
    return [protocol.CheckFailure(item.property, item.reason) for item in failures] or None


def _diff_response(diff: Diff) -> protocol.DiffResponse:
    kinds = {
        key: protocol.PropertyDiff(
            protocol.PropertyDiffKind.UPDATE_REPLACE if key in diff.replaces else protocol.PropertyDiffKind.UPDATE,
            input_diff=key not in diff.outputs_only,
        )
        for key in diff.changed
    }
    return protocol.DiffResponse(
        changes=diff.changes,
        replaces=list(diff.replaces),
        delete_before_replace=diff.delete_before_replace,
        diffs=list(diff.changed),
        detailed_diff=kinds,
    )


def _preview(token: str, inputs: Props) -> Props:
    """What a create or update will return, as far as it is known before it runs."""
    return {**inputs, **dict.fromkeys(INSTANCE_OUTPUTS, UNKNOWN)} if token == INSTANCE else dict(inputs)


class LxdProvider(protocol.Provider):
    def __init__(
        self, connect: Callable[[ProviderConfig], Any] = open_client, on_configure: Callable[[], None] | None = None
    ) -> None:
        self._connect = connect
        self._on_configure = on_configure
        self._config = ProviderConfig()
        self._client: Any = None
        self._in_flight = 0
        self._cancels = 0

    @property
    def busy(self) -> bool:
        """Whether an LXD call is running (in a worker thread)."""
        return self._in_flight > 0

    @property
    def done(self) -> bool:
        """Whether the engine is ending this plugin after an operation that ran to its end: nothing running,
        and exactly one Cancel (the engine sends one before it closes a plugin, and one more when the
        operation itself is cancelled, e.g. by Ctrl-C)."""
        return not self.busy and self._cancels == 1

    async def cancel(self) -> None:
        self._cancels += 1

    # --- provider ------------------------------------------------------------------------------------

    async def get_schema(self, request: protocol.GetSchemaRequest) -> protocol.GetSchemaResponse:
        return protocol.GetSchemaResponse(schema=schema_text())

    async def check_config(self, request: protocol.CheckRequest) -> protocol.CheckResponse:
        news, secrets = plain(request.new_inputs)
        config, failures = check_provider(news)
        if "version" in news:
            config["version"] = news["version"]
        return protocol.CheckResponse(inputs=wire(config, secrets | PROVIDER_SECRETS), failures=_failures(failures))

    async def diff_config(self, request: protocol.DiffRequest) -> protocol.DiffResponse:
        olds, _ = plain(request.old_state)
        news, _ = plain(request.new_inputs)
        diff = diff_provider(olds, news)
        # DiffConfig answers without a detailed diff: the SDK's server cannot send one for it.
        return protocol.DiffResponse(changes=diff.changes, diffs=list(diff.changed))

    async def configure(self, request: protocol.ConfigureRequest) -> protocol.ConfigureResponse:
        if self._on_configure is not None:  # once, inside the server's event loop (see `server`)
            self._on_configure()
            self._on_configure = None
        values, _ = plain(request.args)
        if not values and request.variables:
            values = {key.rsplit(":", 1)[-1]: value for key, value in request.variables.items()}
        self._config = ProviderConfig.from_inputs(values)
        self._client = None
        return protocol.ConfigureResponse(accept_secrets=True, supports_preview=True, accept_resources=True)

    def _lxd(self) -> Any:
        """The pylxd client, opened on first use (a preview or `get-schema` never connects)."""
        if self._client is None:
            self._client = self._connect(self._config)
        return self._client

    async def _call(self, body: Callable[[], T]) -> T:
        self._in_flight += 1
        try:
            return await asyncio.to_thread(body)
        finally:
            self._in_flight -= 1

    # --- resources -----------------------------------------------------------------------------------

    async def check(self, request: protocol.CheckRequest) -> protocol.CheckResponse:
        news, secrets = plain(request.new_inputs)
        if request.type == INSTANCE:
            inputs, failures = check_instance(news)
        elif request.type == PROFILE:
            inputs, failures = check_profile(news)
        else:
            raise UnknownResourceTypeError(request.type)
        return protocol.CheckResponse(inputs=wire(inputs, secrets), failures=_failures(failures))

    async def diff(self, request: protocol.DiffRequest) -> protocol.DiffResponse:
        olds, _ = plain(request.old_state)
        news, _ = plain(request.new_inputs)
        if request.type == INSTANCE:
            diff = await self._call(lambda: diff_instance(olds, news, self._image_resolver()))
        elif request.type == PROFILE:
            diff = diff_profile(olds, news)
        else:
            raise UnknownResourceTypeError(request.type)
        return _diff_response(diff)

    def _image_resolver(self) -> Callable[[str], str | None]:
        return lambda image: resources.resolve_image(self._lxd(), image)

    async def create(self, request: protocol.CreateRequest) -> protocol.CreateResponse:
        inputs, secrets = plain(request.properties)
        name = inputs.get("name")
        if request.preview:
            preview = wire(_preview(request.type, inputs), secrets)
            return protocol.CreateResponse(resource_id=name if isinstance(name, str) else "", properties=preview)
        outputs: Props
        if request.type == INSTANCE:
            outputs = await self._call(lambda: resources.create_instance(self._lxd(), inputs))
        elif request.type == PROFILE:
            outputs = await self._call(lambda: resources.create_profile(self._lxd(), inputs))
        else:
            raise UnknownResourceTypeError(request.type)
        return protocol.CreateResponse(resource_id=str(name), properties=wire(outputs, secrets))

    async def read(self, request: protocol.ReadRequest) -> protocol.ReadResponse:
        """Refresh (the last inputs given) and import (no inputs: everything is read from LXD)."""
        given, secrets = plain(request.inputs)
        _, state_secrets = plain(request.properties)
        name = request.resource_id
        if request.type == INSTANCE:
            found = await self._call(lambda: resources.read_instance(self._lxd(), name, given or None))
        elif request.type == PROFILE:
            profile = await self._call(lambda: resources.read_profile(self._lxd(), name))
            found = None if profile is None else (profile, dict(profile))
        else:
            raise UnknownResourceTypeError(request.type)
        if found is None:
            return protocol.ReadResponse(resource_id="", properties={}, inputs={})
        outputs, inputs = found
        return protocol.ReadResponse(
            resource_id=name,
            properties=wire(outputs, secrets | state_secrets),
            inputs=wire(inputs, secrets),
        )

    async def update(self, request: protocol.UpdateRequest) -> protocol.UpdateResponse:
        olds, _ = plain(request.olds)
        news, secrets = plain(request.news)
        if request.preview:
            return protocol.UpdateResponse(properties=wire(_preview(request.type, news), secrets))
        outputs: Props
        if request.type == INSTANCE:
            outputs = await self._call(lambda: resources.update_instance(self._lxd(), olds, news))
        elif request.type == PROFILE:
            outputs = await self._call(lambda: resources.update_profile(self._lxd(), news))
        else:
            raise UnknownResourceTypeError(request.type)
        return protocol.UpdateResponse(properties=wire(outputs, secrets))

    async def delete(self, request: protocol.DeleteRequest) -> None:
        name = request.resource_id
        if request.type == INSTANCE:
            await self._call(lambda: resources.delete_instance(self._lxd(), name))
        elif request.type == PROFILE:
            await self._call(lambda: resources.delete_profile(self._lxd(), name))
        else:
            raise UnknownResourceTypeError(request.type)
