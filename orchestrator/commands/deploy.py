"""deploy: Created | ProvisionFailed → Provisioning → Provisioned → Configuring → Configured, in one run.

The same steps, states, saves, failures and traces as `provision` followed by `configure` (it runs their
bodies), with two differences:
- the environment's lock is held from the first step to the last, so no other command can slip in
  between provisioning and configuring;
- the cloud-init wait and the configure playbooks are one ansible-playbook run: ansible starts once, not
  twice (~0.6 s; `python -m bench`, section deploy). The configure playbooks start the moment cloud-init
  is done, while the Provisioned and Configuring states are being saved. A failed cloud-init wait ends
  the run before they do anything (ansible drops a host that failed).

Environments that are already provisioned are configured by `ConfigureCommand` (see `Deployer.deploy`).
"""

from __future__ import annotations

from orchestrator.commands.configure import CONFIGURE_PLAYBOOKS, ConfigureCommand
from orchestrator.commands.playbook_run import PlaybookRun
from orchestrator.commands.ports import PlaybookRunner
from orchestrator.commands.provision import WAIT_CLOUD_INIT_PLAYBOOK, ProvisionCommand
from orchestrator.domain import Configured, Environment, Provisionable
from orchestrator.persistence import EnvironmentRepository

DEPLOY_PLAYBOOKS = [WAIT_CLOUD_INIT_PLAYBOOK, *CONFIGURE_PLAYBOOKS]


class DeployCommand:
    def __init__(
        self,
        repository: EnvironmentRepository,
        playbooks: PlaybookRunner,
        provision: ProvisionCommand,
        configure: ConfigureCommand,
    ) -> None:
        self._repository = repository
        self._playbooks = playbooks
        self._provision = provision
        self._configure = configure

    @property
    def stale_state(self) -> bool:
        """True when a save failed during the run: the state on disk is behind the returned one."""
        return self._provision.stale_state or self._configure.stale_state

    def execute(self, env: Environment[Provisionable]) -> Environment[Configured]:
        with self._repository.lock(env.name), PlaybookRun(self._playbooks, env.context, DEPLOY_PLAYBOOKS) as run:
            provisioned = self._provision.provision(env, run)
            return self._configure.configure(provisioned, run)
