"""One SSH connection per host, shared by the SSH wait and ansible (OpenSSH connection multiplexing).

The SSH wait's successful attempt leaves a master connection (ControlPersist) at a control path that
ansible is told to use too, so ansible's first task does not pay for a new TCP handshake, key exchange
and authentication (~0.2 s; `python -m bench`, section deploy). `%C` is OpenSSH's hash of the local host,
remote host, port and user, so each host and user gets its own master.
"""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path

from orchestrator.infrastructure.cache import cache_root

PERSIST = "60s"
"""How long an idle master stays (ansible's own default)."""
MAX_SOCKET_PATH = 100
"""Unix socket paths are limited to 108 bytes; `%C` expands to 40 characters."""


def control_dir() -> Path:
    return cache_root() / "ssh"


def control_path() -> str | None:
    """The control path template, or None when multiplexing is off (a path too long for a socket, or a
    folder that cannot be made private)."""
    folder = control_dir()
    path = f"{folder}/%C"
    if len(str(folder)) + 1 + 40 > MAX_SOCKET_PATH:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        folder.chmod(0o700)
    except OSError:
        return None
    return path


def master_options(path: str | None) -> list[str]:
    """`ssh` options that use the master at `path`, or start one there that outlives the command."""
    if path is None:
        return []
    return ["-o", "ControlMaster=auto", "-o", f"ControlPersist={PERSIST}", "-o", f"ControlPath={path}"]


def close_master(host: str, port: int, username: str) -> None:
    """Stop the master connection to a host that is going away (best effort: there may be none)."""
    path = control_path()
    if path is None:
        return
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        subprocess.run(
            ["ssh", "-o", f"ControlPath={path}", "-p", str(port), "-O", "exit", f"{username}@{host}"],
            capture_output=True,
            timeout=5,
            check=False,
            stdin=subprocess.DEVNULL,
        )
