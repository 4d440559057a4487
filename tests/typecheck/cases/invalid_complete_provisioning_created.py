"""Completing a provisioning that never started is rejected."""

from pathlib import Path

from orchestrator.domain import Environment, EnvironmentName, SshCredentials

env = Environment.new(EnvironmentName("e2e"), SshCredentials(Path("id"), Path("id.pub")))
env.complete_provisioning(
    "10.0.0.2"
)  # E: Invalid self argument "Environment[Created]" to attribute function "complete_provisioning"
env.start_provisioning().start_provisioning()  # E: Invalid self argument "Environment[Provisioning]" to attribute function "start_provisioning"
