"""`Deployer.run` of an environment that was never released is rejected."""

from orchestrator.api import Deployer
from orchestrator.domain import Configured, Environment


def configured() -> Environment[Configured]:
    raise NotImplementedError


Deployer().run(configured())  # E: Argument 1 to "run" of "Deployer" has incompatible type "Environment[Configured]"
