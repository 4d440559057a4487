"""The `Deployer` chain of the README type-checks: create → provision → configure → destroy."""

from pathlib import Path
from typing import assert_type

from orchestrator.api import Deployer
from orchestrator.config import load_config
from orchestrator.domain import Configured, Created, Destroyed, Environment, Provisioned

deployer = Deployer(working_dir=Path("work"))
env = deployer.create(load_config(Path("env.json")))
assert_type(env, Environment[Created])
provisioned = deployer.provision(env)
assert_type(provisioned, Environment[Provisioned])
configured = deployer.configure(deployer.provision(env))
assert_type(configured, Environment[Configured])
assert_type(deployer.deploy("my-env"), Environment[Configured])
assert_type(deployer.destroy(configured), Environment[Destroyed])
deployer.configure("my-env")  # by name: checked at run time (WrongStateError)
