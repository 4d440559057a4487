"""`is_locked` tells a live holder (another process) from a free or dead one, without waiting."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestrator.domain import EnvironmentName
from orchestrator.persistence import JsonFileRepository

pytestmark = pytest.mark.integration
NAME = EnvironmentName("probe")
HOLDER = """
import sys, time
from pathlib import Path
from orchestrator.domain import EnvironmentName
from orchestrator.persistence import JsonFileRepository
with JsonFileRepository(Path(sys.argv[1])).lock(EnvironmentName("probe")):
    print("held", flush=True)
    time.sleep(60)
"""


def test_is_locked_sees_another_process_holding_the_lock_and_not_after_it_is_killed(tmp_path: Path) -> None:
    repo = JsonFileRepository(tmp_path)
    assert not repo.is_locked(NAME)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert repo.is_locked(NAME)
    finally:
        holder.kill()
        holder.wait()
    deadline = time.monotonic() + 5
    while repo.is_locked(NAME) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not repo.is_locked(NAME)


def test_is_locked_is_true_inside_this_threads_own_hold(tmp_path: Path) -> None:
    repo = JsonFileRepository(tmp_path)
    with repo.lock(NAME):
        assert repo.is_locked(NAME)
    assert not repo.is_locked(NAME)
