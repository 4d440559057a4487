"""configure: Provisioned → Configuring → Configured | ConfigureFailed.

Also re-runs safely from ConfigureFailed (retry) and Configured (the playbooks are idempotent).

Steps: install Docker Engine, install Docker Compose — one ansible-runner playbook each, idempotent. The
playbooks run in one ansible-playbook process (ansible starts once); each step waits for its playbook.
"""

from __future__ import annotations

from functools import partial

from orchestrator.commands.base import StateChangingCommand, StepFailedError, TraceWriter
from orchestrator.commands.errors import ConfigureFailedError
from orchestrator.commands.playbook_run import PlaybookRun
from orchestrator.commands.ports import CancelToken, PlaybookRunner, never_cancelled
from orchestrator.commands.progress import ProgressObserver
from orchestrator.domain import Configurable, Configured, ConfigureStep, Environment
from orchestrator.persistence import EnvironmentRepository

PLAYBOOKS = {
    ConfigureStep.INSTALL_DOCKER: "install-docker.yml",
    ConfigureStep.INSTALL_DOCKER_COMPOSE: "install-docker-compose.yml",
}
CONFIGURE_PLAYBOOKS = list(PLAYBOOKS.values())


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

    def execute(self, env: Environment[Configurable], reason: str | None = None) -> Environment[Configured]:
        """Configure `env`, under the caller's hold of the environment's lock."""
        with PlaybookRun(self._playbooks, env.context, CONFIGURE_PLAYBOOKS) as run:
            return self.configure(env, run, reason)

    def configure(
        self, env: Environment[Configurable], run: PlaybookRun, reason: str | None = None
    ) -> Environment[Configured]:
        """The run itself, under the caller's lock; each step waits for its playbook in `run`."""
        configuring = env.start_configuring(reason)
        self._saver.save(configuring)
        runner = self._steps("configure", list(ConfigureStep))
        self.changed_tasks = 0
        try:
            for step, playbook in PLAYBOOKS.items():
                self.changed_tasks += runner.run(step, partial(run.wait, playbook, runner.sink))
        except StepFailedError as failed:
            raise self._failed(
                failed, runner, env.name, configuring.fail_configuring, ConfigureFailedError
            ) from failed.error
        configured = configuring.complete_configuring()
        self._saver.save(configured)
        return configured
