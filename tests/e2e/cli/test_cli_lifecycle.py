"""The CLI against the real lab: every command's `--json` document on a full run, and two CLI processes
on one environment (the second waits for the lock, then exits 3 naming the first one's PID)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from orchestrator.cli.schemas import ErrorDocument, RunDocument, validate_output
from tests.e2e.cli.helpers import CLI, Cleanup, cli_env, run, unique_name
from tests.support.keys import make_keypair

pytestmark = pytest.mark.e2e


def _json(work: Path, command: str, *args: str, code: int = 0) -> dict[str, Any]:
    result = run(["-C", str(work), "--json", *command.split(), *args], work)
    assert result.returncode == code, f"{command}: {result.stdout}\n{result.stderr}"
    validate_output(command, result.stdout)
    document = json.loads(result.stdout)
    assert isinstance(document, dict)
    return document


def _new_environment(work: Path, cleanup: Cleanup, prefix: str) -> str:
    name = cleanup.add(work, unique_name(prefix))
    make_keypair(work / "keys" / name)
    template = run(["create", "template", "--name", name], work)
    (work / "env.json").write_text(template.stdout, encoding="utf-8")
    return name


def test_every_command_prints_its_documented_json_on_a_real_run(tmp_path: Path, lab: Any, cleanup: Cleanup) -> None:
    work = tmp_path
    name = _new_environment(work, cleanup, "cli-json")

    assert _json(work, "create template", "--name", name)["template"]["name"] == name
    assert _json(work, "create schema")["schema"]["title"] == "EnvironmentConfig"
    assert _json(work, "validate", "-f", "env.json")["warnings"] == []
    assert _json(work, "create environment", "-f", "env.json")["environment"]["state"] == "Created"

    provisioned = RunDocument.model_validate(_json(work, "provision", name))
    assert provisioned.environment.state == "Provisioned"
    assert provisioned.environment.instance_ip is not None
    assert [s.title for s in provisioned.steps] == [
        "Prepare stack",
        "Pulumi up",
        "Read outputs",
        "Render inventory",
        "Wait ssh",
        "Wait cloud init",
    ]

    configured = RunDocument.model_validate(_json(work, "configure", name))
    assert configured.environment.state == "Configured"
    assert [s.title for s in configured.steps] == ["Install docker", "Install docker compose"]

    released = RunDocument.model_validate(_json(work, "release", name))
    assert released.environment.state == "Released"
    assert [s.title for s in released.steps] == ["Render release", "Upload release", "Load image"]
    running = RunDocument.model_validate(_json(work, "run", name))
    assert running.environment.state == "Running"
    assert [s.title for s in running.steps] == ["Start tracker", "Wait healthy"]
    assert running.environment.tracker is not None
    assert running.environment.tracker.announce_urls[0] == f"udp://{configured.environment.instance_ip}:6969/announce"

    deployed = RunDocument.model_validate(_json(work, "deploy", name))
    assert deployed.environment.state == "Running"
    assert deployed.steps == []  # already running: nothing to run
    tested = _json(work, "test", name)
    assert all(check["ok"] for check in tested["checks"]) and len(tested["checks"]) == 7
    assert len(_json(work, "show --token", name)["api_token"]) >= 32

    shown = _json(work, "show", name)["environment"]
    assert shown["ssh"]["command"].endswith(f"torrust@{configured.environment.instance_ip}")
    assert [env["name"] for env in _json(work, "list")["environments"]] == [name]

    destroyed = RunDocument.model_validate(_json(work, "destroy", name))
    assert destroyed.environment.state == "Destroyed"
    again = RunDocument.model_validate(_json(work, "destroy", name))  # destroy twice: idempotent
    assert again.environment.state == "Destroyed"

    assert _json(work, "purge", name, "--force")["purged"] == name
    missing = ErrorDocument.model_validate(_json(work, "show", name, code=4))
    assert missing.error.kind == "EnvironmentNotFoundError"
    assert _json(work, "toolchain status")["pulumi"]["version"].startswith("v")
    assert _json(work, "lab status")["lab"]["ready"] is True


def _wait_for_lock_holder(pid_file: Path, pid: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if pid_file.exists() and pid_file.read_text().strip() == str(pid):
            return
        assert process.poll() is None, "the first command ended before it took the lock"
        time.sleep(0.05)
    raise AssertionError("the first command never took the lock")


def test_second_cli_process_waits_then_exits_3_naming_the_first(tmp_path: Path, lab: Any, cleanup: Cleanup) -> None:
    work = tmp_path
    name = _new_environment(work, cleanup, "cli-lock")
    assert run(["-C", str(work), "create", "environment", "-f", "env.json"], work).returncode == 0

    first = subprocess.Popen(
        [CLI, "-C", str(work), "provision", name],
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
        stdin=subprocess.DEVNULL,
    )
    try:
        _wait_for_lock_holder(work / "data" / name / "environment.json.lock.pid", first.pid, first)
        # Paused while the second one tries: a fast provision must not finish and free the lock first.
        os.kill(first.pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            second = run(["-C", str(work), "--lock-timeout", "2", "destroy", name], work)
            waited = time.monotonic() - started
            second_json = run(["-C", str(work), "--json", "--lock-timeout", "1", "destroy", name], work)
            assert first.poll() is None, "the first command must still hold the lock"
        finally:
            os.kill(first.pid, signal.SIGCONT)
    finally:
        out, err = first.communicate(timeout=600)

    assert second.returncode == 3, second.stderr
    assert waited >= 2.0
    lines = second.stderr.splitlines()
    assert f"locked by process {first.pid} (alive)" in lines[-2]
    assert lines[-2].startswith("Error: ")
    assert lines[-1].startswith(f"Tip: another torrust-deploy command (PID {first.pid})")
    error = ErrorDocument.model_validate_json(second_json.stdout).error
    assert (second_json.returncode, error.exit_code, error.holder_pid) == (3, 3, first.pid)
    assert first.returncode == 0, err  # the first command was not disturbed
    assert "State:       Provisioned" in out
