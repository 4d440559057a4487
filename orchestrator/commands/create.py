"""create: a new environment in state Created, saved under its lock. Never overwrites one that exists."""

from __future__ import annotations

from orchestrator.domain import (
    Created,
    DeployError,
    Environment,
    EnvironmentName,
    ExitCode,
    LxdTarget,
    SshCredentials,
    TrackerSettings,
)
from orchestrator.persistence import EnvironmentRepository


class EnvironmentAlreadyExistsError(DeployError):
    exit_code = ExitCode.USAGE

    def __init__(self, name: EnvironmentName) -> None:
        super().__init__(
            f"environment '{name}' already exists",
            f"Pick another name, or remove it first: `torrust-deploy destroy {name}` then "
            f"`torrust-deploy purge {name}`.",
        )


class CreateCommand:
    def __init__(self, repository: EnvironmentRepository) -> None:
        self._repository = repository

    def execute(
        self,
        name: EnvironmentName,
        ssh: SshCredentials,
        lxd: LxdTarget | None = None,
        instance_name: str | None = None,
        tracker: TrackerSettings | None = None,
    ) -> Environment[Created]:
        environment = Environment.new(name, ssh, lxd=lxd, instance_name=instance_name, tracker=tracker)
        with self._repository.lock(name):
            if self._repository.exists(name):
                raise EnvironmentAlreadyExistsError(name)
            self._repository.save(environment)
        return environment
