"""What the `sshd` fixture of the integration tests (tests/integration/conftest.py) hands to a test: a real
sshd on loopback, reachable as `user` with `key` (and refusing `other_key`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from orchestrator.domain import EnvironmentContext, EnvironmentName, LxdTarget, SshCredentials


@dataclass(frozen=True)
class Sshd:
    port: int
    user: str
    key: Path
    other_key: Path
    start: Callable[[], None]  # starts the daemon (tests may wait for SSH before starting it)

    def context(self, name: str) -> EnvironmentContext:
        """An environment `name` whose instance is this sshd (127.0.0.1, its port, user and key)."""
        return EnvironmentContext(
            name=EnvironmentName(name),
            instance_name=f"torrust-{name}",
            ssh=SshCredentials(self.key, self.key.with_suffix(".pub"), username=self.user, port=self.port),
            lxd=LxdTarget(),
            instance_ip="127.0.0.1",
            created_at=datetime.now(UTC),
        )
