"""`deploy` converges on what is really there (issue: deploy converges; faults leave nothing behind):
an instance deleted or stopped behind the tool's back, Docker stopped inside it, the tracker's container
killed — `deploy` finds it (the same comparison `check` makes), repairs it, and says why in the history;
with nothing wrong it is a fast no-op. And a `configure` killed outright leaves no orphan behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from orchestrator.api import Deployer
from orchestrator.config import EnvironmentConfig
from orchestrator.domain import Configured, Running
from orchestrator.infrastructure.leftovers import MARKER_VAR, RUN_FILE
from orchestrator.infrastructure.tracker.release import COMPOSE_PROJECT
from tests.support.e2e import MakeConfig, ssh_run
from tests.support.processes import alive

pytestmark = pytest.mark.e2e
CLI = str(Path(sys.executable).parent / "torrust-deploy")


def _configured(deployer: Deployer, config: EnvironmentConfig) -> str:
    deployer.create(config)
    env = deployer.deploy(config.name)
    assert isinstance(env.state, Configured) and env.instance_ip is not None
    return env.instance_ip


def _repair_reasons(deployer: Deployer, name: str) -> list[str]:
    return [event.reason for event in deployer.history(name) if event.reason]


def _docker_compose_runs(config: EnvironmentConfig, ip: str) -> None:
    result = ssh_run(config, ip, "docker compose version")
    assert result.returncode == 0 and "Docker Compose version" in result.stdout, result.stderr


def test_deploy_recreates_a_deleted_instance_and_says_why(
    deployer: Deployer, make_config: MakeConfig, lxd_client: Any
) -> None:
    config = make_config("cv-del")
    _configured(deployer, config)
    instance = lxd_client.instances.get(f"torrust-{config.name}")
    instance.stop(force=True, wait=True)
    instance.delete(wait=True)

    repaired = deployer.deploy(config.name)

    assert isinstance(repaired.state, Configured) and repaired.instance_ip is not None
    _docker_compose_runs(config, repaired.instance_ip)
    assert any(
        f"instance torrust-{config.name} is missing" in reason for reason in _repair_reasons(deployer, config.name)
    )
    assert not deployer.check(config.name).drifted


def test_deploy_restarts_a_stopped_instance(deployer: Deployer, make_config: MakeConfig, lxd_client: Any) -> None:
    config = make_config("cv-stop")
    _configured(deployer, config)
    lxd_client.instances.get(f"torrust-{config.name}").stop(force=True, wait=True)

    repaired = deployer.deploy(config.name)

    assert isinstance(repaired.state, Configured) and repaired.instance_ip is not None
    _docker_compose_runs(config, repaired.instance_ip)
    assert any("is Stopped (expected Running)" in reason for reason in _repair_reasons(deployer, config.name))


def test_deploy_restarts_docker_stopped_inside_the_instance_and_check_reports_it_first(
    deployer: Deployer, make_config: MakeConfig
) -> None:
    config = make_config("cv-dock")
    ip = _configured(deployer, config)
    stop = ssh_run(config, ip, "sudo systemctl stop docker.socket docker.service")
    assert stop.returncode == 0, stop.stderr

    report = deployer.check(config.name)
    assert report.drifted and report.repair == "configure"
    assert "Docker is not running on the instance" in report.findings
    shown = subprocess.run(
        [CLI, "-C", str(deployer.layout.working_dir), "show", config.name], capture_output=True, text=True, check=True
    )
    assert "Drift:       `check` found at" in shown.stdout  # show tells what the last check found

    repaired = deployer.deploy(config.name)

    assert isinstance(repaired.state, Configured)
    _docker_compose_runs(config, ip)
    assert any("Docker is not running" in reason for reason in _repair_reasons(deployer, config.name))
    assert deployer.show(config.name).context.drift is None  # a command ran since: the note is gone


def test_deploy_of_a_running_tracker_restarts_its_killed_container_and_is_a_no_op_otherwise(
    deployer: Deployer, make_config: MakeConfig
) -> None:
    config = make_config("cv-trk", tracker={})
    deployer.create(config)
    running = deployer.deploy(config.name)
    assert isinstance(running.state, Running) and running.instance_ip is not None
    seq = running.last_seq

    again = deployer.deploy(config.name)
    assert again.last_seq == seq  # nothing drifted: nothing ran

    kill = ssh_run(config, running.instance_ip, "sudo", "docker", "compose", "-p", COMPOSE_PROJECT, "kill")
    assert kill.returncode == 0, kill.stderr
    repaired = deployer.deploy(config.name)

    assert isinstance(repaired.state, Running)
    assert deployer.test(config.name).passed
    assert any("health check fails" in reason for reason in _repair_reasons(deployer, config.name))


def _marked_processes(marker: str) -> dict[int, str]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if f"{MARKER_VAR}={marker}".encode() in (entry / "environ").read_bytes().split(b"\0"):
                    found[int(entry.name)] = (entry / "comm").read_text().strip()
            except OSError:
                continue
    return found


def test_a_configure_killed_outright_leaves_no_orphan_and_the_next_configure_stops_it(
    deployer: Deployer, make_config: MakeConfig
) -> None:
    config = make_config("cv-kill")
    deployer.create(config)
    deployer.provision(config.name)
    work = str(deployer.layout.working_dir)
    quiet = subprocess.DEVNULL
    process = subprocess.Popen(
        [CLI, "-C", work, "configure", config.name], stdin=quiet, stdout=quiet, stderr=quiet, start_new_session=True
    )
    record = deployer.layout.environment_dir(config.name) / RUN_FILE
    deadline = time.monotonic() + 60
    children: dict[int, str] = {}
    while time.monotonic() < deadline and "ansible-playboo" not in children.values():
        if record.exists():
            marker = json.loads(record.read_text())["marker"]
            children = _marked_processes(marker)
        time.sleep(0.2)
    assert "ansible-playboo" in children.values(), children  # the playbook runs, carrying the run's marker
    time.sleep(1.0)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)

    configured = deployer.configure(config.name)

    assert isinstance(configured.state, Configured)
    assert not any(alive(pid) for pid in children), {pid: name for pid, name in children.items() if alive(pid)}
    assert not record.exists()
    assert ("configuring", "configure_failed", "unknown") in [
        (e.from_state, e.to_state, e.step) for e in deployer.history(config.name)
    ]
