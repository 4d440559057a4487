"""The tracker's transitions type-check: Configured → Releasing → Released → Starting → Running, their
failures, the retries from the failed states and the re-release of a running tracker."""

from typing import assert_type

from orchestrator.domain import (
    Configured,
    Destroyed,
    Environment,
    FailureContext,
    Released,
    ReleaseFailed,
    ReleaseStep,
    Releasing,
    RunFailed,
    Running,
    RunStep,
    Starting,
)


def failure(step: ReleaseStep | RunStep) -> FailureContext:
    raise NotImplementedError


def configured() -> Environment[Configured]:
    raise NotImplementedError


releasing = configured().start_releasing()
assert_type(releasing, Environment[Releasing])
released = releasing.complete_releasing()
assert_type(released, Environment[Released])
release_failed = releasing.fail_releasing(failure(ReleaseStep.LOAD_IMAGE))
assert_type(release_failed, Environment[ReleaseFailed])
assert_type(release_failed.start_releasing(), Environment[Releasing])
starting = released.start_running()
assert_type(starting, Environment[Starting])
running = starting.complete_running()
assert_type(running, Environment[Running])
run_failed = starting.fail_running(failure(RunStep.WAIT_HEALTHY))
assert_type(run_failed, Environment[RunFailed])
assert_type(run_failed.start_running(), Environment[Starting])
assert_type(run_failed.start_releasing(), Environment[Releasing])
assert_type(running.start_releasing(), Environment[Releasing])
assert_type(running.start_running(), Environment[Starting])
assert_type(running.start_destroying().complete_destroying(), Environment[Destroyed])
