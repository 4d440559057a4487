"""`torrust-deploy`: a thin CLI over `orchestrator.api.Deployer`. It parses, calls, renders — nothing else.

Exit codes: 0 ok, 1 a command failed, 2 bad usage or invalid input, 3 the environment is locked by
another process, 4 the environment does not exist.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from orchestrator.cli.lab import lab_app
from orchestrator.cli.render import (
    EXIT_FAILED,
    EXIT_LOCKED,
    EXIT_NOT_FOUND,
    EXIT_USAGE,
    StderrProgress,
    environment_document,
    environment_text,
    print_error,
    print_json,
)

if TYPE_CHECKING:
    from orchestrator.api import Deployer

T = TypeVar("T")

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


@dataclass
class Options:
    working_dir: Path
    json: bool
    verbose: int
    debug: bool


def _options(ctx: typer.Context) -> Options:
    options = ctx.find_root().obj
    assert isinstance(options, Options)
    return options


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


class ConfirmationRequiredError(Exception):
    def __init__(self, what: str, forced_command: str) -> None:
        super().__init__(f"{what} needs confirmation and stdin is not a terminal")
        self.tip = f"Run `{forced_command}` to go ahead without asking."


def _exit_code(error: BaseException) -> int:
    from orchestrator.api import EnvironmentNotFoundError, PurgeRefusedError
    from orchestrator.config import ConfigError
    from orchestrator.domain import DomainError, InvalidTransitionError, WrongStateError
    from orchestrator.persistence import LockTimeoutError

    if isinstance(error, LockTimeoutError):
        return EXIT_LOCKED
    if isinstance(error, EnvironmentNotFoundError):
        return EXIT_NOT_FOUND
    if isinstance(error, WrongStateError | InvalidTransitionError | PurgeRefusedError | ConfirmationRequiredError):
        return EXIT_USAGE
    if isinstance(error, ConfigError | DomainError):
        return EXIT_USAGE
    return EXIT_FAILED


def _run(ctx: typer.Context, body: Callable[[], T]) -> T:
    """Run a command body; render any error as one line + tip and exit with its code."""
    options = _options(ctx)
    try:
        return body()
    except (typer.Exit, typer.Abort):
        raise
    except Exception as error:
        code = _exit_code(error)
        if options.debug:
            traceback.print_exc()
        if not hasattr(error, "tip"):
            error.tip = "This is unexpected; re-run with --debug and report the traceback."  # type: ignore[attr-defined]
        print_error(error, code, options.json)
        raise typer.Exit(code) from None


def _deployer(ctx: typer.Context) -> Deployer:
    from orchestrator.api import Deployer

    options = _options(ctx)
    progress = StderrProgress(verbose=options.verbose >= 1)
    return Deployer(working_dir=options.working_dir, observer=progress)


def _print_environment(ctx: typer.Context, env: Any, extra: dict[str, Any] | None = None) -> None:
    options = _options(ctx)
    if options.json:
        print_json({"ok": True, "environment": environment_document(env), **(extra or {})})
    else:
        print(environment_text(env))


def _stale_warning(deployer: Deployer) -> None:
    if deployer.stale_state:
        print(
            "Warning: the state could not be saved; what is on disk is stale (see the log).",
            file=sys.stderr,
        )


EnvArg = Annotated[str, typer.Argument(help="Environment name.", show_default=False)]
ConfigFileOpt = Annotated[Path, typer.Option("--file", "-f", help="Environment config file (JSON or TOML).")]


# --- create / validate -------------------------------------------------------------------------------


@create_app.command("environment")
def create_environment(ctx: typer.Context, file: ConfigFileOpt) -> None:
    """Create an environment (state Created) from a config file."""

    def body() -> None:
        from orchestrator.config import load_config

        env = _deployer(ctx).create(load_config(file))
        _print_environment(ctx, env)

    _run(ctx, body)


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
        if _options(ctx).json:
            print_json({"ok": True, "config": config.model_dump(mode="json")})
        else:
            print(f"{file}: valid (environment '{config.name}')")

    _run(ctx, body)


# --- lifecycle ---------------------------------------------------------------------------------------


@app.command()
def provision(ctx: typer.Context, name: EnvArg) -> None:
    """Create the instance (Pulumi + LXD), wait for SSH and cloud-init."""

    def body() -> None:
        deployer = _deployer(ctx)
        env = deployer.provision(name)
        _stale_warning(deployer)
        _print_environment(ctx, env)

    _run(ctx, body)


@app.command()
def configure(ctx: typer.Context, name: EnvArg) -> None:
    """Install Docker and Docker Compose on a provisioned instance (ansible-runner)."""

    def body() -> None:
        deployer = _deployer(ctx)
        env = deployer.configure(name)
        _stale_warning(deployer)
        _print_environment(ctx, env)

    _run(ctx, body)


@app.command()
def deploy(ctx: typer.Context, name: EnvArg) -> None:
    """Provision and configure, continuing from where the environment is."""

    def body() -> None:
        deployer = _deployer(ctx)
        env = deployer.deploy(name)
        _stale_warning(deployer)
        _print_environment(ctx, env)

    _run(ctx, body)


@app.command()
def destroy(ctx: typer.Context, name: EnvArg) -> None:
    """Delete the environment's instance and stack (from any state)."""

    def body() -> None:
        deployer = _deployer(ctx)
        env = deployer.destroy(name)
        _stale_warning(deployer)
        _print_environment(ctx, env)

    _run(ctx, body)


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
        deployer = _deployer(ctx)
        if not force:
            if not sys.stdin.isatty():
                deployer.show(name)
                raise ConfirmationRequiredError(f"purge of '{name}'", f"torrust-deploy purge {name} --force")
            typer.confirm(f"Delete all records of environment '{name}'?", abort=True)
        deployer.purge(name, force=force)
        if _options(ctx).json:
            print_json({"ok": True, "purged": name})
        else:
            print(f"Purged environment '{name}'.")

    _run(ctx, body)


