"""What the `sshd` fixture of the integration tests (tests/integration/infrastructure/conftest.py) hands
to a test: a real sshd on loopback, reachable as `user` with `key` (and refusing `other_key`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Sshd:
    port: int
    user: str
    key: Path
    other_key: Path
    start: Callable[[], None]  # starts the daemon (tests may wait for SSH before starting it)
