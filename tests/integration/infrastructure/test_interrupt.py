"""SignalInterruption with real processes: SIGINT is forwarded to children, a stubborn child is killed
after the grace period, and the previous handlers come back."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.integration

SCRIPT = textwrap.dedent(
    """
    import os, signal, subprocess, sys, time
    from orchestrator.infrastructure.interrupt import SignalInterruption

    # What an interactive shell gives: a shell's background job inherits SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    ready = "import signal, sys, time; signal.signal(signal.SIGINT, signal.{}); print(flush=True); time.sleep(60)"
    polite = subprocess.Popen([sys.executable, "-c", ready.format("SIG_DFL")], stdout=subprocess.PIPE)
    stubborn = subprocess.Popen([sys.executable, "-c", ready.format("SIG_IGN")], stdout=subprocess.PIPE)
    for child in (polite, stubborn):
        child.stdout.readline()  # its handler is set
    interruption = SignalInterruption(grace_s=1.0)
    with interruption.installed():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.2)
        print("requested", interruption.requested(), interruption.signal_name)
        print("polite", polite.wait(timeout=10))
        print("stubborn", stubborn.wait(timeout=10))
    print("restored", signal.getsignal(signal.SIGINT) is signal.default_int_handler)
    """
)


def test_sigint_is_forwarded_to_children_and_a_stubborn_child_is_killed_after_the_grace_period() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.splitlines() == [
        "requested True SIGINT",
        "polite -2",
        "stubborn -9",
        "restored True",
    ]
