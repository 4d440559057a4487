"""`toolchain ensure|status|build`: the Pulumi CLI the orchestrator drives."""

from __future__ import annotations

from pathlib import Path

import typer

from orchestrator.cli.common import command_name, options, run_command
from orchestrator.cli.render import print_json

toolchain_app = typer.Typer(
    help="The Pulumi CLI the orchestrator drives (found on PATH or built from Go modules).", no_args_is_help=True
)


def _print_toolchain(ctx: typer.Context, cli: Path, version: str) -> None:
    if options(ctx).json:
        print_json({"ok": True, "command": command_name(ctx), "pulumi": {"cli": str(cli), "version": version}})
    else:
        print(f"pulumi {version} at {cli}")


@toolchain_app.command("ensure")
def toolchain_ensure(ctx: typer.Context) -> None:
    """Use the Pulumi CLI found on PATH or in the cache; build it from Go modules if there is none."""

    def body() -> None:
        from orchestrator.infrastructure.pulumi.toolchain import ensure_pulumi

        found = ensure_pulumi()
        _print_toolchain(ctx, found.cli, found.version)

    run_command(ctx, body)


@toolchain_app.command("status")
def toolchain_status(ctx: typer.Context) -> None:
    """Show which Pulumi CLI would be used (exit 1 if none)."""

    def body() -> None:
        from orchestrator.infrastructure.pulumi.toolchain import find_pulumi

        found = find_pulumi()
        _print_toolchain(ctx, found.cli, found.version)

    run_command(ctx, body)


@toolchain_app.command("build")
def toolchain_build(ctx: typer.Context) -> None:
    """Build the Pulumi CLI from Go modules into ~/.cache/torrust-deploy/pulumi/<version>."""

    def body() -> None:
        from orchestrator.infrastructure.pulumi.toolchain import build_pulumi_cli

        found = build_pulumi_cli()
        _print_toolchain(ctx, found.cli, found.version)

    run_command(ctx, body)
