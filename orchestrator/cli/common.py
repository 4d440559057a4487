"""What every CLI command shares: global options, running a body with errors rendered, the Deployer."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

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


@dataclass
class Options:
    working_dir: Path
    json: bool
    verbose: int
    debug: bool


def options(ctx: typer.Context) -> Options:
    options = ctx.find_root().obj
    assert isinstance(options, Options)
    return options


class ConfirmationRequiredError(Exception):
    def __init__(self, what: str, forced_command: str) -> None:
        super().__init__(f"{what} needs confirmation and stdin is not a terminal")
        self.tip = f"Run `{forced_command}` to go ahead without asking."


def exit_code(error: BaseException) -> int:
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


def run_command(ctx: typer.Context, body: Callable[[], T]) -> T:
    """Run a command body; render any error as one line + tip and exit with its code."""
    opts = options(ctx)
    try:
        return body()
    except (typer.Exit, typer.Abort):
        raise
    except Exception as error:
        code = exit_code(error)
        if opts.debug:
            traceback.print_exc()
        if not hasattr(error, "tip"):
            error.tip = "This is unexpected; re-run with --debug and report the traceback."  # type: ignore[attr-defined]
        print_error(error, code, opts.json)
        raise typer.Exit(code) from None


def deployer_for(ctx: typer.Context) -> Deployer:
    from orchestrator.api import Deployer

    opts = options(ctx)
    progress = StderrProgress(verbose=opts.verbose >= 1)
    return Deployer(working_dir=opts.working_dir, observer=progress)


def print_environment(ctx: typer.Context, env: Any, extra: dict[str, Any] | None = None) -> None:
    opts = options(ctx)
    if opts.json:
        print_json({"ok": True, "environment": environment_document(env), **(extra or {})})
    else:
        print(environment_text(env))


def stale_warning(deployer: Deployer) -> None:
    if deployer.stale_state:
        print(
            "Warning: the state could not be saved; what is on disk is stale (see the log).",
            file=sys.stderr,
        )
