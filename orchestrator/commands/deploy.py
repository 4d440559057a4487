"""deploy: from wherever the environment is to Configured — and on to Running when it has a tracker.

The same steps, states, saves, failures and traces as `provision`, `configure`, `release` and `run` run
one after the other (it runs their bodies), under the one hold of the environment's lock the caller took:
- Created or ProvisionFailed: provision and configure, with the cloud-init wait and the configure
  playbooks in one ansible-playbook run (ansible starts once, not twice: ~0.6 s; `python -m bench`);
- Provisioned or ConfigureFailed: configure;
- then, for an environment with a tracker: Configured or ReleaseFailed → release; Released or RunFailed →
  run; Running stays as it is.
"""

from __future__ import annotations

from typing import cast

from orchestrator.commands.configure import CONFIGURE_PLAYBOOKS, ConfigureCommand
from orchestrator.commands.playbook_run import PlaybookRun
from orchestrator.commands.ports import PlaybookRunner
from orchestrator.commands.provision import WAIT_CLOUD_INIT_PLAYBOOK, ProvisionCommand
from orchestrator.commands.release import ReleaseCommand
from orchestrator.commands.run import RunCommand
from orchestrator.domain import (
    AnyEnvironment,
    Configurable,
    Configured,
    ConfigureFailed,
    Created,
    Environment,
    Provisionable,
    Provisioned,
    ProvisionFailed,
    Releasable,
    Released,
    ReleaseFailed,
    RunFailed,
    Runnable,
    Running,
)

DEPLOY_PLAYBOOKS = [WAIT_CLOUD_INIT_PLAYBOOK, *CONFIGURE_PLAYBOOKS]
Deployed = Environment[Configured] | Environment[Running]


class DeployCommand:
    def __init__(
        self,
        playbooks: PlaybookRunner,
        provision: ProvisionCommand,
        configure: ConfigureCommand,
        release: ReleaseCommand,
        run: RunCommand,
    ) -> None:
        self._playbooks = playbooks
        self._provision = provision
        self._configure = configure
        self._release = release
        self._run = run

    @property
    def stale_state(self) -> bool:
        """True when a save failed during the run: the state on disk is behind the returned one."""
        return any(c.stale_state for c in (self._provision, self._configure, self._release, self._run))

    def execute(self, env: AnyEnvironment) -> Deployed:
        """Continue `env` (checked by the caller: not destroying or destroyed) to its end state."""
        if isinstance(env.state, Created | ProvisionFailed):
            with PlaybookRun(self._playbooks, env.context, DEPLOY_PLAYBOOKS) as run:
                provisioned = self._provision.provision(cast("Environment[Provisionable]", env), run)
                env = self._configure.configure(provisioned, run)
        elif isinstance(env.state, Provisioned | ConfigureFailed):
            env = self._configure.execute(cast("Environment[Configurable]", env))
        if env.context.tracker is None:
            return env.require(Configured)
        if isinstance(env.state, Configured | ReleaseFailed):
            env = self._release.execute(cast("Environment[Releasable]", env))
        if isinstance(env.state, Released | RunFailed):
            env = self._run.execute(cast("Environment[Runnable]", env))
        return env.require(Running)
