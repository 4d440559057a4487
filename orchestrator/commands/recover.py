"""Interrupted runs: an environment left in an in-progress state (Provisioning, Configuring, Releasing,
Starting, Destroying) by a process that is gone (killed, crashed, machine rebooted). Found while holding
the environment's lock — so no live process is running it — it is recorded as the matching failed state,
step unknown, error kind "Interrupted"."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from orchestrator.commands.base import INTERRUPTED, SafeSaver
from orchestrator.domain import (
    AnyEnvironment,
    Configuring,
    Destroying,
    FailureContext,
    Provisioning,
    Releasing,
    Starting,
)

log = logging.getLogger("orchestrator.commands")


def _interrupted_failure(env: AnyEnvironment, command: str) -> FailureContext:
    return FailureContext(
        step=None,
        error_kind=INTERRUPTED,
        summary=f"interrupted: the process running {command} ended before it finished (step unknown)",
        started_at=env.state_since,
        failed_at=datetime.now(UTC),
    )


def record_interruption(env: AnyEnvironment, saver: SafeSaver) -> AnyEnvironment:
    """The matching failed state of an interrupted environment (saved); other environments unchanged."""
    state = env.state
    failed: AnyEnvironment
    if isinstance(state, Provisioning):
        failed = env.require(Provisioning).fail_provisioning(_interrupted_failure(env, "provision"))
    elif isinstance(state, Configuring):
        failed = env.require(Configuring).fail_configuring(_interrupted_failure(env, "configure"))
    elif isinstance(state, Releasing):
        failed = env.require(Releasing).fail_releasing(_interrupted_failure(env, "release"))
    elif isinstance(state, Starting):
        failed = env.require(Starting).fail_running(_interrupted_failure(env, "run"))
    elif isinstance(state, Destroying):
        failed = env.require(Destroying).fail_destroying(_interrupted_failure(env, "destroy"))
    else:
        return env
    log.warning(
        "environment %s was left %s by a run that did not finish; recording it as %s and going on",
        env.name,
        state.tag,
        failed.state.tag,
    )
    saver.save(failed)
    return failed
