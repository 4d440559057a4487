"""Two processes on one environment: the CLI waits for the lock (`--lock-timeout`), then exits 3 and
names the holder's PID. Daemon-free: the holder is a helper process holding the environment's lock, and
the CLI runs `purge --force` (which needs nothing but the lock). tests/e2e/cli/ does the same with two
real CLI commands against the lab."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.persistence import JsonFileRepository
from tests.support.environments import created

CLI = str(Path(sys.executable).with_name("torrust-deploy"))
HOLDER = """
import sys
from pathlib import Path
from orchestrator.domain import EnvironmentName
from orchestrator.persistence import JsonFileRepository
with JsonFileRepository(Path(sys.argv[1])).lock(EnvironmentName(sys.argv[2])):
    print("locked", flush=True)
    sys.stdin.read()  # hold until the test closes stdin
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    JsonFileRepository(tmp_path / "data").save(created("busy"))
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "data"), "busy"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "locked"
    try:
        yield process
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=10)


def _cli(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = subprocess.run(
        [CLI, "-C", str(tmp_path), "--lock-timeout", "1", *args],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    return result, time.monotonic() - started


def test_second_process_waits_then_exits_3_naming_the_holder(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    result, seconds = _cli(tmp_path, "purge", "busy", "--force")

    assert result.returncode == 3, result.stderr
    assert seconds >= 1.0
    lines = result.stderr.splitlines()
    assert lines[0] == f"Error: environment 'busy' is locked by process {holder.pid} (alive); gave up after waiting 1 s"
    assert lines[1].startswith(f"Tip: another torrust-deploy command (PID {holder.pid}) is working on 'busy'")
    assert (tmp_path / "data" / "busy" / "environment.json").exists()


def test_lock_timeout_error_as_json(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    result, _ = _cli(tmp_path, "--json", "purge", "busy", "--force")

    assert result.returncode == 3
    error = json.loads(result.stdout)["error"]
    assert (error["kind"], error["exit_code"], error["holder_pid"]) == ("LockTimeoutError", 3, holder.pid)


def test_read_only_commands_do_not_wait_for_the_lock(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    # a command that waited would give up after `--lock-timeout 1` and exit 3; how fast it answers is the bench's
    result, _ = _cli(tmp_path, "show", "busy")

    assert result.returncode == 0, result.stderr
    assert f"process {holder.pid} is working on it" in result.stdout
