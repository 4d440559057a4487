"""test: checks from the controller that the running tracker answers, changing nothing.

The health-check endpoint, the REST API's stats with the admin token, an HTTP announce + scrape on each
HTTP tracker port and a UDP connect + announce + scrape (BEP 15) on each UDP tracker port; each check is
a line with its result and time. No state changes (only a throwaway test peer is announced).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from orchestrator.commands.errors import TrackerTestFailedError
from orchestrator.commands.progress import ProgressObserver, SilentProgress
from orchestrator.commands.tracker_ports import ApiTokens, CheckOutcome, TrackerChecks
from orchestrator.domain import Environment, NoTrackerError, Running


@dataclass(frozen=True)
class TrackerTestReport:
    environment: str
    checks: tuple[CheckOutcome, ...]

    @property
    def passed(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failed(self) -> tuple[CheckOutcome, ...]:
        return tuple(check for check in self.checks if not check.ok)


class VerifyCommand:
    def __init__(self, tokens: ApiTokens, checks: TrackerChecks, observer: ProgressObserver | None = None) -> None:
        self._tokens = tokens
        self._checks = checks
        self._observer = observer or SilentProgress()

    def execute(self, env: Environment[Running]) -> TrackerTestReport:
        """Every check; raises TrackerTestFailedError (carrying the report) when one fails."""
        if env.context.tracker is None:
            raise NoTrackerError(str(env.name))
        token = self._tokens.read(env.name) or ""
        results: Sequence[CheckOutcome] = self._checks.run_checks(env.context, token)
        for check in results:
            self._observer.detail(f"{check.name}: {'ok' if check.ok else 'FAILED'} — {check.detail}")
        report = TrackerTestReport(str(env.name), tuple(results))
        if not report.passed:
            failed = [(check.name, check.detail) for check in report.failed]
            raise TrackerTestFailedError(report.environment, failed, report.checks)
        return report
