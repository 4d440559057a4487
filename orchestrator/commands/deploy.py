"""deploy: from wherever the environment is — and whatever its host is really like — to Configured, and on
to Running when it has a tracker.

It converges on what is really there: before it trusts a state after provisioning, it makes the same
read-only comparison `check` makes (one LXD call; for Running, the tracker's health endpoint; Docker over
SSH when that is in question). Drift is repaired by going back to the command that fixes it, recorded in
the history with the reason: the instance missing, stopped or changed → provision (Pulumi refreshes, then
recreates or restarts it); Docker not running → configure; the tracker down → run. With no drift, a
deployed environment is a fast no-op.

Then the same steps, states, saves, failures and traces as `provision`, `configure`, `release` and `run`
run one after the other (it runs their bodies), under the one hold of the environment's lock the caller took:
- Created or ProvisionFailed: provision and configure, with the cloud-init wait and the configure
  playbooks in one ansible-playbook run (ansible starts once, not twice: ~0.6 s; `python -m bench`);
- Provisioned or ConfigureFailed: configure;
- then, for an environment with a tracker: Configured or ReleaseFailed → release; Released or RunFailed →
  run; Running stays as it is.
"""

from __future__ import annotations

import logging
from typing import cast

from orchestrator.commands.check import CheckCommand
from orchestrator.commands.configure import CONFIGURE_PLAYBOOKS, ConfigureCommand
from orchestrator.commands.playbook_run import PlaybookRun
from orchestrator.commands.ports import PlaybookRunner
from orchestrator.commands.provision import WAIT_CLOUD_INIT_PLAYBOOK, ProvisionCommand
from orchestrator.commands.release import ReleaseCommand
from orchestrator.commands.run import RunCommand
from orchestrator.domain import (
    IN_PROGRESS,
    WITH_INSTANCE,
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
log = logging.getLogger("orchestrator.commands")


class DeployCommand:
    def __init__(
        self,
        playbooks: PlaybookRunner,
        provision: ProvisionCommand,
        configure: ConfigureCommand,
        release: ReleaseCommand,
        run: RunCommand,
        check: CheckCommand | None = None,
    ) -> None:
        self._playbooks = playbooks
        self._provision = provision
        self._configure = configure
        self._release = release
        self._run = run
        self._check = check
        self.repaired: tuple[str, ...] = ()
        """The drift the last run found and repaired (empty when there was none)."""

    @property
    def stale_state(self) -> bool:
        """True when a save failed during the run: the state on disk is behind the returned one."""
        return any(c.stale_state for c in (self._provision, self._configure, self._release, self._run))

    def execute(self, env: AnyEnvironment) -> Deployed:
        """Continue `env` (checked by the caller: not destroying or destroyed) to its end state."""
        env = self._repair_drift(env)
        if isinstance(env.state, Created | ProvisionFailed):
            env = self._provision_and_configure(cast("Environment[Provisionable]", env))
        elif isinstance(env.state, Provisioned | ConfigureFailed):
            env = self._configure.execute(cast("Environment[Configurable]", env))
        if env.context.tracker is None:
            return env.require(Configured)
        if isinstance(env.state, Configured | ReleaseFailed):
            env = self._release.execute(cast("Environment[Releasable]", env))
        if isinstance(env.state, Released | RunFailed):
            env = self._run.execute(cast("Environment[Runnable]", env))
        return env.require(Running)

    def _provision_and_configure(
        self, env: Environment[Provisionable], reason: str | None = None
    ) -> Environment[Configured]:
        with PlaybookRun(self._playbooks, env.context, DEPLOY_PLAYBOOKS) as run:
            provisioned = self._provision.provision(env, run, reason)
            return self._configure.configure(provisioned, run)

    def _repair_drift(self, env: AnyEnvironment) -> AnyEnvironment:
        """Compare a provisioned environment with what is there; go back to the command that repairs drift."""
        self.repaired = ()
        if self._check is None or not isinstance(env.state, WITH_INSTANCE) or isinstance(env.state, IN_PROGRESS):
            return env
        report = self._check.execute(env)
        if not report.drifted or report.repair is None:
            return env
        self.repaired = report.findings
        reason = "drift: " + "; ".join(report.findings)
        log.warning("environment %s: %s — repairing with %s", env.name, reason, report.repair)
        if report.repair == "provision":
            return self._provision_and_configure(cast("Environment[Provisionable]", env), reason)
        if report.repair == "configure":
            return self._configure.execute(cast("Environment[Configurable]", env), reason)
        return self._run.execute(cast("Environment[Runnable]", env), reason)
