"""The `Deployer` chain of the README type-checks: create → provision → configure → release → run → destroy."""

from pathlib import Path
from typing import assert_type

from orchestrator.api import Deployer
from orchestrator.config import load_config
from orchestrator.domain import Configured, Created, Destroyed, Environment, Provisioned, Released, Running

deployer = Deployer(working_dir=Path("work"))
env = deployer.create(load_config(Path("env.json")))
assert_type(env, Environment[Created])
provisioned = deployer.provision(env)
assert_type(provisioned, Environment[Provisioned])
configured = deployer.configure(deployer.provision(env))
assert_type(configured, Environment[Configured])
assert_type(deployer.deploy("my-env"), Environment[Configured] | Environment[Running])
released = deployer.release(configured)
assert_type(released, Environment[Released])
assert_type(deployer.run(released), Environment[Running])
assert_type(deployer.release(deployer.run(released)), Environment[Released])  # a re-release of a running one
assert_type(deployer.destroy(configured), Environment[Destroyed])
deployer.configure("my-env")  # by name: checked at run time (WrongStateError)
