"""The inputs of one environment's Pulumi program (plain data, built from the environment)."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.infrastructure.pulumi.lxd_connection import DEFAULT_READY_TIMEOUT_S, LxdConnection


@dataclass(frozen=True)
class StackSpec:
    environment: str
    instance_name: str
    profile_name: str
    image_alias: str
    instance_type: str
    network: str
    storage_pool: str
    ssh_username: str
    ssh_public_key: str
    connection: LxdConnection
    ready_timeout_s: float = DEFAULT_READY_TIMEOUT_S
