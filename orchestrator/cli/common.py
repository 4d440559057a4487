"""What every CLI feature module shares: the run's global `Options`, `EnvArg` (the ENVIRONMENT argument,
with shell completion of the names), `run_command` (a command's body with any error rendered as one line
and a tip, ending with the error's own `DeployError.exit_code`), `deployer_for` (the run's `Deployer`),
`command_name`, and printing an environment, a lifecycle command's result and its stale-state warning.

The feature modules (`setup_commands`, `lifecycle`, `inspection`, `day2`, `toolchain`, `lab`, `artifact`)
and `main` import from here; keep those names and their signatures stable.
"""

from __future__ import annotations

import logging
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from orchestrator.cli.render import (
    CliProgress,
    environment_document,
    environment_text,
    make_progress,
    print_error,
    print_json,
)
from orchestrator.domain.errors import DeployError, ExitCode

if TYPE_CHECKING:
    from orchestrator.api import CommandResult, Deployer
    from orchestrator.domain import AnyEnvironment, EnvironmentName

T = TypeVar("T")
DEFAULT_LOCK_TIMEOUT_S = 30.0
_run_log = logging.getLogger("orchestrator.cli.run")


@dataclass
class Options:
    """The global options of one run (`ctx.find_root().obj`)."""

    working_dir: Path
    json: bool
    verbose: int
    debug: bool
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT_S
    log_file: Path | None = None
    progress: CliProgress | None = field(default=None, repr=False)
    started: float = field(default_factory=time.monotonic, repr=False)


def options(ctx: typer.Context) -> Options:
    found = ctx.find_root().obj
    if not isinstance(found, Options):  # a sub-app invoked on its own (tests): defaults
        found = Options(working_dir=Path("."), json=False, verbose=0, debug=False)
        ctx.find_root().obj = found
    return found


def complete_environment(ctx: typer.Context, incomplete: str) -> list[str]:
    """Shell completion of environment names: the environments in the working directory."""
    root = ctx.find_root()
    working_dir = root.params.get("working_dir") or Path(".")
    try:
        names = sorted(path.parent.name for path in (Path(working_dir) / "data").glob("*/environment.json"))
    except OSError:
        return []
    return [name for name in names if name.startswith(incomplete)]


# The ENVIRONMENT argument of every command that takes one (completes the names in the working dir).
EnvArg = Annotated[
    str,
    typer.Argument(
        help="Environment name.", show_default=False, autocompletion=complete_environment, metavar="ENVIRONMENT"
    ),
]


def command_name(ctx: typer.Context) -> str:
    """`create environment`, `provision`, `lab status`, … (the command path without the program name)."""
    names: list[str] = []
    current: Any = ctx
    while current is not None and current.parent is not None:
        names.append(str(current.info_name))
        current = current.parent
    return " ".join(reversed(names))


class ConfirmationRequiredError(DeployError):
    exit_code = ExitCode.USAGE

    def __init__(self, what: str, forced_command: str) -> None:
        super().__init__(
            f"{what} needs confirmation and stdin is not a terminal",
            f"Run `{forced_command}` to go ahead without asking.",
        )


def exit_code(error: BaseException) -> int:
    """The error's own exit code (`DeployError.exit_code`); 1 for anything unexpected."""
    return int(error.exit_code) if isinstance(error, DeployError) else int(ExitCode.FAILED)


def _environment_param(ctx: typer.Context) -> str | None:
    value = ctx.params.get("name")
    return value if isinstance(value, str) else None


def run_command(ctx: typer.Context, body: Callable[[], T]) -> T:
    """Run a command body; render any error as one line + tip (or a JSON error) and exit with its code."""
    opts = options(ctx)
    try:
        return body()
    except (typer.Exit, typer.Abort):
        raise
    except Exception as error:
        code = exit_code(error)
        _run_log.error("%s failed (exit code %d): %s", command_name(ctx), code, error, exc_info=True)
        if opts.debug:
            traceback.print_exc()
        close_progress(ctx)
        print_error(error, code, opts.json, command_name(ctx), _environment_param(ctx))
        raise typer.Exit(code) from None
    finally:
        close_progress(ctx)


def close_progress(ctx: typer.Context) -> None:
    progress = options(ctx).progress
    if progress is not None:
        progress.close()


def deployer_for(ctx: typer.Context) -> Deployer:
    """A `Deployer` on the working directory, reporting progress on stderr (rich on a terminal)."""
    from orchestrator.api import Deployer

    opts = options(ctx)
    if opts.progress is None:
        opts.progress = make_progress(verbose=opts.verbose >= 1)
    return Deployer(working_dir=opts.working_dir, observer=opts.progress, lock_timeout=opts.lock_timeout)


def running_pid(deployer: Deployer, name: EnvironmentName) -> int | None:
    """The PID of a live process holding `name`'s lock (a command is running on it), if any."""
    from orchestrator.persistence.lock_holder import running_holder_pid
    from orchestrator.persistence.strict_read import LOCK_FILE

    return running_holder_pid(deployer.repository.environment_dir(name) / LOCK_FILE)


def print_environment(ctx: typer.Context, env: AnyEnvironment, extra: dict[str, Any] | None = None) -> None:
    """The environment on stdout: text, or `{"ok": true, "command": …, "environment": {…}, **extra}`."""
    close_progress(ctx)  # the live progress display (a terminal) ends before the result is printed
    opts = options(ctx)
    if opts.json:
        print_json(
            {"ok": True, "command": command_name(ctx), "environment": environment_document(env), **(extra or {})}
        )
    else:
        print(environment_text(env))


def print_run_result(ctx: typer.Context, result: CommandResult[Any]) -> None:
    """The result of a lifecycle command: the environment, plus the steps run and the stale flag in JSON."""
    close_progress(ctx)
    opts = options(ctx)
    steps = [step.to_dict() for step in opts.progress.steps] if opts.progress is not None else []
    print_environment(
        ctx,
        result.environment,
        {
            "steps": steps,
            "stale_state": result.stale_state,
            "duration_s": round(time.monotonic() - opts.started, 3),
        },
    )


def stale_warning(result: CommandResult[Any]) -> None:
    if result.stale_state:
        print(
            "Warning: the state could not be saved; what is on disk is stale (see the log).",
            file=sys.stderr,
        )
