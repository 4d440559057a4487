"""The ansible-runner adapter over real SSH (sshd on loopback): inventory, changes counted, failures."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from orchestrator.domain import EnvironmentContext
from orchestrator.infrastructure.ansible.playbooks import ANSIBLE_CFG, AnsiblePlaybooks, PlaybookFailedError
from orchestrator.resources import shipped_dir
from tests.support.sshd import Sshd

pytestmark = pytest.mark.integration

WRITE_FILE = """
- name: Write a file once
  hosts: all
  gather_facts: false
  tasks:
    - name: Write it
      ansible.builtin.copy:
        dest: "{{ target }}"
        content: "hello\\n"
"""
FAIL = """
- name: Fail
  hosts: all
  gather_facts: false
  tasks:
    - name: Fail on purpose
      ansible.builtin.command: /bin/false
"""


def _context(sshd: Sshd) -> EnvironmentContext:
    return sshd.context("ansible-it")


def test_a_playbook_runs_over_ssh_and_a_second_run_changes_nothing(sshd: Sshd, tmp_path: Path) -> None:
    start: Any = sshd.start
    start()
    playbooks_dir = tmp_path / "playbooks"
    playbooks_dir.mkdir()
    target = tmp_path / "written.txt"
    (playbooks_dir / "write.yml").write_text(WRITE_FILE.replace("{{ target }}", str(target)))
    adapter = AnsiblePlaybooks(tmp_path / "build", playbooks_dir)
    context = _context(sshd)
    inventory = adapter.render_inventory(context, "127.0.0.1")
    assert inventory.read_text().count(f"ansible_port: {sshd.port}\n") == 1

    events: list[str] = []
    assert adapter.run(context, "write.yml", events.append) == 1
    assert target.read_text() == "hello\n"
    assert any("TASK Write it" in line for line in events)
    assert adapter.run(context, "write.yml") == 0


def test_a_failing_task_raises_with_the_ansible_events(sshd: Sshd, tmp_path: Path) -> None:
    start: Any = sshd.start
    start()
    playbooks_dir = tmp_path / "playbooks"
    playbooks_dir.mkdir()
    (playbooks_dir / "fail.yml").write_text(FAIL)
    adapter = AnsiblePlaybooks(tmp_path / "build", playbooks_dir)
    adapter.render_inventory(_context(sshd), "127.0.0.1")
    with pytest.raises(PlaybookFailedError, match="failed") as raised:
        adapter.run(_context(sshd), "fail.yml")
    assert any("Fail on purpose" in line for line in raised.value.tool_output)


KILL_ANSIBLE = """
- name: Kill ansible-playbook
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Kill the ansible-playbook process that runs this task (the parent of its worker)
      ansible.builtin.raw: kill -KILL "$(awk '{print $4}' /proc/$PPID/stat)"
