"""The root command group: usage errors as `Error:` + `Tip:` lines (or a JSON error), exit code 2.

Typer would print usage errors (missing argument, unknown option or command, bad value) in a framed
box; this group reports them like every other error of the CLI. `--json` anywhere on the command line
turns them into the JSON error document (kind `UsageError`). The root help is `top_help`'s text: printed
on stdout for `--help` and `-h` (exit 0), on stderr when no command is given (exit 2).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer import _click
from typer.core import TyperGroup

from orchestrator.cli.render import EXIT_FAILED, EXIT_USAGE, print_error
from orchestrator.cli.top_help import PROG, top_level_help


class UsageError(Exception):
    """A command line the CLI cannot run; `.tip` points at the right `--help`."""

    def __init__(self, message: str, tip: str) -> None:
        super().__init__(message)
        self.tip = tip


def _command_path(ctx: _click.Context | None) -> str | None:
    names: list[str] = []
    while ctx is not None and ctx.parent is not None:
        names.append(str(ctx.info_name))
        ctx = ctx.parent
    return " ".join(reversed(names)) or None


def usage_error(error: _click.exceptions.UsageError) -> UsageError:
    command = _command_path(error.ctx)
    help_command = f"{PROG} {command} --help" if command else f"{PROG} --help"
    message = error.format_message().strip().splitlines()[0] if error.format_message().strip() else "bad usage"
    return UsageError(message, f"Run `{help_command}` for the usage.")


class CliGroup(TyperGroup):
    """`TyperGroup` whose `main` renders usage errors itself (see the module docstring), and whose help is
    the quick path's: `top_level_help()`, for `--help`, `-h` and no arguments alike."""

    argv: list[str] | None = None
    """The arguments of this run (for the log)."""

    def get_help(self, ctx: _click.Context) -> str:
        return top_level_help()

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        argv = list(sys.argv[1:] if args is None else args)
        self.argv = argv
        as_json = "--json" in argv
        try:
            result = super().main(argv, prog_name, complete_var, False, windows_expand_args, **extra)
        except _click.exceptions.NoArgsIsHelpError as error:
            print(error.format_message(), file=sys.stderr)
            sys.exit(EXIT_USAGE)
        except _click.exceptions.UsageError as error:
            print_error(usage_error(error), EXIT_USAGE, as_json, _command_path(error.ctx))
            sys.exit(EXIT_USAGE)
        except _click.exceptions.ClickException as error:  # e.g. a file option that cannot be opened
            print_error(UsageError(error.format_message(), f"Run `{PROG} --help`."), EXIT_USAGE, as_json)
            sys.exit(error.exit_code)
        except typer.Abort:
            print("Aborted.", file=sys.stderr)
            sys.exit(EXIT_FAILED)
        if isinstance(result, int) and not isinstance(result, bool):
            sys.exit(result)
        sys.exit(0)
