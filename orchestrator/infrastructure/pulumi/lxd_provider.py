"""Former home of the LXD dynamic provider, now only the names other modules still import from here.

The dynamic provider (`pulumi.dynamic` resources pickled into every stack) is gone: LXD resources come from
the `pulumi-lxd` provider plugin (`pulumi_lxd`, ADR 0012). Stacks it created are migrated to the plugin
the next time the tool opens them (`migration.py`), without unpickling anything, so no class has to stay
here for old stacks. What remains are re-exports for code outside this package (bench, some e2e tests)
that imports the connection helpers by this path; new code imports `lxd_connection`.
"""

from orchestrator.infrastructure.pulumi.lxd_connection import (
    CONNECTION_KEYS,
    DEFAULT_READY_TIMEOUT_S,
    LxdConnection,
    connect,
    eth0_ipv4,
    wait_for_ipv4,
)

__all__ = ["CONNECTION_KEYS", "DEFAULT_READY_TIMEOUT_S", "LxdConnection", "connect", "eth0_ipv4", "wait_for_ipv4"]
