"""Read-only commands: `show` (one environment) and `list` (all of them). They never import Pulumi,
Ansible or pylxd; the console script's quick path answers their common forms without typer at all."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from orchestrator.cli.common import EnvArg, command_name, deployer_for, options, run_command, running_pid
from orchestrator.cli.environment_view import LIST_HEADER, list_row, list_text
from orchestrator.cli.render import environment_document, environment_text, print_json
from orchestrator.cli.top_help import INSPECT
from orchestrator.domain.errors import DeployError


def show(
    ctx: typer.Context,
    name: EnvArg,
    token: Annotated[
        bool, typer.Option("--token", help="Print only the tracker's REST API admin token (a secret).")
    ] = False,
) -> None:
    """Show an environment: state, IP, SSH command, failed step and trace, and what to run next."""

    def body() -> None:
        deployer = deployer_for(ctx)
        env = deployer.show(name)
        if token:
            _print_token(ctx, name, deployer.api_token(env))
            return
        pid = running_pid(deployer, env.name)
        if options(ctx).json:
            print_json({"ok": True, "command": command_name(ctx), "environment": environment_document(env, pid)})
        else:
            print(environment_text(env, pid))

    run_command(ctx, body)


def list_environments(ctx: typer.Context) -> None:
    """List the environments in the working directory (name, state, IP)."""

    def body() -> None:
        from orchestrator.persistence import UnreadableStateError

        deployer = deployer_for(ctx)
        found: list[dict[str, Any]] = []
        unreadable: list[dict[str, Any]] = []
        for env_name in deployer.repository.list():
            try:
                env = deployer.show(env_name)
            except UnreadableStateError as error:
                unreadable.append({"name": str(env_name), "message": str(error), "tip": error.tip})
                continue
            found.append(environment_document(env, running_pid(deployer, env.name)))
        if options(ctx).json:
            print_json({"ok": True, "command": command_name(ctx), "environments": found, "unreadable": unreadable})
            return
        if not unreadable:
            print(list_text(found))
            return
        print(LIST_HEADER)
        for document in found:
            print(list_row(document["name"], document["state"], document["instance_ip"]))
        for problem in unreadable:
            print(list_row(problem["name"], "(unreadable)", None))
            print(f"Warning: {problem['message']}\nTip: {problem['tip']}", file=sys.stderr)

    run_command(ctx, body)


class NoApiTokenError(DeployError):
    def __init__(self, name: str) -> None:
        super().__init__(
            f"environment '{name}' has no tracker API token yet",
            f"It is made by the first release: run `torrust-deploy release {name}` (or `deploy`).",
        )


def _print_token(ctx: typer.Context, name: str, token: str | None) -> None:
    if token is None:
        raise NoApiTokenError(name)
    if options(ctx).json:
        print_json({"ok": True, "command": command_name(ctx), "environment": name, "api_token": token})
    else:
        print(token)


def add_inspection_commands(app: typer.Typer) -> None:
    """Register `show` and `list` on the root app."""
    app.command("show", rich_help_panel=INSPECT)(show)
    app.command("list", rich_help_panel=INSPECT)(list_environments)
