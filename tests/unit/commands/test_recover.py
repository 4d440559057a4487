from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.commands.base import INTERRUPTED, SafeSaver
from orchestrator.commands.recover import record_interruption
from orchestrator.domain import (
    AnyEnvironment,
    ConfigureFailed,
    DestroyFailed,
    Environment,
    EnvironmentName,
    ProvisionFailed,
)
from orchestrator.persistence import JsonFileRepository
from tests.support.fakes import credentials


def _provisioning(tmp_path: Path) -> AnyEnvironment:
    return Environment.new(EnvironmentName("demo"), credentials(tmp_path)).start_provisioning()


def _configuring(tmp_path: Path) -> AnyEnvironment:
    provisioned = Environment.new(EnvironmentName("demo"), credentials(tmp_path)).start_provisioning()
    return provisioned.complete_provisioning("10.200.77.10").start_configuring()


def _destroying(tmp_path: Path) -> AnyEnvironment:
    return Environment.new(EnvironmentName("demo"), credentials(tmp_path)).start_destroying()


@pytest.mark.parametrize(
    ("build", "failed_state"),
    [(_provisioning, ProvisionFailed), (_configuring, ConfigureFailed), (_destroying, DestroyFailed)],
)
def test_an_interrupted_run_is_recorded_as_the_matching_failed_state_at_an_unknown_step(
    tmp_path: Path, build: object, failed_state: type
) -> None:
    repo = JsonFileRepository(tmp_path / "data")
    env = build(tmp_path)  # type: ignore[operator]
    repo.save(env)

    recovered = record_interruption(env, SafeSaver(repo))

    assert isinstance(recovered.state, failed_state)
    failure = recovered.state.failure  # type: ignore[union-attr]
    assert failure.step is None and failure.error_kind == INTERRUPTED
    stored = repo.load(EnvironmentName("demo"))
    assert stored is not None and isinstance(stored.state, failed_state)


def test_an_environment_that_is_not_in_progress_is_left_alone(tmp_path: Path) -> None:
    repo = JsonFileRepository(tmp_path / "data")
    created = Environment.new(EnvironmentName("demo"), credentials(tmp_path))
    assert record_interruption(created, SafeSaver(repo)) is created