@app.command()
def show(ctx: typer.Context, name: EnvArg) -> None:
    """Show an environment: state, IP, SSH command, failure and what to run next."""
    _run(ctx, lambda: _print_environment(ctx, _deployer(ctx).show(name)))


@app.command("list")
def list_environments(ctx: typer.Context) -> None:
    """List the environments in the working directory."""

    def body() -> None:
        envs = _deployer(ctx).list()
        if _options(ctx).json:
            print_json({"ok": True, "environments": [environment_document(env) for env in envs]})
            return
        if not envs:
            print("No environments.")
        for env in envs:
            ip = env.context.instance_ip or "-"
            print(f"{env.name!s:<24} {type(env.state).__name__:<16} {ip}")

    _run(ctx, body)


# --- toolchain ---------------------------------------------------------------------------------------


def _print_toolchain(ctx: typer.Context, cli: Path, version: str) -> None:
    if _options(ctx).json:
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

    _run(ctx, body)


@toolchain_app.command("status")
def toolchain_status(ctx: typer.Context) -> None:
    """Show which Pulumi CLI would be used (exit 1 if none)."""

    def body() -> None:
        from orchestrator.infrastructure.pulumi.toolchain import find_pulumi

        found = find_pulumi()
        _print_toolchain(ctx, found.cli, found.version)

    _run(ctx, body)


@toolchain_app.command("build")
def toolchain_build(ctx: typer.Context) -> None:
    """Build the Pulumi CLI from Go modules into ~/.cache/torrust-deploy/pulumi/<version>."""

    def body() -> None:
        from orchestrator.infrastructure.pulumi.toolchain import build_pulumi_cli

        found = build_pulumi_cli()
        _print_toolchain(ctx, found.cli, found.version)

    _run(ctx, body)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
