"""run: Released → Starting → Running | RunFailed.

Also re-runs safely: from RunFailed (retry) and from Running (`docker compose up -d` changes nothing when
nothing changed, and recreates the tracker after a re-release).

Steps: start the tracker's compose stack on the host and wait for the container's own health check
(ansible-runner; on failure the container's last log lines reach the trace) → wait from the controller
until the health-check endpoint answers Ok (what users and `test` reach).
"""

from __future__ import annotations

from orchestrator.commands.base import StateChangingCommand, StepFailedError, TraceWriter
from orchestrator.commands.errors import RunFailedError
from orchestrator.commands.playbook_run import PlaybookRun
from orchestrator.commands.ports import CancelToken, LineSink, PlaybookRunner, never_cancelled
from orchestrator.commands.progress import ProgressObserver
from orchestrator.commands.tracker_ports import ReleasePreparer, TrackerChecks
from orchestrator.domain import Environment, Runnable, Running, RunStep, Starting
from orchestrator.persistence import EnvironmentRepository

START_TRACKER_PLAYBOOK = "start-tracker.yml"
HEALTH_TIMEOUT_S = 60.0


class RunCommand(StateChangingCommand):
    def __init__(
        self,
        repository: EnvironmentRepository,
        playbooks: PlaybookRunner,
        preparer: ReleasePreparer,
        checks: TrackerChecks,
        traces: TraceWriter,
        observer: ProgressObserver | None = None,
        cancelled: CancelToken = never_cancelled,
    ) -> None:
        super().__init__(repository, traces, observer, cancelled)
        self._playbooks = playbooks
        self._preparer = preparer
        self._checks = checks

    def execute(self, env: Environment[Runnable], reason: str | None = None) -> Environment[Running]:
        """The run itself, under the caller's hold of the environment's lock."""
        return self.start(env, None, reason)

    def start(
        self, env: Environment[Runnable], run: PlaybookRun | None, reason: str | None = None
    ) -> Environment[Running]:
        """`execute`, waiting for START_TRACKER_PLAYBOOK in `run` when given (a run started with the
        release's variables), else in a run of its own."""
        starting = env.start_running(reason)
        self._saver.save(starting)
        runner = self._steps("run", list(RunStep))
        context = starting.context
        try:
            runner.run(RunStep.START_TRACKER, lambda: self._start_tracker(starting, run, runner.sink))
            runner.run(RunStep.WAIT_HEALTHY, lambda: self._checks.wait_healthy(context, HEALTH_TIMEOUT_S))
        except StepFailedError as failed:
            raise self._failed(failed, runner, env.name, starting.fail_running, RunFailedError) from failed.error
        running = starting.complete_running()
        self._saver.save(running)
        return running

    def _start_tracker(self, env: Environment[Starting], run: PlaybookRun | None, sink: LineSink) -> int:
        """`docker compose up` and the container's health check, in the START_TRACKER step (so that any
        failure here, reading the release's variables included, ends RunFailed)."""
        if run is not None:
            return run.wait(START_TRACKER_PLAYBOOK, sink)
        extravars = self._preparer.variables(env.context)
        with PlaybookRun(self._playbooks, env.context, [START_TRACKER_PLAYBOOK], extravars) as own:
            return own.wait(START_TRACKER_PLAYBOOK, sink)
