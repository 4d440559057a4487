"""Settings of the whole test session, before any test module is imported.

Test modules import the Pulumi SDK (and so gRPC) at collection, before the product's own packages get the
chance to turn off gRPC's fork handlers (`orchestrator/infrastructure/pulumi/__init__.py`, `pulumi_lxd`):
set it here too, so that the e2e tests' ansible-playbook children are forked as the product forks them.
"""

import os

os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
