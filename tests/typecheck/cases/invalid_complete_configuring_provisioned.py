"""Completing a configuration that never started is rejected."""

from pathlib import Path

from orchestrator.domain import Environment, EnvironmentName, SshCredentials

provisioned = (
    Environment.new(EnvironmentName("e2e"), SshCredentials(Path("id"), Path("id.pub")))
    .start_provisioning()
    .complete_provisioning("10.0.0.2")
)
provisioned.complete_configuring()  # E: "Environment[Provisioned]" to attribute function "complete_configuring"
configuring = provisioned.start_configuring()
configuring.complete_destroying()  # E: "Environment[Configuring]" to attribute function "complete_destroying"
