"""marked_run and stop_leftovers with real processes: runs in two threads of one process, the second
started while the first is going, then the process killed outright. The next command on each environment
must find the children its run left, and no run's end may take the marker or the private umask from a
run still going."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from orchestrator.infrastructure.leftovers import MARKER_VAR, PRIVATE_UMASK, RUN_FILE, marked_run, stop_leftovers
from tests.support.processes import alive

pytestmark = pytest.mark.integration


@pytest.fixture
def env_dirs(tmp_path: Path) -> tuple[Path, Path]:
    """The folders of two environments, a and b."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    return tmp_path / "a", tmp_path / "b"


TWO_THREADS_THEN_KILLED = textwrap.dedent(
    """
    import os, signal, subprocess, sys, threading
    from pathlib import Path
    from orchestrator.infrastructure.leftovers import marked_run

    first_in, second_in = threading.Event(), threading.Event()
    children = {}

    def run(name, entered, wait_for):
        with marked_run(Path(sys.argv[1]) / name):
            entered.set()
            if wait_for is not None:
                wait_for.wait()
            children[name] = subprocess.Popen(["sleep", "60"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).pid
            done.wait()

    done = threading.Event()
    threads = [
        threading.Thread(target=run, args=("a", first_in, second_in)),  # a starts first, spawns after b started
        threading.Thread(target=run, args=("b", second_in, None)),
    ]
    threads[0].start()
    first_in.wait()
    threads[1].start()
    while len(children) < 2:
        threading.Event().wait(0.01)
    print(children["a"], children["b"], flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_the_next_command_on_each_environment_stops_what_its_killed_run_left_though_two_threads_ran(
    env_dirs: tuple[Path, Path],
) -> None:
    dir_a, dir_b = env_dirs
    argv = [sys.executable, "-c", TWO_THREADS_THEN_KILLED, str(dir_a.parent)]
    killed = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    child_a, child_b = (int(pid) for pid in killed.stdout.split())
    try:
        stopped_a = stop_leftovers(dir_a)
        assert f"sleep (PID {child_a})" in stopped_a
        assert not alive(child_a)
        stop_leftovers(dir_b)
        assert not alive(child_b)
        assert not (dir_a / RUN_FILE).exists() and not (dir_b / RUN_FILE).exists()
    finally:
        for pid in (child_a, child_b):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_run_that_ends_first_leaves_the_marker_and_private_umask_to_the_run_still_going(
    env_dirs: tuple[Path, Path],
) -> None:
    dir_a, dir_b = env_dirs
    a_entered, a_may_end, a_ended = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with marked_run(dir_a):
            a_entered.set()
            a_may_end.wait(10)
        a_ended.set()

    outside_marker, outside_umask = os.environ.get(MARKER_VAR), os.umask(0o022)
    try:
        thread = threading.Thread(target=first)
        thread.start()
        a_entered.wait(10)
        with marked_run(dir_b) as marker:
            a_may_end.set()
            a_ended.wait(10)
            still_umask = os.umask(PRIVATE_UMASK)
            child_environ = subprocess.run(
                ["env"], capture_output=True, text=True, check=True, timeout=10
            ).stdout.splitlines()
        thread.join(10)
        after_umask = os.umask(0o022)
    finally:
        os.umask(outside_umask)

    assert still_umask == PRIVATE_UMASK
    assert f"{MARKER_VAR}={marker}" in child_environ
    assert after_umask == 0o022 and os.environ.get(MARKER_VAR) == outside_marker


def test_a_child_forked_during_a_run_marks_its_own_runs_with_a_marker_of_its_own(env_dirs: tuple[Path, Path]) -> None:
    dir_a, dir_b = env_dirs
    read_end, write_end = os.pipe()
    with marked_run(dir_a) as parent_marker:
        pid = os.fork()
        if pid == 0:  # the child: one run of its own, then report its marker
            with marked_run(dir_b) as child_marker:
                os.write(write_end, child_marker.encode())
            os._exit(0)
        os.close(write_end)
        _, status = os.waitpid(pid, 0)
        child_marker = os.read(read_end, 64).decode()
        os.close(read_end)

    assert os.waitstatus_to_exitcode(status) == 0
    assert child_marker and child_marker != parent_marker
