"""Pulumi adapters: the toolchain (CLI found or built), the LXD dynamic providers, the stack runner.

Every import of the Pulumi SDK in the product goes through this package, so this runs first: gRPC
(loaded with the SDK) registers fork handlers that restart its event engine in a forked child. This
process forks only to exec other programs (ansible-runner's pexpect spawns ansible-playbook), and such a
handler racing with gRPC's own threads can kill the child before it execs — seen as a playbook run that
ends "failed" with no exit code and `epoll_wait error: Bad file descriptor` in its output. Turn them off
unless the user set the variable.
"""

import os

os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
