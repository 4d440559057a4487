"""Entry point of the `pulumi-resource-lxd` executable (the console script): serve `LxdProvider` on the
port the engine reads from stdout. `pulumi-resource-lxd --schema` prints the schema without an engine.

The gRPC server is gRPC's own (`grpc.server`, a worker thread per call) serving the SDK's generated
`ResourceProvider` service (`proto`): the SDK's provider framework would import the whole SDK first
(ADR 0011, "The plugin without the SDK's import"). The engine's address, the first argument, is not used:
the provider asks the engine nothing.

The engine ends a plugin with SIGINT once it is done with it and waits for it to exit. A plugin the engine
is done with (`LxdProvider.done`: no LXD call running, the one Cancel the engine sends before closing it)
has nothing to finish, so it exits at once. Any other SIGINT — a busy plugin, an operation cancelled by
Ctrl-C (a second Cancel), a signal from the terminal — stops the server, cancelling the calls in flight,
and the process exits once their LXD calls have returned.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

from pulumi_lxd.plugin.provider import LxdProvider, package_version, schema_text

MAX_MESSAGE_BYTES = 400 * 1024 * 1024
"""The largest message the server takes, as the SDK's provider server sets it."""
WORKERS = 16
"""Calls served at once (the engine's default parallelism is 10 operations)."""


def exit_at_once_when_done(provider: LxdProvider) -> None:
    """SIGINT: exit now when the engine is done with the provider, else what was there before (Python's
    KeyboardInterrupt, which stops the server in `serve`)."""
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


def serve(provider: LxdProvider) -> None:
    """Serve `provider` on a free loopback port, print the port, and serve until stopped."""
    from concurrent import futures

    import grpc

    from pulumi_lxd.plugin.proto import provider_pb2_grpc

    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="rpc"),
        options=[("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)],
    )
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(provider, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:
        server.stop(grace=None)


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
    provider = LxdProvider()
    exit_at_once_when_done(provider)
    serve(provider)


if __name__ == "__main__":
    main()
