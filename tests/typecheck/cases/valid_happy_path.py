"""Every transition of the agreed diagram type-checks and yields the expected static type."""

from pathlib import Path
from typing import assert_type

from orchestrator.domain import (
    Configured,
    ConfigureFailed,
    ConfigureStep,
    Configuring,
    Created,
    Destroyed,
    DestroyFailed,
    Destroying,
    DestroyStep,
    Environment,
    EnvironmentName,
    FailureContext,
    Provisioned,
    ProvisionFailed,
    Provisioning,
    ProvisionStep,
    SshCredentials,
)


def failure(step: ProvisionStep | ConfigureStep | DestroyStep) -> FailureContext:
    raise NotImplementedError


env = Environment.new(EnvironmentName("e2e"), SshCredentials(Path("id"), Path("id.pub")))
assert_type(env, Environment[Created])
provisioning = env.start_provisioning()
assert_type(provisioning, Environment[Provisioning])
provisioned = provisioning.complete_provisioning("10.0.0.2")
assert_type(provisioned, Environment[Provisioned])
assert_type(provisioning.fail_provisioning(failure(ProvisionStep.WAIT_SSH)), Environment[ProvisionFailed])
configuring = provisioned.start_configuring()
assert_type(configuring, Environment[Configuring])
assert_type(configuring.complete_configuring(), Environment[Configured])
assert_type(configuring.fail_configuring(failure(ConfigureStep.INSTALL_DOCKER)), Environment[ConfigureFailed])
destroying = configuring.complete_configuring().start_destroying()
assert_type(destroying, Environment[Destroying])
assert_type(destroying.complete_destroying(), Environment[Destroyed])
assert_type(destroying.fail_destroying(failure(DestroyStep.PULUMI_DESTROY)), Environment[DestroyFailed])
assert_type(env.state, Created)
assert_type(provisioned.instance_ip, str | None)
