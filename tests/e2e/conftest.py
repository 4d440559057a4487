"""Fixtures of the end-to-end tests (real LXD lab).

``lab``: the ready lab's status. When the lab is not ready the e2e tests skip — except under
``CI=true``, where a missing lab is a failure (CI must have run ``torrust-deploy lab up``).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.ci import in_ci

if TYPE_CHECKING:
    from orchestrator.lab.local_lab import LabStatus


def _lab_not_ready(reason: str) -> None:
    message = f"the LXD lab is not ready: {reason}. Bring it up with `torrust-deploy lab up`."
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def lab() -> LabStatus:
    """The status of the ready lab (settings, bridge subnet, image alias, daemon PIDs)."""
    from orchestrator.lab.errors import LabError
    from orchestrator.lab.local_lab import Lab

    if os.geteuid() != 0:
        _lab_not_ready("the e2e tests need root to talk to the LXD daemon")
    try:
        status = Lab().status()
    except LabError as error:
        _lab_not_ready(str(error))
        raise  # unreachable: skip/fail raise
    if not status.ready:
        _lab_not_ready("; ".join(status.problems))
    return status


@dataclass(frozen=True)
class SshKeypair:
    private_key: Path
    #: The public key line (``ssh-ed25519 AAAA… comment``).
    public_key: str

    @property
    def public_key_path(self) -> Path:
        return self.private_key.with_name(self.private_key.name + ".pub")


@pytest.fixture
def ssh_keypair(tmp_path: Path) -> SshKeypair:
    """A fresh ed25519 key pair without a passphrase."""
    private_key = tmp_path / "id_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "torrust-deploy-e2e", "-f", str(private_key)],
        check=True,
        capture_output=True,
    )
    public_key = private_key.with_name(private_key.name + ".pub").read_text(encoding="utf-8").strip()
    return SshKeypair(private_key=private_key, public_key=public_key)
