"""provision: Created → Provisioning → Provisioned(ip) | ProvisionFailed.

Also re-runs safely: from ProvisionFailed (retry) and from Provisioned/Configured/ConfigureFailed (repair:
`pulumi up` refreshes first, so an instance deleted, stopped or changed behind the tool's back is
recreated or restarted).

Steps: prepare the Pulumi stack → `up` → read outputs → render the inventory → wait for SSH (real key
authentication; the cloud-init wait's ansible process starts meanwhile, held until SSH answers) → wait for
cloud-init (ansible-runner). The environment's lock is held for the whole run.
"""

from __future__ import annotations

from orchestrator.commands.base import StateChangingCommand, StepFailedError, StepRunner, TraceWriter
from orchestrator.commands.errors import ProvisionFailedError
from orchestrator.commands.playbook_run import PlaybookRun
from orchestrator.commands.ports import (
    CancelToken,
    InfrastructureProvisioner,
    InstanceOutputs,
    PlaybookRunner,
    SshProbe,
    never_cancelled,
)
from orchestrator.commands.progress import ProgressObserver
from orchestrator.domain import (
    Environment,
    EnvironmentContext,
    Provisionable,
    Provisioned,
    Provisioning,
    ProvisionStep,
)
from orchestrator.persistence import EnvironmentRepository

WAIT_CLOUD_INIT_PLAYBOOK = "wait-cloud-init.yml"


class ProvisionCommand(StateChangingCommand):
    def __init__(
        self,
        repository: EnvironmentRepository,
        provisioner: InfrastructureProvisioner,
        playbooks: PlaybookRunner,
        ssh: SshProbe,
        traces: TraceWriter,
        observer: ProgressObserver | None = None,
        cancelled: CancelToken = never_cancelled,
        ssh_timeout_s: float = 120.0,
    ) -> None:
        super().__init__(repository, traces, observer, cancelled)
        self._provisioner = provisioner
        self._playbooks = playbooks
        self._ssh = ssh
        self._ssh_timeout_s = ssh_timeout_s

    def execute(self, env: Environment[Provisionable]) -> Environment[Provisioned]:
        """Provision `env`, under the caller's hold of the environment's lock."""
        with PlaybookRun(self._playbooks, env.context, [WAIT_CLOUD_INIT_PLAYBOOK]) as run:
            return self.provision(env, run)

    def provision(
        self, env: Environment[Provisionable], run: PlaybookRun, reason: str | None = None
    ) -> Environment[Provisioned]:
        """The run itself, under the caller's lock; the cloud-init wait is `run`'s WAIT_CLOUD_INIT_PLAYBOOK."""
        provisioning = env.start_provisioning(reason)
        self._saver.save(provisioning)
        runner = self._steps("provision", list(ProvisionStep))
        try:
            outputs = self._run_steps(provisioning, runner, run)
        except StepFailedError as failed:
            raise self._failed(
                failed, runner, env.name, provisioning.fail_provisioning, ProvisionFailedError
            ) from failed.error
        provisioned = provisioning.complete_provisioning(outputs.ipv4)
        self._saver.save(provisioned)
        return provisioned

    def _run_steps(self, env: Environment[Provisioning], runner: StepRunner, run: PlaybookRun) -> InstanceOutputs:
        context = env.context
        stack = runner.run(ProvisionStep.PREPARE_STACK, lambda: self._provisioner.prepare(context))
        outputs = runner.run(ProvisionStep.PULUMI_UP, lambda: self._provisioner.up(stack, runner.sink))
        runner.run(ProvisionStep.READ_OUTPUTS, lambda: _require_address(outputs))
        runner.run(ProvisionStep.RENDER_INVENTORY, lambda: self._playbooks.render_inventory(context, outputs.ipv4))
        runner.run(ProvisionStep.WAIT_SSH, lambda: self._wait_ssh(context, outputs.ipv4, run))
        runner.run(ProvisionStep.WAIT_CLOUD_INIT, lambda: run.wait(WAIT_CLOUD_INIT_PLAYBOOK, runner.sink))
        return outputs

    def _wait_ssh(self, context: EnvironmentContext, host: str, run: PlaybookRun) -> float:
        """Wait until SSH accepts the key, with the ansible process of the cloud-init wait starting meanwhile
        (held until SSH answers; the inventory is written)."""
        run.start_held()
        waited = self._ssh.wait(context, host, self._ssh_timeout_s)
        run.proceed()
        return waited


class MissingInstanceAddressError(Exception):
    pass


def _require_address(outputs: InstanceOutputs) -> None:
    if not outputs.ipv4:
        raise MissingInstanceAddressError(f"instance {outputs.instance_name} has no IPv4 address")
