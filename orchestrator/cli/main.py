"""`torrust-deploy`: a thin CLI over `orchestrator.api.Deployer`. It parses, calls, renders — nothing else.

Exit codes: 0 ok, 1 a command failed, 2 bad usage or invalid input, 3 the environment is locked by
another process, 4 the environment does not exist.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from orchestrator.cli.common import (
    ConfirmationRequiredError,
    Options,
    deployer_for,
    options,
    print_environment,
    run_command,
    stale_warning,
)
from orchestrator.cli.day2 import add_day2_commands
from orchestrator.cli.lab import lab_app
from orchestrator.cli.render import environment_document, print_json

app = typer.Typer(
    name="torrust-deploy",
    help="Take a Torrust Tracker deployment environment from nothing to a configured host.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
create_app = typer.Typer(help="Create an environment, or print a config template or its JSON Schema.")
toolchain_app = typer.Typer(help="The Pulumi CLI the orchestrator drives (found on PATH or built from Go modules).")
app.add_typer(create_app, name="create")
app.add_typer(toolchain_app, name="toolchain")
app.add_typer(lab_app, name="lab")
add_day2_commands(app)


@app.callback()
def main_options(
    ctx: typer.Context,
    working_dir: Annotated[
        Path, typer.Option("--working-dir", "-C", help="Folder holding data/ and build/.", show_default=False)
    ] = Path("."),
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="-v tool output, -vv debug logs.")] = 0,
    log_file: Annotated[Path | None, typer.Option("--log-file", help="Also write logs to this file.")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show Python tracebacks on errors.")] = False,
) -> None:
    ctx.obj = Options(working_dir=working_dir, json=json_output, verbose=verbose, debug=debug)
    level = logging.DEBUG if verbose >= 2 else logging.INFO if verbose == 1 else logging.WARNING
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    logging.basicConfig(level=level, handlers=handlers, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


EnvArg = Annotated[str, typer.Argument(help="Environment name.", show_default=False)]
ConfigFileOpt = Annotated[Path, typer.Option("--file", "-f", help="Environment config file (JSON or TOML).")]


# --- create / validate -------------------------------------------------------------------------------


@create_app.command("environment")
def create_environment(ctx: typer.Context, file: ConfigFileOpt) -> None:
    """Create an environment (state Created) from a config file."""

    def body() -> None:
        from orchestrator.config import load_config

        env = deployer_for(ctx).create(load_config(file))
        print_environment(ctx, env)

    run_command(ctx, body)


@create_app.command("template")
def create_template(ctx: typer.Context) -> None:
    """Print an example environment config (JSON) to edit."""
    from orchestrator.config import config_template

    print_json(config_template())


@create_app.command("schema")
def create_schema(ctx: typer.Context) -> None:
    """Print the JSON Schema of the environment config file."""
    from orchestrator.config import config_schema

    print_json(config_schema())


@app.command()
def validate(ctx: typer.Context, file: ConfigFileOpt) -> None:
    """Check a config file without creating anything (no network)."""

    def body() -> None:
        from orchestrator.config import load_config

        config = load_config(file)
        if options(ctx).json:
            print_json({"ok": True, "config": config.model_dump(mode="json")})
        else:
            print(f"{file}: valid (environment '{config.name}')")

    run_command(ctx, body)


# --- lifecycle ---------------------------------------------------------------------------------------


@app.command()
def provision(ctx: typer.Context, name: EnvArg) -> None:
    """Create the instance (Pulumi + LXD), wait for SSH and cloud-init."""

    def body() -> None:
        deployer = deployer_for(ctx)
        env = deployer.provision(name)
        stale_warning(deployer)
        print_environment(ctx, env)

    run_command(ctx, body)


@app.command()
def configure(ctx: typer.Context, name: EnvArg) -> None:
    """Install Docker and Docker Compose on a provisioned instance (ansible-runner)."""

    def body() -> None:
        deployer = deployer_for(ctx)
        env = deployer.configure(name)
        stale_warning(deployer)
        print_environment(ctx, env)

    run_command(ctx, body)


@app.command()
def deploy(ctx: typer.Context, name: EnvArg) -> None:
    """Provision and configure, continuing from where the environment is."""

    def body() -> None:
        deployer = deployer_for(ctx)
        env = deployer.deploy(name)
        stale_warning(deployer)
        print_environment(ctx, env)

    run_command(ctx, body)


@app.command()
def destroy(ctx: typer.Context, name: EnvArg) -> None:
    """Delete the environment's instance and stack (from any state)."""

    def body() -> None:
        deployer = deployer_for(ctx)
        env = deployer.destroy(name)
        stale_warning(deployer)
        print_environment(ctx, env)

    run_command(ctx, body)


@app.command()
def purge(
    ctx: typer.Context,
    name: EnvArg,
    force: Annotated[
        bool, typer.Option("--force", help="Do not ask; also drop a record whose instance exists.")
    ] = False,
) -> None:
    """Delete the environment's record and files (after destroy)."""

    def body() -> None:
        deployer = deployer_for(ctx)
        if not force:
            if not sys.stdin.isatty():
                deployer.show(name)
                raise ConfirmationRequiredError(f"purge of '{name}'", f"torrust-deploy purge {name} --force")
            typer.confirm(f"Delete all records of environment '{name}'?", abort=True)
        deployer.purge(name, force=force)
        if options(ctx).json:
            print_json({"ok": True, "purged": name})
        else:
            print(f"Purged environment '{name}'.")

    run_command(ctx, body)


@app.command()
def show(ctx: typer.Context, name: EnvArg) -> None:
    """Show an environment: state, IP, SSH command, failure and what to run next."""
    run_command(ctx, lambda: print_environment(ctx, deployer_for(ctx).show(name)))


@app.command("list")
def list_environments(ctx: typer.Context) -> None:
    """List the environments in the working directory."""

    def body() -> None:
        envs = deployer_for(ctx).list()
        if options(ctx).json:
            print_json({"ok": True, "environments": [environment_document(env) for env in envs]})
            return
        if not envs:
            print("No environments.")
        for env in envs:
            ip = env.context.instance_ip or "-"
            print(f"{env.name!s:<24} {type(env.state).__name__:<16} {ip}")

    run_command(ctx, body)


# --- toolchain ---------------------------------------------------------------------------------------


def _print_toolchain(ctx: typer.Context, cli: Path, version: str) -> None:
    if options(ctx).json:
        print_json({"ok": True, "pulumi": {"cli": str(cli), "version": version}})
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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
