"""Configuring an environment that was never provisioned is rejected."""

from pathlib import Path

from orchestrator.domain import Configured, Environment, EnvironmentName, Provisioned, SshCredentials


def configure(env: Environment[Provisioned]) -> Environment[Configured]:
    return env.start_configuring().complete_configuring()


env = Environment.new(EnvironmentName("e2e"), SshCredentials(Path("id"), Path("id.pub")))
env.start_configuring()  # E: "Environment[Created]" to attribute function "start_configuring"
configure(env)  # E: Argument 1 to "configure" has incompatible type "Environment[Created]"
