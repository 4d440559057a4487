"""`Deployer.configure` of an environment that was only created is a type error."""

from pathlib import Path

from orchestrator.api import Deployer
from orchestrator.config import load_config

deployer = Deployer(working_dir=Path("work"))
created_env = deployer.create(load_config(Path("env.json")))
deployer.configure(created_env)  # E: "configure" of "Deployer" has incompatible type "Environment[Created]"
