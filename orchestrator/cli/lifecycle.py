"""Lifecycle commands: provision, configure, release, run, deploy, destroy, purge — and `test`.

Each lifecycle command runs through `Deployer.run_command`: one hold of the environment's lock, one read,
one state check (an unknown name or a wrong state fails before any adapter is built).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from orchestrator.cli.common import (
    ConfirmationRequiredError,
    EnvArg,
    close_progress,
    command_name,
    deployer_for,
    options,
    print_run_result,
    run_command,
    stale_warning,
)
from orchestrator.cli.render import print_json
from orchestrator.cli.top_help import LIFECYCLE

if TYPE_CHECKING:
    from orchestrator.commands.tracker_ports import CheckOutcome


def _run_lifecycle(ctx: typer.Context, command: str, name: str) -> None:
    def body() -> None:
        result = deployer_for(ctx).run_command(command, name)
        stale_warning(result)
        print_run_result(ctx, result)

    run_command(ctx, body)


def provision(ctx: typer.Context, name: EnvArg) -> None:
    """Create the instance (Pulumi + LXD), wait for SSH and cloud-init.

    From Created; re-run after a failure or an interrupted run it continues safely, and on a provisioned
    environment it repairs a missing or changed instance.
    """
    _run_lifecycle(ctx, "provision", name)


def configure(ctx: typer.Context, name: EnvArg) -> None:
    """Install Docker and Docker Compose on the instance (ansible-runner).

    From Provisioned; re-run after a failure it continues safely, and on a configured environment it
    changes nothing (the playbooks are idempotent).
    """
    _run_lifecycle(ctx, "configure", name)


def release(
    ctx: typer.Context,
    name: EnvArg,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            "-f",
            help="The environment's config file: its `tracker` section replaces the stored one (a new version "
            "or config).",
        ),
    ] = None,
) -> None:
    """Put the tracker on the host: its image (built here, no registry), compose file, config and token.

    From Configured; re-run after a failure it continues safely, and on a released or running
    environment it ships a changed config or version (`-f FILE`; then `run` applies it).
    """

    def body() -> None:
        from orchestrator.config import load_config

        deployer = deployer_for(ctx)
        tracker = None if file is None else deployer.tracker_of(name, load_config(file))
        result = deployer.release_result(name, tracker)
        stale_warning(result)
        print_run_result(ctx, result)

    run_command(ctx, body)


def run(ctx: typer.Context, name: EnvArg) -> None:
    """Start the released tracker (`docker compose up -d`) and wait until its health check passes.

    From Released; re-run after a failure it continues safely, and on a running environment it
    restarts the tracker only if its release changed.
    """
    _run_lifecycle(ctx, "run", name)


def deploy(ctx: typer.Context, name: EnvArg) -> None:
    """Provision, configure, release and run, continuing from wherever the environment is.

    Ends Running when the config has a tracker (Configured without one); also continues after a failure.
    """
    _run_lifecycle(ctx, "deploy", name)


def destroy(ctx: typer.Context, name: EnvArg) -> None:
    """Delete the environment's instance, profile and stack, from any state. Keeps its records.

    Destroying a destroyed environment runs again and succeeds (nothing is left to delete).
    """
    _run_lifecycle(ctx, "destroy", name)


def _check_document(check: CheckOutcome) -> dict[str, Any]:
    return {"name": check.name, "ok": check.ok, "detail": check.detail, "seconds": round(check.duration_s, 3)}


def _check_line(check: CheckOutcome) -> str:
    return f"{'ok  ' if check.ok else 'FAIL'}  {check.name:<28} {check.duration_s:6.2f} s  {check.detail}"


def test(ctx: typer.Context, name: EnvArg) -> None:
    """Check from here that the tracker answers: health, REST API, HTTP and UDP announce + scrape.

    Changes nothing (a throwaway test peer is announced). Exit 1 when a check fails.
    """
    from orchestrator.commands.errors import TrackerTestFailedError

    def body() -> None:
        deployer = deployer_for(ctx)
        try:
            report = deployer.test(name)
        except TrackerTestFailedError as failed:
            if not options(ctx).json:
                close_progress(ctx)
                for check in failed.checks:
                    print(_check_line(check))  # type: ignore[arg-type]
            raise
        close_progress(ctx)
        if options(ctx).json:
            checks = [_check_document(check) for check in report.checks]
            print_json({"ok": True, "command": command_name(ctx), "environment": name, "checks": checks})
            return
        for check in report.checks:
            print(_check_line(check))
        print(f"All {len(report.checks)} checks passed.")

    run_command(ctx, body)


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def purge(
    ctx: typer.Context,
    name: EnvArg,
    force: Annotated[
        bool,
        typer.Option("--force", help="Do not ask; also drop the records of an environment that was not destroyed."),
    ] = False,
) -> None:
    """Delete the environment's records and files (normally after destroy). Asks first unless --force."""

    def body() -> None:
        deployer = deployer_for(ctx)
        deployer.show(name)
        if not force:
            if not _stdin_is_terminal():
                raise ConfirmationRequiredError(f"purge of '{name}'", f"torrust-deploy purge {name} --force")
            typer.confirm(f"Delete all records of environment '{name}'?", abort=True, err=True)
        deployer.purge(name, force=force)
        if options(ctx).json:
            print_json({"ok": True, "command": command_name(ctx), "purged": name})
        else:
            print(f"Purged environment '{name}'.")

    run_command(ctx, body)


def add_lifecycle_commands(app: typer.Typer) -> None:
    """Register the lifecycle commands on the root app, in the order of the journey."""
    for command in (provision, configure, release, run, deploy, destroy, purge, test):
        app.command(command.__name__, rich_help_panel=LIFECYCLE)(command)