"""


def test_a_playbook_whose_ansible_process_is_killed_says_it_was_killed(sshd: Sshd, tmp_path: Path) -> None:
    adapter, context = _adapter_with(tmp_path, sshd, {"kill.yml": KILL_ANSIBLE})
    with pytest.raises(PlaybookFailedError) as raised:
        adapter.run(context, "kill.yml")
    assert str(raised.value).startswith("playbook kill.yml failed: ansible-playbook was killed by a signal")


def _adapter_with(tmp_path: Path, sshd: Sshd, playbooks: dict[str, str]) -> tuple[AnsiblePlaybooks, EnvironmentContext]:
    start: Any = sshd.start
    start()
    playbooks_dir = tmp_path / "playbooks"
    playbooks_dir.mkdir()
    for name, text in playbooks.items():
        (playbooks_dir / name).write_text(text)
    adapter = AnsiblePlaybooks(tmp_path / "build", playbooks_dir)
    context = _context(sshd)
    adapter.render_inventory(context, "127.0.0.1")
    return adapter, context


def test_playbooks_started_together_report_each_result_in_order(sshd: Sshd, tmp_path: Path) -> None:
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"
    adapter, context = _adapter_with(
        tmp_path,
        sshd,
        {
            "first.yml": WRITE_FILE.replace("{{ target }}", str(first)),
            "second.yml": WRITE_FILE.replace("{{ target }}", str(second))
            + WRITE_FILE.replace("{{ target }}", str(first)),
        },
    )
    first_lines: list[str] = []
    second_lines: list[str] = []
    with adapter.start(context, ["first.yml", "second.yml"]) as running:
        assert running.wait("first.yml", first_lines.append).changed == 1
        assert running.wait("second.yml", second_lines.append).changed == 1  # its 2nd play finds the file written
    assert first.read_text() == second.read_text() == "hello\n"
    # each waiter gets its own playbook's lines only
    assert sum("TASK Write it" in line for line in first_lines) == 1
    assert sum("TASK Write it" in line for line in second_lines) == 2

    with adapter.start(context, ["first.yml", "second.yml"]) as running:
        assert (running.wait("first.yml").changed, running.wait("second.yml").changed) == (0, 0)


def test_a_failed_playbook_fails_alone_and_the_next_one_is_reported_not_run(sshd: Sshd, tmp_path: Path) -> None:
    target = tmp_path / "never.txt"
    adapter, context = _adapter_with(
        tmp_path, sshd, {"fail.yml": FAIL, "write.yml": WRITE_FILE.replace("{{ target }}", str(target))}
    )
    with adapter.start(context, ["fail.yml", "write.yml"]) as running:
        with pytest.raises(PlaybookFailedError, match="Fail on purpose"):
            running.wait("fail.yml")
        with pytest.raises(PlaybookFailedError, match=r"not run: fail\.yml failed before it"):
            running.wait("write.yml")
    assert not target.exists()


def test_a_failure_in_the_second_playbook_leaves_the_first_successful(sshd: Sshd, tmp_path: Path) -> None:
    target = tmp_path / "written.txt"
    adapter, context = _adapter_with(
        tmp_path, sshd, {"write.yml": WRITE_FILE.replace("{{ target }}", str(target)), "fail.yml": FAIL}
    )
    with adapter.start(context, ["write.yml", "fail.yml"]) as running:
        assert running.wait("write.yml").changed == 1
        with pytest.raises(PlaybookFailedError, match="Fail on purpose") as raised:
            running.wait("fail.yml")
    assert raised.value.playbook == "fail.yml"


FAIL_ON_OUTPUT = """
- name: Read a status
  hosts: all
  gather_facts: false
  tasks:
    - name: Read it
      ansible.builtin.raw: "echo 'status: error'"
      register: status
      changed_when: false
      failed_when: "'status: done' not in status.stdout"
"""


def test_a_task_failed_on_its_output_names_the_output_line(sshd: Sshd, tmp_path: Path) -> None:
    adapter, context = _adapter_with(tmp_path, sshd, {"status.yml": FAIL_ON_OUTPUT})
    with pytest.raises(PlaybookFailedError, match=r"failed: Read it status: error$"):
        adapter.run(context, "status.yml")


def test_a_held_run_starts_ansible_but_runs_nothing_until_it_may_proceed(sshd: Sshd, tmp_path: Path) -> None:
    target = tmp_path / "written.txt"
    adapter, context = _adapter_with(tmp_path, sshd, {"write.yml": WRITE_FILE.replace("{{ target }}", str(target))})
    lines: list[str] = []
    with adapter.start(context, ["write.yml"], held=True) as running:
        time.sleep(2.0)  # ansible has started and waits at the gate
        assert not target.exists()
        running.proceed()
        assert running.wait("write.yml", lines.append).changed == 1
    assert target.read_text() == "hello\n"
    assert not any("Wait for the controller" in line for line in lines)  # the gate play is nobody's


def test_a_held_run_that_never_proceeds_is_stopped_when_left(sshd: Sshd, tmp_path: Path) -> None:
    target = tmp_path / "never.txt"
    adapter, context = _adapter_with(tmp_path, sshd, {"write.yml": WRITE_FILE.replace("{{ target }}", str(target))})
    with adapter.start(context, ["write.yml"], held=True):
        time.sleep(2.0)  # ansible's worker runs the gate task
    # the caller failed before proceeding: leaving cancelled the run, and no gate task is left waiting
    assert not target.exists()
    deadline = time.monotonic() + 10
    while _gate_waiters(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _gate_waiters(tmp_path) == []


def _gate_waiters(tmp_path: Path) -> list[str]:
    """Command lines of processes still waiting at a gate under `tmp_path`."""
    waiting = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "gate-" in text and str(tmp_path) in text:
            waiting.append(text)
    return waiting


def test_the_shipped_ansible_cfg_polls_workers_every_10_ms() -> None:
    """ansible itself reads the file: `ansible-config dump` shows the interval it will use."""
    cfg = shipped_dir("playbooks") / ANSIBLE_CFG
    dump = subprocess.run(
        [str(Path(sys.executable).with_name("ansible-config")), "dump", "--only-changed"],
        env={**os.environ, "ANSIBLE_CONFIG": str(cfg)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"DEFAULT_INTERNAL_POLL_INTERVAL({cfg}) = 0.01" in dump.stdout
