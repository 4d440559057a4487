"""Recovery and day-2 operations on the real lab: retry after a real failure, Ctrl-C, SIGKILL, drift,
register. CLI runs are real `torrust-deploy` processes."""

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
import yaml

from orchestrator.api import Deployer
from orchestrator.commands.errors import ConfigureFailedError
from orchestrator.domain import (
    Configured,
    ConfigureFailed,
    ConfigureStep,
    Destroyed,
    Provisioned,
    ProvisionFailed,
    ProvisionStep,
)
from orchestrator.infrastructure.interrupt import child_processes
from orchestrator.lab.processes import read_process
from tests.support.e2e import MakeConfig, ssh_run
from tests.support.keys import SshKeypair

pytestmark = pytest.mark.e2e
CLI = str(Path(sys.executable).parent / "torrust-deploy")


def _lxc_exec(instance: str, script: str) -> None:
    subprocess.run(["lxc", "exec", instance, "--", "sh", "-c", script], check=True, capture_output=True)


def _cli(deployer: Deployer, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [CLI, "--working-dir", str(deployer.layout.working_dir), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def _wait_for_line(process: subprocess.Popen[str], fragment: str, timeout_s: float = 120.0) -> list[str]:
    """Read the process's stderr until a line contains `fragment`."""
    assert process.stderr is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        seen.append(line)
        if fragment in line:
            return seen
    pytest.fail(f"never saw {fragment!r} on stderr; got: {''.join(seen)}")


def _wait_for_child(process: subprocess.Popen[str], program: str, timeout_s: float = 60.0) -> None:
    """Wait until `process` has a child running `program` (the Pulumi CLI while `pulumi up` runs)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        children = (read_process(pid) for pid in child_processes(process.pid))
        if any(child is not None and child.program == program for child in children):
            return
        assert process.poll() is None, f"the process ended before it started {program!r}"
        time.sleep(0.01)
    pytest.fail(f"the CLI started no {program!r} within {timeout_s:.0f} s")


def _pulumi_locks(deployer: Deployer, name: str) -> list[Path]:
    locks = deployer.layout.pulumi_backend_dir(name) / ".pulumi" / "locks"
    return [path for path in locks.rglob("*") if path.is_file()] if locks.exists() else []


def test_configure_failing_for_a_real_reason_is_retried_after_the_cause_is_repaired(
    deployer: Deployer, make_config: MakeConfig
) -> None:
    config = make_config("e2e-retry")
    deployer.create(config)
    provisioned = deployer.provision(config.name)
    instance = provisioned.context.instance_name
    # Break apt from outside the tool: its only source is a local folder that does not exist.
    _lxc_exec(
        instance,
        "mkdir -p /root/apt-saved && mv /etc/apt/sources.list /etc/apt/sources.list.d/* /root/apt-saved/ "
        "2>/dev/null; echo 'deb [trusted=yes] file:/nonexistent ./' > /etc/apt/sources.list",
    )
    with pytest.raises(ConfigureFailedError) as raised:
        deployer.configure(provisioned)
    assert raised.value.failure.step is ConfigureStep.INSTALL_DOCKER
    assert isinstance(deployer.show(config.name).state, ConfigureFailed)

    _lxc_exec(
        instance,
        "rm /etc/apt/sources.list && mv /root/apt-saved/* /etc/apt/ 2>/dev/null; "
        "mv /etc/apt/*.sources /etc/apt/sources.list.d/ 2>/dev/null; true",
    )
    configured = deployer.configure(config.name)
    assert isinstance(configured.state, Configured)
    assert ssh_run(config, configured.instance_ip or "", "docker", "compose", "version").returncode == 0
    history = [(e.from_state, e.to_state) for e in deployer.history(config.name)]
    assert ("configuring", "configure_failed") in history
    assert history[-2:] == [("configure_failed", "configuring"), ("configuring", "configured")]


def test_sigint_during_pulumi_up_records_an_interrupted_failure_and_leaves_nothing_locked_or_orphaned(
    deployer: Deployer, make_config: MakeConfig, lxd_client: Any
) -> None:
    config = make_config("e2e-sigint")
    deployer.create(config)
    process = _cli(deployer, "provision", config.name)
    _wait_for_line(process, "Pulumi up …")
    _wait_for_child(process, "pulumi")  # the engine runs for the rest of the step (seconds): not a race
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode != 0
    assert "Traceback" not in stderr

    failed = deployer.show(config.name)
    assert isinstance(failed.state, ProvisionFailed)
    assert failed.state.failure.step is ProvisionStep.PULUMI_UP
    assert failed.state.failure.error_kind == "Interrupted"
    assert _pulumi_locks(deployer, config.name) == []

    assert isinstance(deployer.destroy(config.name).state, Destroyed)
    assert not lxd_client.instances.exists(f"torrust-{config.name}")

    fresh = make_config("e2e-after-sigint")
    deployer.create(fresh)
    assert isinstance(deployer.provision(fresh.name).state, Provisioned)


def test_sigkill_during_configure_shows_interrupted_and_configure_then_succeeds(
    deployer: Deployer, make_config: MakeConfig
) -> None:
    config = make_config("e2e-sigkill")
    deployer.create(config)
    deployer.provision(config.name)
    process = _cli(deployer, "configure", config.name)
    _wait_for_line(process, "Install docker …")
    time.sleep(2.0)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)

    shown = subprocess.run(
        [CLI, "--working-dir", str(deployer.layout.working_dir), "--json", "show", config.name],
        capture_output=True,
        text=True,
        check=True,
    )
    document = json.loads(shown.stdout)
    assert document["environment"]["state"] == "Configuring"
    assert document["environment"]["interrupted"] is True
    assert deployer.is_interrupted(deployer.show(config.name))

    configured = deployer.configure(config.name)
    assert isinstance(configured.state, Configured)
    history = [(e.from_state, e.to_state, e.step) for e in deployer.history(config.name)]
    assert ("configuring", "configure_failed", "unknown") in history


def test_instance_deleted_behind_the_tools_back_is_reported_by_check_and_recreated_by_provision(
    deployer: Deployer, make_config: MakeConfig, lxd_client: Any
) -> None:
    config = make_config("e2e-drift")
    deployer.create(config)
    provisioned = deployer.provision(config.name)
    assert not deployer.check(config.name).drifted

    instance = lxd_client.instances.get(provisioned.context.instance_name)
    instance.stop(force=True, wait=True)
    instance.delete(wait=True)

    checked = subprocess.run(
        [CLI, "--working-dir", str(deployer.layout.working_dir), "check", config.name],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 5, checked.stdout + checked.stderr
    assert "is missing" in checked.stdout
    assert isinstance(deployer.show(config.name).state, Provisioned)  # check changes nothing

    repaired = deployer.provision(config.name)
    assert lxd_client.instances.exists(provisioned.context.instance_name)
    assert not deployer.check(config.name).drifted
    assert ssh_run(config, repaired.instance_ip or "", "true").returncode == 0


def test_register_adopts_a_container_launched_outside_the_tool_and_configure_works(
    deployer: Deployer, make_config: MakeConfig, lxd_client: Any, ssh_keypair: SshKeypair, lab: Any
) -> None:
    config = make_config("e2e-register")
    outside = f"outside-{config.name}"
    user_data = "#cloud-config\n" + yaml.safe_dump(
        {
            "users": [
                {
                    "name": "torrust",
                    "shell": "/bin/bash",
                    "sudo": "ALL=(ALL) NOPASSWD:ALL",
                    "ssh_authorized_keys": [ssh_keypair.public_key],
                }
            ]
        }
    )
    instance = lxd_client.instances.create(
        {
            "name": outside,
            "type": "container",
            "source": {"type": "image", "alias": lab.image_alias},
            "config": {"user.user-data": user_data, "security.nesting": "true"},
        },
        wait=True,
    )
    try:
        instance.start(wait=True)
        from orchestrator.infrastructure.pulumi.lxd_provider import wait_for_ipv4

        ip = wait_for_ipv4(instance, 60)
        deployer.create(config)
        registered = deployer.register(config.name, ip)
        assert isinstance(registered.state, Provisioned)
        assert registered.context.registered
        configured = deployer.configure(config.name)
        assert isinstance(configured.state, Configured)
        assert ssh_run(config, ip, "docker", "info").returncode == 0

        assert isinstance(deployer.destroy(config.name).state, Destroyed)
        assert lxd_client.instances.exists(outside), "destroy must not delete a host it did not create"
    finally:
        if lxd_client.instances.exists(outside):
            instance = lxd_client.instances.get(outside)
            if instance.status == "Running":
                instance.stop(force=True, wait=True)
            instance.delete(wait=True)
