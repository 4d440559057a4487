"""Entry point of the `pulumi-resource-lxd` executable (the console script): serve `LxdProvider` on the
port the engine reads from stdout. `pulumi-resource-lxd --schema` prints the schema without an engine."""

from __future__ import annotations

import os
import sys

from pulumi_lxd.plugin.provider import LxdProvider, package_version, schema_text


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
    from pulumi.provider.experimental.server import main as serve

    serve(args, package_version(), LxdProvider())


if __name__ == "__main__":
    main()
