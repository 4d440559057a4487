"""configure: Provisioned → Configuring → Configured | ConfigureFailed.

Also re-runs safely from ConfigureFailed (retry) and Configured (the playbooks are idempotent).

Steps: install Docker Engine, install Docker Compose — one ansible-runner playbook each, idempotent. The
playbooks run in one ansible-playbook process (ansible starts once); each step waits for its playbook.
"""

from __future__ import annotations

from contextlib import ExitStack
from functools import partial

from orchestrator.commands.errors import ConfigureFailedError
from orchestrator.commands.ports import CancelToken, PlaybookRunner, RunningPlaybooks, never_cancelled
from orchestrator.commands.progress import ProgressObserver
from orchestrator.commands.steps import StateChangingCommand, StepFailedError, TraceWriter
from orchestrator.domain import Configurable, Configured, ConfigureStep, Environment
from orchestrator.persistence import EnvironmentRepository

PLAYBOOKS = {
    ConfigureStep.INSTALL_DOCKER: "install-docker.yml",
    ConfigureStep.INSTALL_DOCKER_COMPOSE: "install-docker-compose.yml",
}


class ConfigureCommand(StateChangingCommand):
    def __init__(
        self,
        repository: EnvironmentRepository,
        playbooks: PlaybookRunner,
        traces: TraceWriter,
        observer: ProgressObserver | None = None,
        cancelled: CancelToken = never_cancelled,
    ) -> None:
        super().__init__(repository, traces, observer, cancelled)
        self._playbooks = playbooks
        self.changed_tasks = 0

    def execute(self, env: Environment[Configurable]) -> Environment[Configured]:
        with self._repository.lock(env.name):
            configuring = env.start_configuring()
            self._saver.save(configuring)
            runner = self._steps("configure", list(ConfigureStep))
            context = configuring.context
            self.changed_tasks = 0
            try:
                with ExitStack() as cleanup:
                    running: list[RunningPlaybooks] = []

                    def wait(playbook: str) -> int:
                        # started inside the first step, so that a failure to start is that step's failure
                        if not running:
                            started = self._playbooks.start(context, list(PLAYBOOKS.values()), runner.sink)
                            running.append(cleanup.enter_context(started))
                        return running[0].wait(playbook).changed

                    for step, playbook in PLAYBOOKS.items():
                        self.changed_tasks += runner.run(step, partial(wait, playbook))
            except StepFailedError as failed:
                failure = runner.failure(failed, self._traces, str(env.name))
                self._saver.save(configuring.fail_configuring(failure))
                raise ConfigureFailedError(str(env.name), failure) from failed.error
            configured = configuring.complete_configuring()
            self._saver.save(configured)
            return configured
