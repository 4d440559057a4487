"""Set-up commands: `create environment|template|schema` and `validate` (no network, nothing provisioned)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from orchestrator.cli.common import command_name, deployer_for, options, print_environment, run_command
from orchestrator.cli.render import print_json
from orchestrator.cli.top_help import SETUP

create_app = typer.Typer(
    help="Create an environment, or print a config template or its JSON Schema.", no_args_is_help=True
)

ConfigFileOpt = Annotated[
    Path, typer.Option("--file", "-f", help="Environment config file (JSON, or TOML by its .toml suffix).")
]


@create_app.command("environment")
def create_environment(ctx: typer.Context, file: ConfigFileOpt) -> None:
    """Create an environment (state Created) from a config file; nothing is provisioned yet."""

    def body() -> None:
        from orchestrator.config import load_config

        config = load_config(file)
        env = deployer_for(ctx).create(config)
        print_environment(ctx, env)

    run_command(ctx, body)


@create_app.command("template")
def create_template(
    ctx: typer.Context,
    name: Annotated[
        str, typer.Option("--name", help="Environment name; the key paths become keys/NAME and keys/NAME.pub.")
    ] = "my-env",
) -> None:
    """Print an example environment config (JSON) to save and edit: `create template > env.json`."""

    def body() -> None:
        from orchestrator.config import config_template

        template = config_template(name)
        if options(ctx).json:
            print_json({"ok": True, "command": command_name(ctx), "template": template})
        else:
            print_json(template)

    run_command(ctx, body)


@create_app.command("schema")
def create_schema(ctx: typer.Context) -> None:
    """Print the JSON Schema of the environment config file."""
    from orchestrator.config import config_schema

    if options(ctx).json:
        print_json({"ok": True, "command": command_name(ctx), "schema": config_schema()})
    else:
        print_json(config_schema())


def validate(ctx: typer.Context, file: ConfigFileOpt) -> None:
    """Check a config file without creating anything (no network): syntax, fields, names, key files."""

    def body() -> None:
        from orchestrator.config import key_pair_mismatch, load_config

        config = load_config(file)
        warnings = [warning for warning in [key_pair_mismatch(config.ssh)] if warning]
        if options(ctx).json:
            print_json(
                {
                    "ok": True,
                    "command": command_name(ctx),
                    "file": str(file),
                    "config": config.model_dump(mode="json"),
                    "warnings": warnings,
                }
            )
            return
        for warning in warnings:
            print(f"Warning: {warning}", file=sys.stderr)
        print(f"{file}: valid (environment '{config.name}')")

    run_command(ctx, body)


def add_setup_commands(app: typer.Typer) -> None:
    """Register `create` and `validate` on the root app."""
    app.add_typer(create_app, name="create", rich_help_panel=SETUP)
    app.command("validate", rich_help_panel=SETUP)(validate)
