"""The tracker's commands through the CLI with fake adapters: `release -f`, `run`, `test`, `show --token`."""

from __future__ import annotations

import json
from pathlib import Path

from orchestrator.api import Adapters
from orchestrator.config import config_template
from orchestrator.persistence.secrets import TRACKER_API_TOKEN_FILE
from tests.support.cli import ENV, make_environment, run_cli, write_config
from tests.support.fakes import FakeTrackerChecks


def test_test_prints_a_line_per_check_and_exit_0(work: Path, fakes: Adapters) -> None:
    make_environment(work, "running", fakes)

    result = run_cli(work, "test", ENV)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("ok    health check")
    assert result.stdout.splitlines()[-1] == "All 4 checks passed."


def test_a_failed_check_prints_the_lines_then_the_error_and_exits_1(work: Path, fakes: Adapters) -> None:
    make_environment(work, "running", fakes)
    assert isinstance(fakes.tracker, FakeTrackerChecks)
    fakes.tracker.failing_check = "UDP announce :6969"

    result = run_cli(work, "test", ENV)

    assert result.exit_code == 1
    assert "FAIL  UDP announce :6969" in result.stdout
    assert "Error: test of 'demo' failed: 1 check(s) did not pass (UDP announce :6969)" in result.stderr
    assert f"torrust-deploy run {ENV}" in result.stderr


def test_test_of_an_environment_that_does_not_run_names_the_state_it_needs(work: Path, fakes: Adapters) -> None:
    make_environment(work, "configured", fakes)

    result = run_cli(work, "test", ENV)

    assert result.exit_code == 2
    assert "`test` starts from Running" in result.stderr


def test_show_token_prints_only_the_token_and_it_is_a_0600_file(work: Path, fakes: Adapters) -> None:
    make_environment(work, "running", fakes)
    token_file = work / "data" / ENV / TRACKER_API_TOKEN_FILE

    text = run_cli(work, "show", ENV, "--token")
    document = json.loads(run_cli(work, "show", ENV, "--token", json_output=True).stdout)
    shown = run_cli(work, "show", ENV)

    assert text.stdout == token_file.read_text()
    assert document == {"ok": True, "command": "show", "environment": ENV, "api_token": text.stdout.strip()}
    assert token_file.stat().st_mode & 0o777 == 0o600
    assert text.stdout.strip() not in shown.stdout  # never in the plain `show`
    assert text.stdout.strip() not in (work / "data" / ENV / "environment.json").read_text()


def test_show_token_before_any_release_says_how_to_get_one(work: Path, fakes: Adapters) -> None:
    make_environment(work, "configured", fakes)

    result = run_cli(work, "show", ENV, "--token")

    assert result.exit_code == 1
    assert "no tracker API token yet" in result.stderr and f"torrust-deploy release {ENV}" in result.stderr


def test_release_with_a_changed_config_stores_the_new_tracker(work: Path, fakes: Adapters) -> None:
    make_environment(work, "running", fakes)
    document = config_template(ENV)
    document["tracker"]["announce_interval_s"] = 300
    write_config(work, document, name="changed.json")

    released = run_cli(work, "release", ENV, "-f", str(work / "changed.json"), json_output=True)

    assert released.exit_code == 0, released.output
    assert json.loads(released.stdout)["environment"]["tracker"]["announce_interval_s"] == 300
    assert json.loads(run_cli(work, "show", ENV, json_output=True).stdout)["environment"]["state"] == "Released"


def test_release_with_another_environments_config_is_refused_and_changes_nothing(work: Path, fakes: Adapters) -> None:
    make_environment(work, "running", fakes)
    other = config_template(ENV) | {"name": "other"}  # the same keys, another environment's name
    write_config(work, other, name="other.json")
    before = (work / "data" / ENV / "environment.json").read_bytes()

    result = run_cli(work, "release", ENV, "-f", str(work / "other.json"))

    assert result.exit_code == 2
    assert "describes environment 'other', not 'demo'" in result.stderr
    assert (work / "data" / ENV / "environment.json").read_bytes() == before


def test_a_bad_tracker_port_in_the_config_is_one_line_with_a_tip(work: Path, fakes: Adapters) -> None:
    for ports, message in (
        ({"http_ports": [0]}, "tracker HTTP tracker port 0 is out of range"),
        ({"api_port": 70000}, "tracker REST API port 70000 is out of range"),
        ({"http_ports": [1212]}, "tracker REST API port 1212 is also its HTTP tracker port"),
        ({"udp_ports": [22]}, "tracker UDP tracker port 22 is the host's SSH port"),
        ({"udp_ports": [6969, 6969]}, "tracker UDP tracker port 6969 is also its UDP tracker port"),
        ({"colour": "blue"}, "unknown field tracker.colour"),
    ):
        document = config_template(ENV)
        document["tracker"].update(ports)
        write_config(work, document, name="bad.json")

        result = run_cli(work, "validate", "-f", str(work / "bad.json"))

        assert result.exit_code == 2, (ports, result.output)
        lines = result.stderr.splitlines()
        assert message in lines[0], (ports, lines)
        assert lines[1].startswith("Tip: "), (ports, lines)
