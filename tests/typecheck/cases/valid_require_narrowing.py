"""A loaded environment (a union) is narrowed with require() and then transitions type-check."""

from typing import assert_type

from orchestrator.domain import AnyEnvironment, Configured, Created, Environment, Provisioned


def load() -> AnyEnvironment:
    raise NotImplementedError


def provision(env: Environment[Created]) -> Environment[Provisioned]:
    return env.start_provisioning().complete_provisioning("10.0.0.3")


def configure(env: Environment[Provisioned]) -> Environment[Configured]:
    return env.start_configuring().complete_configuring()


loaded = load()
provisioned = loaded.require(Provisioned)
assert_type(provisioned, Environment[Provisioned])
assert_type(configure(provisioned), Environment[Configured])
assert_type(configure(provision(load().require(Created))), Environment[Configured])
assert_type(loaded.start_destroying().complete_destroying().require(Created), Environment[Created])
result: AnyEnvironment = configure(provisioned)
