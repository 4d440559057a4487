"""`torrust-deploy`: a thin CLI over `orchestrator.api.Deployer`. It parses, calls, renders — nothing else.

Results go to stdout (text, or one JSON document with `--json`, see docs/cli-json.md); progress and
errors go to stderr. Exit codes: `orchestrator.domain.ExitCode` (each error carries its own).
The commands live in one module per feature: `setup_commands`, `lifecycle`, `inspection`, `day2`,
`toolchain`, `lab`, `artifact`; this module holds the root app and its global options.

Read-only commands (`show`, `list`, `--help`) never import Pulumi, Ansible or pylxd: the modules that
do are imported inside the commands that need them (and by `Deployer` on first use). The console script
is `quick_path.main`: it answers the common forms of those itself and runs `main()` here for the rest.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from orchestrator.cli.artifact import artifact_app
from orchestrator.cli.common import DEFAULT_LOCK_TIMEOUT_S, Options
from orchestrator.cli.day2 import add_day2_commands
from orchestrator.cli.group import CliGroup
from orchestrator.cli.inspection import add_inspection_commands
from orchestrator.cli.lab import lab_app
from orchestrator.cli.lifecycle import add_lifecycle_commands
from orchestrator.cli.logs import LogFormat, setup_logging
from orchestrator.cli.render import EXIT_USAGE, print_error, print_json
from orchestrator.cli.setup_commands import add_setup_commands
from orchestrator.cli.toolchain import toolchain_app
from orchestrator.cli.top_help import DESCRIPTION, HELP_OPTION_NAMES, TOOLS

_run_log = logging.getLogger("orchestrator.cli.run")

app = typer.Typer(
    name="torrust-deploy",
    cls=CliGroup,  # prints `top_help.top_level_help()` for `--help`, `-h` and no arguments
    help=DESCRIPTION,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": HELP_OPTION_NAMES},
)
add_setup_commands(app)
add_lifecycle_commands(app)
add_inspection_commands(app)
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
        setup_logging(verbose, log_file, fmt, tracebacks=debug)
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
