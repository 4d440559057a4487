"""VerifyCommand (`torrust-deploy test`) with fake checks: passes, fails naming the check, changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.commands.errors import TrackerTestFailedError
from orchestrator.commands.verify import VerifyCommand
from tests.support.fakes import (
    FakeTrackerChecks,
)
from tests.support.tracker_commands import parts, released


def test_test_passes_when_every_check_passes_and_changes_nothing(tmp_path: Path) -> None:
    tokens = parts(tmp_path).tokens
    running = released(tmp_path).start_running().complete_running()

    report = VerifyCommand(tokens, FakeTrackerChecks()).execute(running)

    assert report.passed and len(report.checks) == 4
    assert running.pending_transitions[-1].to_state == "running"  # no transition was made


def test_test_fails_naming_the_failed_check(tmp_path: Path) -> None:
    tokens = parts(tmp_path).tokens
    running = released(tmp_path).start_running().complete_running()

    with pytest.raises(TrackerTestFailedError) as raised:
        VerifyCommand(tokens, FakeTrackerChecks(failing_check="UDP announce :6969")).execute(running)

    assert raised.value.failed == [("UDP announce :6969", "timed out")]
    assert int(raised.value.exit_code) == 1
    assert len(raised.value.checks) == 4
