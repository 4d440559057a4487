"""Secrets of an environment, kept apart from its state: `data/{env}/tracker-api-token` (0600, one line).

Never in environment.json, the history, logs, traces or `--json` output; `release` renders it into the
host's env file (0600) and `test` reads it to call the REST API.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from orchestrator.domain import EnvironmentName
from orchestrator.persistence.errors import CorruptStateError
from orchestrator.persistence.files import atomic_write, ensure_private_dir

TRACKER_API_TOKEN_FILE = "tracker-api-token"
_TOKEN_BYTES = 32


class TrackerTokenStore:
    """The REST API admin token of each environment's tracker, generated on first use."""

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = Path(data_dir)

    def path(self, name: EnvironmentName) -> Path:
        """`data_dir/{name}/tracker-api-token`."""
        return self._data_dir / name.value / TRACKER_API_TOKEN_FILE

    def read(self, name: EnvironmentName) -> str | None:
        """The stored token, None when there is none yet; a damaged file is an error naming it."""
        path = self.path(name)
        try:
            text = path.read_text(encoding="ascii")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as error:
            raise CorruptStateError(path, f"the tracker API token cannot be read ({error})") from None
        token = text.strip()
        if not token or len(text.splitlines()) != 1 or any(c.isspace() for c in token):
            raise CorruptStateError(path, "the tracker API token file must hold the token on one line")
        return token

    def get_or_create(self, name: EnvironmentName) -> str:
        """The stored token, or a new random one written atomically (0600) and returned."""
        found = self.read(name)
        if found is not None:
            return found
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        path = self.path(name)
        ensure_private_dir(path.parent)
        atomic_write(path, token.encode("ascii") + b"\n")
        return token
