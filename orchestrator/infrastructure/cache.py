"""Where the infrastructure adapters keep what outlives a run (the Pulumi CLI build, SSH sockets)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """`$XDG_CACHE_HOME/torrust-deploy`, by default `~/.cache/torrust-deploy`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "torrust-deploy"
