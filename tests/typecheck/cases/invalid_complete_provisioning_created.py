"""Completing a provisioning that never started is rejected."""

from pathlib import Path

from orchestrator.domain import Environment, EnvironmentName, SshCredentials

env = Environment.new(EnvironmentName("e2e"), SshCredentials(Path("id"), Path("id.pub")))
env.complete_provisioning("10.0.0.2")  # E: "Environment[Created]" to attribute function "complete_provisioning"
provisioning = env.start_provisioning()
provisioning.start_provisioning()  # E: "Environment[Provisioning]" to attribute function "start_provisioning"
provisioning.complete_provisioning("10.0.0.2").complete_provisioning("10.0.0.2")  # E: Invalid self argument
