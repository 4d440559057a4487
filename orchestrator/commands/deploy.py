"""deploy: from wherever the environment is — and whatever its host is really like — to Configured, and on
to Running when it has a tracker.

It converges on what is really there: before it trusts a state after provisioning, it makes the same
read-only comparison `check` makes (one LXD call; for Running, the tracker's health endpoint; Docker over
SSH when that is in question). Drift is repaired by going back to the command that fixes it, recorded in
the history with the reason: the instance missing, stopped or changed → provision (Pulumi refreshes, then
recreates or restarts it); Docker not running → configure; the tracker down → run. With no drift, a
deployed environment is a fast no-op.

Then the same steps, states, saves, failures and traces as `provision`, `configure`, `release` and `run`
run one after the other (it runs their bodies), under the one hold of the environment's lock the caller took,
from the first one the state (or the drift) calls for: Created or ProvisionFailed → provision;
Provisioned or ConfigureFailed → configure; then, for an environment with a tracker, Configured or
ReleaseFailed → release; Released or RunFailed → run; Running stays as it is.

All their playbooks run in one ansible-playbook process, each step waiting for its own: ansible starts
once, not once per command (~0.75 s each: start-up and shutdown; `python -m bench`, section deploy). The
release's playbooks get their variables when the process starts and read the rendered files as soon as
they begin, so the release is rendered ahead (`ReleaseCommand.prepare_ahead`) when its image is ready;
when it is not (a first build), release and run start their own process after the render step.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Literal, cast

from orchestrator.commands.check import CheckCommand
from orchestrator.commands.configure import CONFIGURE_PLAYBOOKS, ConfigureCommand
from orchestrator.commands.playbook_run import PlaybookRun
from orchestrator.commands.ports import PlaybookRunner
from orchestrator.commands.provision import WAIT_CLOUD_INIT_PLAYBOOK, ProvisionCommand
from orchestrator.commands.release import RELEASE_PLAYBOOKS, ReleaseCommand
from orchestrator.commands.run import START_TRACKER_PLAYBOOK, RunCommand
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

Stage = Literal["provision", "configure", "release", "run"]
STAGES: tuple[Stage, ...] = ("provision", "configure", "release", "run")
TRACKER_STAGES: frozenset[Stage] = frozenset({"release", "run"})
STAGE_PLAYBOOKS: dict[Stage, list[str]] = {
    "provision": [WAIT_CLOUD_INIT_PLAYBOOK],
    "configure": CONFIGURE_PLAYBOOKS,
    "release": RELEASE_PLAYBOOKS,
    "run": [START_TRACKER_PLAYBOOK],
}
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
        first, reason = self._first_stage(env)
        stages = self._stages_from(first, env)
        extravars: Mapping[str, object] | None = None
        if TRACKER_STAGES & set(stages):
            extravars = self._release.prepare_ahead(env)
        shared = [stage for stage in stages if extravars is not None or stage not in TRACKER_STAGES]
        playbooks = [playbook for stage in shared for playbook in STAGE_PLAYBOOKS[stage]]
        with PlaybookRun(self._playbooks, env.context, playbooks, extravars) as run:
            for stage in stages:
                env = self._run_stage(stage, env, run, stage in shared, reason if stage == first else None)
        if env.context.tracker is None:
            return env.require(Configured)
        return env.require(Running)

    def _run_stage(
        self, stage: Stage, env: AnyEnvironment, run: PlaybookRun, shared: bool, reason: str | None
    ) -> AnyEnvironment:
        """One command's body, waiting in the shared `run`; release and run start their own when not `shared`."""
        if stage == "provision":
            return self._provision.provision(cast("Environment[Provisionable]", env), run, reason)
        if stage == "configure":
            return self._configure.configure(cast("Environment[Configurable]", env), run, reason)
        if stage == "release":
            return self._release.release(cast("Environment[Releasable]", env), run if shared else None)
        return self._run.start(cast("Environment[Runnable]", env), run if shared else None, reason)

    def _first_stage(self, env: AnyEnvironment) -> tuple[Stage | None, str | None]:
        """The command to begin with, and the reason when it is a repair; None when there is nothing to do."""
        repair, reason = self._drift(env)
        if repair is not None:
            return repair, reason
        state = env.state
        if isinstance(state, Created | ProvisionFailed):
            return "provision", None
        if isinstance(state, Provisioned | ConfigureFailed):
            return "configure", None
        if env.context.tracker is not None and isinstance(state, Configured | ReleaseFailed):
            return "release", None
        if env.context.tracker is not None and isinstance(state, Released | RunFailed):
            return "run", None
        return None, None

    @staticmethod
    def _stages_from(first: Stage | None, env: AnyEnvironment) -> list[Stage]:
        """The commands from `first` on: a repair of the tracker runs only `run`; without a tracker, none of
        release and run."""
        if first is None:
            return []
        if first == "run":
            return ["run"]
        stages = list(STAGES[STAGES.index(first) :])
        return stages if env.context.tracker is not None else [s for s in stages if s not in TRACKER_STAGES]

    def _drift(self, env: AnyEnvironment) -> tuple[Stage | None, str | None]:
        """Compare a provisioned environment with what is there: the command that repairs drift, and why."""
        self.repaired = ()
        if self._check is None or not isinstance(env.state, WITH_INSTANCE) or isinstance(env.state, IN_PROGRESS):
            return None, None
        report = self._check.execute(env)
        if not report.drifted or report.repair is None:
            return None, None
        self.repaired = report.findings
        reason = "drift: " + "; ".join(report.findings)
        log.warning("environment %s: %s — repairing with %s", env.name, reason, report.repair)
        repair = cast("Stage", report.repair)
        return repair, reason
