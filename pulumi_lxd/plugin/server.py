"""Entry point of the `pulumi-resource-lxd` executable (the console script): serve `LxdProvider` on the
port the engine reads from stdout. `pulumi-resource-lxd --schema` prints the schema without an engine.

The gRPC server is the Python SDK's (`pulumi.provider.experimental.server`), with one method fixed:
its `DiffConfig` hands the engine a bool where the protocol has an enum, so "changed" (True, 1) reads
as `DIFF_NONE` and a changed provider configuration would never reach the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from typing import Any

from pulumi_lxd.plugin.provider import LxdProvider, package_version, schema_text


def _servicer_class() -> type[Any]:
    from pulumi.provider.experimental import provider as protocol
    from pulumi.provider.experimental.property_value import PropertyValue
    from pulumi.provider.experimental.server import ProviderServicer
    from pulumi.runtime import proto

    class LxdProviderServicer(ProviderServicer):
        async def DiffConfig(self, request: Any, context: Any) -> Any:  # noqa: N802 (the gRPC method name)
            answer = await self._provider.diff_config(
                protocol.DiffRequest(
                    request.urn,
                    request.id,
                    PropertyValue.unmarshal_map(request.olds),
                    PropertyValue.unmarshal_map(request.news),
                    list(request.ignoreChanges),
                )
            )
            changes = proto.DiffResponse.DIFF_SOME if answer.changes else proto.DiffResponse.DIFF_NONE
            return proto.DiffResponse(
                replaces=answer.replaces,
                stables=answer.stables,
                deleteBeforeReplace=answer.delete_before_replace,
                changes=changes,
                diffs=answer.diffs,
            )

    return LxdProviderServicer


def serve(args: list[str], provider: LxdProvider) -> None:
    """What `pulumi.provider.experimental.server.main` does, with the fixed servicer."""
    import argparse

    import grpc.aio  # type: ignore[import-untyped]  # no stubs for grpcio here
    from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
    from pulumi.runtime.proto import provider_pb2_grpc

    parser = argparse.ArgumentParser(description="pulumi-lxd provider plugin (gRPC server)")
    parser.add_argument("engine", help="Pulumi engine address")
    parser.add_argument("--logflow", action="store_true", help="ignored")
    parser.add_argument("--logtostderr", action="store_true", help="ignored")
    known, _ = parser.parse_known_args(args)

    async def run() -> None:
        server = grpc.aio.server(options=_GRPC_CHANNEL_OPTIONS)
        servicer = _servicer_class()(args, package_version(), provider, engine_address=known.engine)
        provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
        port = server.add_insecure_port(address="127.0.0.1:0")
        await server.start()
        sys.stdout.buffer.write(f"{port}\n".encode())
        sys.stdout.buffer.flush()
        await server.wait_for_termination()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--schema"]:
        sys.stdout.write(schema_text())
        return
    if args[:1] == ["--version"]:
        print(package_version())
        return
    # gRPC's fork handlers are not wanted: the plugin never forks (see orchestrator.infrastructure.pulumi)
    os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
    serve(args, LxdProvider())


if __name__ == "__main__":
    main()
