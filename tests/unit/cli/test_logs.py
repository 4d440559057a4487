"""Logs: `--log-file` (text, or JSON lines for `.jsonl` / `--log-format json`) holds the state
transitions with their structured fields; `-v` logs to stderr; a failure's traceback goes to the
file, never to stderr without `--debug` — neither ours nor one a library logs."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from orchestrator.api import Adapters
from orchestrator.cli.logs import setup_logging, teardown_logging
from tests.support.cli import ENV, make_environment, run_cli
from tests.support.fakes import FakeProvisioner, ToolError


def _records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_json_lines_log_file_holds_the_transitions_with_their_fields(work: Path, fakes: Adapters) -> None:
    make_environment(work, "created", fakes)
    log = work.parent / "run.jsonl"

    result = run_cli(work, "--log-file", str(log), "deploy", ENV)

    assert result.exit_code == 0, result.output
    records = _records(log)
    transitions = [r for r in records if r["logger"] == "orchestrator.transitions"]
    assert [(r["from_state"], r["to_state"]) for r in transitions] == [
        ("created", "provisioning"),
        ("provisioning", "provisioned"),
        ("provisioned", "configuring"),
        ("configuring", "configured"),
        ("configured", "releasing"),
        ("releasing", "released"),
        ("released", "starting"),
        ("starting", "running"),
    ]
    assert all(r["environment"] == ENV and isinstance(r["duration_s"], float) for r in transitions)
    assert all({"time", "level", "message", "pid"} <= set(r) for r in records)
    assert records[0]["logger"] == "orchestrator.cli.run"
    assert records[0]["argv"] == ["-C", str(work), "--log-file", str(log), "deploy", ENV]
    assert "orchestrator.transitions" not in result.stderr  # not on stderr without -v


def test_log_format_json_forces_json_lines(work: Path, fakes: Adapters) -> None:
    log = work.parent / "run.log"

    run_cli(work, "--log-file", str(log), "--log-format", "json", "list")

    assert _records(log)[0]["logger"] == "orchestrator.cli.run"


def test_text_log_file_appends_one_line_per_record(work: Path, fakes: Adapters) -> None:
    make_environment(work, "created", fakes)
    log = work.parent / "run.log"

    run_cli(work, "--log-file", str(log), "provision", ENV)
    run_cli(work, "--log-file", str(log), "destroy", ENV)

    lines = log.read_text(encoding="utf-8").splitlines()
    transitions = [line for line in lines if " INFO orchestrator.transitions: " in line]
    assert len(transitions) == 4
    assert "from_state=created to_state=provisioning" in transitions[0]
    assert "environment=demo" in transitions[0]
    assert sum(" INFO orchestrator.cli.run: torrust-deploy " in line for line in lines) == 2


def test_verbose_logs_transitions_on_stderr(work: Path, fakes: Adapters) -> None:
    make_environment(work, "created", fakes)

    result = run_cli(work, "-v", "provision", ENV)

    assert "INFO orchestrator.transitions: environment demo: created -> provisioning" in result.stderr


def test_a_failure_puts_its_traceback_in_the_log_file_only(work: Path, fakes: Adapters) -> None:
    make_environment(work, "created", fakes)
    assert isinstance(fakes.provisioner, FakeProvisioner)
    fakes.provisioner.fail_up = ToolError("no such image", ["engine: failed"])
    log = work.parent / "run.jsonl"

    result = run_cli(work, "--log-file", str(log), "provision", ENV)

    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    failures = [r for r in _records(log) if r["level"] == "ERROR" and r["logger"] == "orchestrator.cli.run"]
    assert len(failures) == 1
    assert "ProvisionFailedError" in str(failures[0]["exception"])
    transitions = [r for r in _records(log) if r["logger"] == "orchestrator.transitions"]
    assert transitions[-1]["to_state"] == "provision_failed"
    assert transitions[-1]["step"] == "pulumi_up"


def test_a_log_file_that_cannot_be_opened_is_a_usage_error(work: Path) -> None:
    result = run_cli(work, "--log-file", str(work / "missing" / "run.log"), "list")

    assert result.exit_code == 2
    assert result.stderr.startswith("Error: cannot open the log file")
    assert "Tip: " in result.stderr


def _log_a_library_exception() -> None:
    try:
        raise RuntimeError("resource monitor shut down")
    except RuntimeError:
        logging.getLogger("grpc._server").exception("Exception calling application: shutting down")


def test_a_library_that_logs_an_exception_shows_its_message_on_stderr_and_its_traceback_in_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "run.jsonl"
    setup_logging(0, log, "auto")
    try:
        _log_a_library_exception()
    finally:
        teardown_logging()

    stderr = capsys.readouterr().err
    assert stderr == "ERROR grpc._server: Exception calling application: shutting down\n"
    (record,) = [r for r in _records(log) if r["logger"] == "grpc._server"]
    assert "RuntimeError: resource monitor shut down" in str(record["exception"])


def test_with_debug_stderr_shows_the_traceback_a_library_logs(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging(0, tracebacks=True)
    try:
        _log_a_library_exception()
    finally:
        teardown_logging()

    stderr = capsys.readouterr().err
    assert stderr.startswith("ERROR grpc._server: Exception calling application: shutting down\nTraceback")
    assert "RuntimeError: resource monitor shut down" in stderr
