"""SSH credentials of an environment: only the key paths are stored, never key material."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from orchestrator.domain.errors import InvalidSshCredentialsError

_POSIX_USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}")


@dataclass(frozen=True, slots=True)
class SshCredentials:
    """Key pair paths, login user and port used to reach the instance."""

    private_key_path: Path
    public_key_path: Path
    username: str = "torrust"
    port: int = 22

    def __post_init__(self) -> None:
        if not isinstance(self.username, str) or _POSIX_USER.fullmatch(self.username) is None:
            raise InvalidSshCredentialsError(
                f"invalid SSH username {self.username!r}",
                "use a POSIX user name: up to 32 lowercase letters, digits, `_` or `-`, "
                "starting with a letter or `_` (default `torrust`)",
            )
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 1 <= self.port <= 65535:
            raise InvalidSshCredentialsError(
                f"invalid SSH port {self.port!r}", "use a TCP port between 1 and 65535 (default 22)"
            )
        object.__setattr__(self, "private_key_path", Path(self.private_key_path))
        object.__setattr__(self, "public_key_path", Path(self.public_key_path))
