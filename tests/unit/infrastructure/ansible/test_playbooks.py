"""The ansible-runner adapter without ansible: event lines from runner events, extravars handed over."""

from __future__ import annotations

import shlex
import subprocess
import sys
import threading
import time
import types
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from orchestrator.domain import EnvironmentContext, EnvironmentName, LxdTarget, SshCredentials
from orchestrator.infrastructure.ansible.playbooks import (
    ANSIBLE_CFG,
    AnsiblePlaybooks,
    PlaybookFailedError,
    PlaybookSequence,
    _event_line,
    _event_lines,
    gate_play,
)
from orchestrator.resources import shipped_dir

ONE_PLAY = "- name: One\n  hosts: all\n  gather_facts: false\n  tasks: []\n"


def _result(kind: str, task: str, **res: Any) -> dict[str, Any]:
    return {"event": kind, "event_data": {"task": task, "res": res}}


def test_a_task_start_and_a_changed_result_give_one_line_each() -> None:
    assert _event_lines({"event": "playbook_on_task_start", "event_data": {"task": "Install"}}) == ["TASK Install"]
    assert _event_lines(_result("runner_on_ok", "Install", changed=True, msg="done")) == ["  ok changed: Install done"]
    assert _event_line(_result("runner_on_ok", "Install", changed=False)) == "  ok: Install"
    assert _event_lines({"event": "verbose", "event_data": {}}) == []
    assert _event_line({"event": "verbose", "event_data": {}}) is None


def test_a_command_failed_on_its_output_names_its_last_output_line() -> None:
    event = _result("runner_on_failed", "Read it", stdout="a\nstatus: error\n", failed_when_result=True, msg="x")
    assert _event_lines(event) == ["  failed: Read it status: error"]


def test_a_debug_message_list_gives_one_line_per_item_without_terminal_codes() -> None:
    event = _result("runner_on_ok", "Show the tracker's last log lines", msg=["\x1b[2Kstarting", "", "panicked at x"])
    assert _event_lines(event) == [
        "  ok: Show the tracker's last log lines",
        "    | starting",
        "    |",
        "    | panicked at x",
    ]
    assert _event_line(event) == "  ok: Show the tracker's last log lines"


class _Runner:
    status = "failed"
    rc = 2
    stdout = None


def test_a_failed_playbook_carries_the_detail_lines_and_names_its_last_failure() -> None:
    sequence = PlaybookSequence(["start-tracker.yml"], [1])
    events = [
        {"event": "playbook_on_play_start", "event_data": {}},
        _result("runner_on_failed", "Wait until healthy", stdout="state=restarting health=", failed_when_result=True),
        _result("runner_on_ok", "Show the tracker's last log lines", msg=["line one", "line two"]),
        _result("runner_on_failed", "Report that the tracker did not start", msg="the tracker did not start: …"),
    ]
    for event in events:
        sequence.handle(event)
    sequence.finish(_Runner())
    seen: list[str] = []
    with pytest.raises(PlaybookFailedError, match="the tracker did not start") as raised:
        sequence.wait("start-tracker.yml", seen.append)
    assert "    | line one" in seen and "    | line two" in seen
    assert "    | line two" in raised.value.tool_output


def test_a_run_ended_by_a_signal_says_so_instead_of_an_exit_code_of_none() -> None:
    sequence = PlaybookSequence(["wait-cloud-init.yml"], [1])
    sequence.handle({"event": "playbook_on_play_start", "event_data": {}})
    sequence.finish(types.SimpleNamespace(status="failed", rc=None, stdout=None))
    with pytest.raises(PlaybookFailedError) as raised:
        sequence.wait("wait-cloud-init.yml")
    assert str(raised.value) == (
        "playbook wait-cloud-init.yml failed: ansible-playbook was killed by a signal (no exit code; its output is"
        " in the trace)"
    )


def test_a_runner_that_stopped_without_finishing_says_so_and_not_that_a_signal_killed_ansible() -> None:
    sequence = PlaybookSequence(["wait-cloud-init.yml"], [1])
    sequence.finish(types.SimpleNamespace(status="running", rc=None, stdout=None))
    with pytest.raises(PlaybookFailedError) as raised:
        sequence.wait("wait-cloud-init.yml")
    assert str(raised.value) == (
        "playbook wait-cloud-init.yml running: ansible-runner stopped before ansible-playbook ended (status running)"
    )


def test_a_run_that_exited_without_a_failed_task_names_its_exit_code() -> None:
    sequence = PlaybookSequence(["install-docker.yml"], [1])
    sequence.handle({"event": "playbook_on_play_start", "event_data": {}})
    sequence.finish(_Runner())
    with pytest.raises(PlaybookFailedError, match=r"failed: exit code 2$"):
        sequence.wait("install-docker.yml")


