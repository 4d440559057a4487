"""Text output: results on stdout, progress with step counters and times on stderr (plain lines, or a
rich live display on a terminal), a state-aware `show`, errors as `Error:`/`Tip:`/`Trace:` lines,
and the exit codes."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestrator.api import Adapters, EnvironmentNotFoundError, PurgeRefusedError
from orchestrator.cli.common import ConfirmationRequiredError, exit_code
from orchestrator.cli.main import app
from orchestrator.cli.render import (
    EXIT_CODES,
    RichProgress,
    StderrProgress,
    environment_text,
)
from orchestrator.commands.create import EnvironmentAlreadyExistsError
from orchestrator.commands.errors import ProvisionFailedError
from orchestrator.config import ConfigError
from orchestrator.domain import Created, EnvironmentName, FailureContext, ProvisionStep, WrongStateError
from orchestrator.persistence import JsonFileRepository, LockTimeoutError
from tests.support.cli import ENV, error_lines, make_environment, run_cli
from tests.support.environments import BUILDERS
from tests.support.fakes import FakePlaybooks, ToolError

STEP_DONE = re.compile(r"^\[(\d)/(\d)\] [A-Z][a-z ]+ … done \(\d+\.\d s\)$")


def test_provision_prints_progress_on_stderr_and_the_result_on_stdout(work: Path, fakes: Adapters) -> None:
    make_environment(work, "created", fakes)

    result = run_cli(work, "provision", ENV)

    assert result.exit_code == 0, result.output
    done = [line for line in result.stderr.splitlines() if "done" in line]
    assert len(done) == 6
    assert all(STEP_DONE.match(line) for line in done), done
    assert [STEP_DONE.match(line).group(1) for line in done] == ["1", "2", "3", "4", "5", "6"]  # type: ignore[union-attr]
    assert "[" not in result.stdout
    assert "State:       Provisioned" in result.stdout
    assert "IP address:  10.200.77.10" in result.stdout
    assert f"Next:        torrust-deploy configure {ENV}" in result.stdout


def test_tool_output_lines_only_with_verbose(work: Path, fakes: Adapters) -> None:
    make_environment(work, "created", fakes)

    quiet = run_cli(work, "provision", ENV)
    verbose = run_cli(work, "-v", "provision", ENV)  # provision again: a repair run

    assert quiet.exit_code == verbose.exit_code == 0, verbose.output
    assert "engine: creating instance" not in quiet.stderr
    assert "      engine: creating instance" in verbose.stderr


def test_failed_configure_prints_error_tip_and_trace_and_show_says_what_next(work: Path, fakes: Adapters) -> None:
    make_environment(work, "provisioned", fakes)
    assert isinstance(fakes.playbooks, FakePlaybooks)
    fakes.playbooks.failing["install-docker.yml"] = ToolError("apt failed", ["TASK [install] failed"])

    result = run_cli(work, "configure", ENV)
    shown = run_cli(work, "show", ENV)

    assert result.exit_code == 1
    assert result.stdout == ""
    assert "[1/2] Install docker … FAILED" in result.stderr
    errors = error_lines(result.stderr)[-3:]
    assert errors[0].startswith(f"Error: configure of '{ENV}' failed at step install_docker: apt failed")
    assert errors[1].startswith("Tip: ")
    assert errors[2].startswith("Trace: ") and Path(errors[2].removeprefix("Trace: ")).is_file()
    assert "Traceback" not in result.output
    assert "State:       ConfigureFailed" in shown.stdout
    assert "Failed step: install_docker (ToolError" in shown.stdout
    assert f"Trace:       {errors[2].removeprefix('Trace: ')}" in shown.stdout
    assert f"Next:        torrust-deploy configure {ENV}" in shown.stdout


def test_debug_shows_the_traceback(work: Path, fakes: Adapters) -> None:
    make_environment(work, "created", fakes)

    result = run_cli(work, "--debug", "configure", ENV)

    assert result.exit_code == 2
    assert "Traceback (most recent call last)" in result.stderr
    assert "Error: environment 'demo' is in state Created" in result.stderr


@pytest.mark.parametrize("tag", sorted(BUILDERS))
def test_show_text_is_state_aware(tag: str) -> None:
    env = BUILDERS[tag]()
    text = environment_text(env)

    assert f"State:       {type(env.state).__name__}" in text
    assert ("IP address:" in text) == (env.instance_ip is not None)
    assert ("SSH:         ssh -i" in text) == (env.instance_ip is not None)
    assert ("Failed step:" in text) == tag.endswith("_failed")
    assert ("Next:" in text) == (tag != "running")  # the journey ends Running (the builders' tracker)


def test_show_of_an_environment_a_live_process_works_on_names_that_process(work: Path) -> None:
    repository = JsonFileRepository(work / "data")
    env = BUILDERS["provisioning"]()
    repository.save(env)

    with repository.lock(env.name):  # this process holds it, as a running `provision` would
        shown = run_cli(work, "show", "e2e")
        listed = run_cli(work, "list", json_output=True)

    assert "Running:     process" in shown.stdout
    assert "Next:" not in shown.stdout
    assert listed.json()["environments"][0]["running_pid"] is not None


def test_plain_progress_lines() -> None:
    stream = io.StringIO()
    progress = StderrProgress(verbose=True, stream=stream)

    progress.step_started("provision", 2, 6, "Pulumi up")
    progress.detail("engine: creating")
    progress.step_finished("provision", 2, 6, "Pulumi up", 3.14)
    progress.step_started("provision", 3, 6, "Read outputs")
    progress.step_failed("provision", 3, 6, "Read outputs", 0.05)

    assert stream.getvalue().splitlines() == [
        "[2/6] Pulumi up …",
        "      engine: creating",
        "[2/6] Pulumi up … done (3.1 s)",
        "[3/6] Read outputs …",
        "[3/6] Read outputs … FAILED (0.1 s)",
    ]
    assert [(s.title, s.status) for s in progress.steps] == [("Pulumi up", "done"), ("Read outputs", "failed")]


def test_rich_progress_on_a_terminal_shows_a_line_per_step_with_its_time() -> None:
    from rich.console import Console

    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=100, color_system=None)
    progress = RichProgress(console)

    progress.step_started("configure", 1, 2, "Install docker")
    progress.step_finished("configure", 1, 2, "Install docker", 12.34)
    progress.step_started("configure", 2, 2, "Install docker compose")
    progress.step_failed("configure", 2, 2, "Install docker compose", 1.0)
    progress.close()

    text = stream.getvalue()
    assert "✓ [1/2] Install docker … done (12.3 s)" in text
    assert "✗ [2/2] Install docker compose … FAILED (1.0 s)" in text
    assert [s.status for s in progress.steps] == ["done", "failed"]


def test_purge_asks_on_a_terminal(work: Path, fakes: Adapters, monkeypatch: pytest.MonkeyPatch) -> None:
    make_environment(work, "destroyed", fakes)
    monkeypatch.setattr("orchestrator.cli.lifecycle._stdin_is_terminal", lambda: True)

    refused = run_cli(work, "purge", ENV, input="n\n")

    assert refused.exit_code == 1
    assert "Delete all records of environment 'demo'?" in refused.stderr
    assert (work / "data" / ENV / "environment.json").exists()

    accepted = run_cli(work, "purge", ENV, input="y\n")

    assert accepted.exit_code == 0, accepted.output
    assert not (work / "data" / ENV / "environment.json").exists()
    assert f"Purged environment '{ENV}'." in accepted.stdout


def test_exit_codes_of_errors(tmp_path: Path) -> None:
    name = EnvironmentName(ENV)
    assert exit_code(RuntimeError("boom")) == 1
    assert exit_code(ConfigError("bad", "fix it")) == 2
    assert exit_code(WrongStateError(ENV, "created", Created)) == 2
    assert exit_code(PurgeRefusedError(name, "Configured")) == 2
    assert exit_code(ConfirmationRequiredError("purge", "purge --force")) == 2
    assert exit_code(EnvironmentAlreadyExistsError(name)) == 2
    assert exit_code(LockTimeoutError(ENV, 123, True)) == 3
    assert exit_code(EnvironmentNotFoundError(name, tmp_path)) == 4
    started = datetime.now(UTC)
    stopped = FailureContext(ProvisionStep.PULUMI_UP, "Interrupted", "interrupted", started, started)
    assert exit_code(ProvisionFailedError(ENV, stopped)) == 130
    assert exit_code(ProvisionFailedError(ENV, replace(stopped, error_kind="ToolError"))) == 1
    assert set(EXIT_CODES) >= {0, 1, 2, 3, 4}


def test_no_arguments_prints_the_help_and_exits_2() -> None:
    result = CliRunner().invoke(app, [])

    assert result.exit_code == 2
    assert "Usage:" in result.output
    assert "provision" in result.output


def test_a_group_without_its_command_is_a_usage_error(work: Path) -> None:
    result = run_cli(work, "create")

    assert result.exit_code == 2
    assert "create" in result.output


def test_version(work: Path) -> None:
    result = run_cli(work, "--version")

    assert result.exit_code == 0
    assert result.stdout.startswith("torrust-deploy ")
