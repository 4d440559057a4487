"""Where the files shipped beside the code live: `stacks/` and `playbooks/`.

In a checkout (or an editable install) they are the top-level folders; in a wheel they are
force-included under `orchestrator/_shipped/`.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def shipped_dir(name: str) -> Path:
    """The folder `name` ("stacks" or "playbooks") of this installation."""
    for candidate in (_PACKAGE_DIR / "_shipped" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"torrust-deploy is installed without its {name}/ folder")