def _context() -> EnvironmentContext:
    key = Path("/nonexistent/id_ed25519")
    return EnvironmentContext(
        name=EnvironmentName("unit"),
        instance_name="torrust-unit",
        ssh=SshCredentials(key, key.with_suffix(".pub")),
        lxd=LxdTarget(),
        instance_ip="10.200.77.9",
        created_at=datetime.now(UTC),
    )


@pytest.fixture
def captured_runs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """ansible_runner.run_async replaced: records its keyword arguments and ends the run successfully."""
    runs: list[dict[str, Any]] = []

    def run_async(**kwargs: Any) -> tuple[threading.Thread, Any]:
        runs.append(kwargs)
        runner = types.SimpleNamespace(status="successful", rc=0, stdout=None)

        def body() -> None:
            kwargs["event_handler"]({"event": "playbook_on_play_start", "event_data": {}})
            kwargs["finished_callback"](runner)

        thread = threading.Thread(target=body)
        thread.start()
        return thread, runner

    monkeypatch.setitem(sys.modules, "ansible_runner", types.SimpleNamespace(run_async=run_async))
    return runs


def test_extravars_reach_ansible_runner(captured_runs: list[dict[str, Any]], tmp_path: Path) -> None:
    (tmp_path / "one.yml").write_text(ONE_PLAY)
    adapter = AnsiblePlaybooks(tmp_path / "build", tmp_path)
    extravars = {"tracker_release_dir": "/opt/torrust-tracker", "tracker_image_import_changes": ["USER 1000:1000"]}
    assert adapter.run(_context(), "one.yml", None, extravars) == 0
    assert captured_runs[0]["extravars"] == extravars
    with adapter.start(_context(), ["one.yml"], extravars) as running:
        running.wait("one.yml")
    assert captured_runs[1]["extravars"] == extravars


def test_without_extravars_none_are_passed(captured_runs: list[dict[str, Any]], tmp_path: Path) -> None:
    (tmp_path / "one.yml").write_text(ONE_PLAY)
    adapter = AnsiblePlaybooks(tmp_path / "build", tmp_path)
    assert adapter.run(_context(), "one.yml") == 0
    with adapter.start(_context(), ["one.yml"]) as running:
        running.wait("one.yml")
    assert [run["extravars"] for run in captured_runs] == [None, None]


def test_every_run_reads_the_shipped_ansible_cfg(captured_runs: list[dict[str, Any]], tmp_path: Path) -> None:
    (tmp_path / "one.yml").write_text(ONE_PLAY)
    adapter = AnsiblePlaybooks(tmp_path / "build", tmp_path)  # playbooks from another folder: same settings
    adapter.run(_context(), "one.yml")
    assert captured_runs[0]["envvars"]["ANSIBLE_CONFIG"] == str(shipped_dir("playbooks") / ANSIBLE_CFG)


def _gate_wait_command(gate: Path) -> str:
    """The gate task's command, with the variable ansible fills in (its own Python) filled in."""
    command = gate_play(gate)["tasks"][0]["ansible.builtin.raw"]
    return str(command).replace("{{ ansible_playbook_python | quote }}", shlex.quote(sys.executable))


def test_the_gate_wait_returns_once_the_gate_file_exists(tmp_path: Path) -> None:
    gate = tmp_path / "gate-1"
    waiting = subprocess.Popen(["sh", "-c", _gate_wait_command(gate)])
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            waiting.wait(timeout=0.3)
        gate.touch()
        assert waiting.wait(timeout=5) == 0
    finally:
        waiting.kill()
        waiting.wait()


def test_the_gate_wait_is_one_process_not_a_sleep_per_poll(tmp_path: Path) -> None:
    """A shell loop forks `sleep` at every poll (≈ 0.05 CPU-s a second): the wait runs in one Python."""
    waiting = subprocess.Popen(["sh", "-c", _gate_wait_command(tmp_path / "gate-2")])
    try:
        time.sleep(0.5)
        children = Path(f"/proc/{waiting.pid}/task/{waiting.pid}/children").read_text().split()
        grandchildren = [
            child for pid in children for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        ]
        commands = [Path(f"/proc/{pid}/comm").read_text().strip() for pid in children + grandchildren]
        assert "sleep" not in commands
        assert any(command.startswith("python") for command in commands)
    finally:
        (tmp_path / "gate-2").touch()
        waiting.wait(timeout=5)
