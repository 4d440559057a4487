"""Entry point of the `pulumi-resource-lxd` executable (the console script): serve `LxdProvider` on the
port the engine reads from stdout. `pulumi-resource-lxd --schema` prints the schema without an engine.

The gRPC server is the Python SDK's (`pulumi.provider.experimental.server`), with one method fixed:
its DiffConfig hands the engine a bool where the protocol has an enum, so "changed" (True, 1) reads
as DIFF_NONE and a changed provider configuration would never reach the engine.

The engine ends a plugin with SIGINT once it is done with it and waits for it to exit. The SDK's server
then shuts down gRPC and asyncio (and prints "Event loop is closed" into the engine's log), ~0.1 s at
the end of every Pulumi operation. A plugin the engine is done with (`LxdProvider.done`: no LXD call
running, the one Cancel the engine sends before closing it) has nothing to finish, so it exits at once.
Any other SIGINT — a busy plugin, an operation cancelled by Ctrl-C (a second Cancel), a signal from the
terminal — gets asyncio's own handler as before (the server is cancelled): exiting early there let the
engine end before the inline program's last calls (a Traceback on the orchestrator's stderr).
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType
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
    """The SDK's `main` (gRPC server, port on stdout), serving through the fixed servicer: `main` builds
    the servicer class its module names, so that name is pointed at the subclass for this process."""
    from pulumi.provider.experimental import server

    setattr(server, "ProviderServicer", _servicer_class())  # noqa: B010 (mypy refuses assigning a class)
    server.main(args, package_version(), provider)


def exit_at_once_when_done(provider: LxdProvider) -> None:
    """SIGINT: exit now when the engine is done with the provider, else what was there before (the handler
    `asyncio.run` installs, which cancels the server gracefully). Called inside the running event loop,
    from the provider's first Configure, so that handler is the one kept for every other SIGINT."""
    previous = signal.getsignal(signal.SIGINT)

    def interrupted(signum: int, frame: FrameType | None) -> None:
        if provider.done:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        if callable(previous):
            previous(signum, frame)
        else:
            signal.default_int_handler(signum, frame)

    signal.signal(signal.SIGINT, interrupted)


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
    provider = LxdProvider(on_configure=lambda: exit_at_once_when_done(provider))
    serve(args, provider)


if __name__ == "__main__":
    main()
