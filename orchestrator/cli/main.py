"""`torrust-deploy`: a thin CLI over `orchestrator.api.Deployer`. It parses, calls, renders — nothing else.

Results go to stdout (text, or one JSON document with `--json`, see docs/cli-json.md); progress and
errors go to stderr. Exit codes: 0 ok, 1 a command failed, 2 bad usage, invalid input or wrong state,
3 the environment is locked by another process, 4 the environment does not exist (docs/cli.md).

Read-only commands (`show`, `list`, `--help`) never import Pulumi, Ansible or pylxd: the modules that
do are imported inside the commands that need them (and by `Deployer` on first use). The console script
is `quick_path.main`: it answers the common forms of those itself and runs `main()` here for the rest.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from orchestrator.cli.artifact import artifact_app
from orchestrator.cli.common import (
    DEFAULT_LOCK_TIMEOUT_S,
    ConfirmationRequiredError,
    EnvArg,
    Options,
    command_name,
    deployer_for,
    options,
    print_environment,
    print_run_result,
    run_command,
    running_pid,
    stale_warning,
)
from orchestrator.cli.day2 import add_day2_commands
from orchestrator.cli.environment_view import LIST_HEADER, list_row, list_text
from orchestrator.cli.group import CliGroup
from orchestrator.cli.lab import lab_app
from orchestrator.cli.logs import LogFormat, setup_logging
from orchestrator.cli.render import EXIT_USAGE, environment_document, environment_text, print_error, print_json
from orchestrator.cli.top_help import DESCRIPTION, HELP_OPTION_NAMES, INSPECT, LIFECYCLE, SETUP, TOOLS

if TYPE_CHECKING:
    from orchestrator.api import Deployer
    from orchestrator.domain import AnyEnvironment

_run_log = logging.getLogger("orchestrator.cli.run")

app = typer.Typer(
    name="torrust-deploy",
    cls=CliGroup,  # prints `top_help.top_level_help()` for `--help`, `-h` and no arguments
    help=DESCRIPTION,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": HELP_OPTION_NAMES},
)
create_app = typer.Typer(
    help="Create an environment, or print a config template or its JSON Schema.", no_args_is_help=True
)
toolchain_app = typer.Typer(
    help="The Pulumi CLI the orchestrator drives (found on PATH or built from Go modules).", no_args_is_help=True
)
app.add_typer(create_app, name="create", rich_help_panel=SETUP)
app.add_typer(toolchain_app, name="toolchain", rich_help_panel=TOOLS)
app.add_typer(lab_app, name="lab", rich_help_panel=TOOLS)
app.add_typer(artifact_app, name="artifact", rich_help_panel=TOOLS)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("torrust-deploy")
        except PackageNotFoundError:
            found = "unknown"
        print(f"torrust-deploy {found}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    working_dir: Annotated[
        Path,
        typer.Option(
            "--working-dir",
            "-C",
            help="Folder holding data/ (environment state) and build/ (rendered files). Default: the current folder.",
            show_default=False,
        ),
    ] = Path("."),
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON document on stdout, also for errors (docs/cli-json.md).")
    ] = False,
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="-v: tool output and INFO logs on stderr; -vv: DEBUG.")
    ] = 0,
    log_file: Annotated[
        Path | None,
        typer.Option(
            "--log-file",
            help="Append this run's log to FILE: INFO and up (DEBUG with -vv), state transitions included.",
            metavar="FILE",
        ),
    ] = None,
    log_format: Annotated[
        str,
        typer.Option(
            "--log-format",
            help="Log file format: text, json (JSON lines), or auto (json when FILE ends with .jsonl).",
            metavar="auto|text|json",
        ),
    ] = "auto",
    debug: Annotated[bool, typer.Option("--debug", help="Show Python tracebacks on errors.")] = False,
    lock_timeout: Annotated[
        float,
        typer.Option(
            "--lock-timeout",
            help="Seconds to wait for another command working on the same environment (then exit code 3).",
            metavar="SECONDS",
            min=0.0,
        ),
    ] = DEFAULT_LOCK_TIMEOUT_S,
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", callback=_version, is_eager=True)
    ] = False,
) -> None:
    opts = Options(
        working_dir=working_dir,
        json=json_output,
        verbose=verbose,
        debug=debug,
        lock_timeout=lock_timeout,
        log_file=log_file,
    )
    ctx.obj = opts
    if ctx.resilient_parsing:  # shell completion: no side effects
        return
    if log_format not in ("auto", "text", "json"):
        raise typer.BadParameter("use auto, text or json", param_hint="'--log-format'")
    fmt: LogFormat = "auto" if log_format == "auto" else "json" if log_format == "json" else "text"
    try:
        setup_logging(verbose, log_file, fmt)
    except OSError as error:
        failure = _LogFileError(f"cannot open the log file {log_file}: {error.strerror or error}")
        print_error(failure, EXIT_USAGE, json_output, ctx.invoked_subcommand)
        raise typer.Exit(EXIT_USAGE) from None
    argv = getattr(ctx.find_root().command, "argv", None) or sys.argv[1:]
    _run_log.info(
        "torrust-deploy %s (pid %d, working dir %s)",
        " ".join(argv),
        os.getpid(),
        working_dir.resolve(),
        extra={"argv": argv, "working_dir": str(working_dir.resolve())},
    )


class _LogFileError(Exception):
    tip = "Give --log-file a path in a folder that exists and is writable."


ConfigFileOpt = Annotated[
    Path, typer.Option("--file", "-f", help="Environment config file (JSON, or TOML by its .toml suffix).")
]


# --- create / validate -------------------------------------------------------------------------------


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


@app.command(rich_help_panel=SETUP)
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


# --- lifecycle ---------------------------------------------------------------------------------------
# Each command first reads the environment (cheap: no lock, no adapters), so that an unknown name fails
# fast and leaves nothing behind; `Deployer` checks the state under the environment's lock.


def _run_lifecycle(ctx: typer.Context, name: str, run: Callable[[Deployer], AnyEnvironment]) -> None:
    def body() -> None:
        deployer = deployer_for(ctx)
        deployer.show(name)
        env = run(deployer)
        stale_warning(deployer)
        print_run_result(ctx, deployer, env)

    run_command(ctx, body)


@app.command(rich_help_panel=LIFECYCLE)
def provision(ctx: typer.Context, name: EnvArg) -> None:
    """Create the instance (Pulumi + LXD), wait for SSH and cloud-init.

    From Created; re-run after a failure or an interrupted run it continues safely, and on a provisioned
    environment it repairs a missing or changed instance.
    """
    _run_lifecycle(ctx, name, lambda deployer: deployer.provision(name))


@app.command(rich_help_panel=LIFECYCLE)
def configure(ctx: typer.Context, name: EnvArg) -> None:
    """Install Docker and Docker Compose on the instance (ansible-runner).

    From Provisioned; re-run after a failure it continues safely, and on a configured environment it
    changes nothing (the playbooks are idempotent).
    """
    _run_lifecycle(ctx, name, lambda deployer: deployer.configure(name))


@app.command(rich_help_panel=LIFECYCLE)
def deploy(ctx: typer.Context, name: EnvArg) -> None:
    """Provision and configure, continuing from wherever the environment is (also after a failure)."""
    _run_lifecycle(ctx, name, lambda deployer: deployer.deploy(name))


@app.command(rich_help_panel=LIFECYCLE)
def destroy(ctx: typer.Context, name: EnvArg) -> None:
    """Delete the environment's instance, profile and stack, from any state. Keeps its records.

    Destroying a destroyed environment runs again and succeeds (nothing is left to delete).
    """
    _run_lifecycle(ctx, name, lambda deployer: deployer.destroy(name))


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


@app.command(rich_help_panel=LIFECYCLE)
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


@app.command(rich_help_panel=INSPECT)
def show(ctx: typer.Context, name: EnvArg) -> None:
    """Show an environment: state, IP, SSH command, failed step and trace, and what to run next."""

    def body() -> None:
        deployer = deployer_for(ctx)
        env = deployer.show(name)
        pid = running_pid(deployer, env.name)
        if options(ctx).json:
            print_json({"ok": True, "command": command_name(ctx), "environment": environment_document(env, pid)})
        else:
            print(environment_text(env, pid))

    run_command(ctx, body)


@app.command("list", rich_help_panel=INSPECT)
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


# --- toolchain ---------------------------------------------------------------------------------------


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


# --- generated documentation (hidden) ----------------------------------------------------------------


@app.command("cli-reference", hidden=True)
def cli_reference() -> None:
    """Print the Markdown command reference (docs/cli.md), generated from this CLI."""
    from orchestrator.cli.reference import render_reference

    sys.stdout.write(render_reference(app))


@app.command("cli-schemas", hidden=True)
def cli_schemas() -> None:
    """Print the JSON Schemas of every command's --json document."""
    from orchestrator.cli.schemas import all_schemas

    print_json(all_schemas())


# Day-2 commands (check, register, history) come after the lifecycle ones in the help.
add_day2_commands(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
