"""destroy: any state → Destroying → Destroyed | DestroyFailed.

Steps: `pulumi destroy` (an instance already gone is not an error) and remove the stack, then delete the
environment's rendered build artifacts.
"""

from __future__ import annotations

from orchestrator.commands.base import StateChangingCommand, StepFailedError, TraceWriter
from orchestrator.commands.errors import DestroyFailedError
from orchestrator.commands.ports import CancelToken, InfrastructureProvisioner, PlaybookRunner, never_cancelled
from orchestrator.commands.progress import ProgressObserver
from orchestrator.domain import AnyEnvironment, Destroyed, DestroyStep, Environment
from orchestrator.persistence import EnvironmentRepository


class DestroyCommand(StateChangingCommand):
    def __init__(
        self,
        repository: EnvironmentRepository,
        provisioner: InfrastructureProvisioner,
        playbooks: PlaybookRunner,
        traces: TraceWriter,
        observer: ProgressObserver | None = None,
        cancelled: CancelToken = never_cancelled,
    ) -> None:
        super().__init__(repository, traces, observer, cancelled)
        self._provisioner = provisioner
        self._playbooks = playbooks

    def execute(self, env: AnyEnvironment) -> Environment[Destroyed]:
        """Destroy `env`, under the caller's hold of the environment's lock."""
        destroying = env.start_destroying()
        self._saver.save(destroying)
        runner = self._steps("destroy", list(DestroyStep))
        context = destroying.context
        try:
            runner.run(DestroyStep.PULUMI_DESTROY, lambda: self._provisioner.destroy(context, runner.sink))
            runner.run(DestroyStep.REMOVE_STACK, lambda: self._provisioner.remove_stack(context))
            runner.run(DestroyStep.CLEAN_BUILD, lambda: self._playbooks.clean(context))
        except StepFailedError as failed:
            raise self._failed(
                failed, runner, env.name, destroying.fail_destroying, DestroyFailedError
            ) from failed.error
        destroyed = destroying.complete_destroying()
        self._saver.save(destroyed)
        return destroyed
