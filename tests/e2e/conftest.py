"""Fixtures of the end-to-end tests (real LXD lab).

``lab``: the ready lab's status. When the lab is not ready the e2e tests skip — except under
``CI=true``, where a missing lab is a failure (CI must have run ``torrust-deploy lab up``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.ci import in_ci
from tests.support.keys import SshKeypair, make_keypair

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


@pytest.fixture
def ssh_keypair(tmp_path: Path) -> SshKeypair:
    """A fresh ed25519 key pair without a passphrase."""
    return make_keypair(tmp_path / "id_ed25519", comment="torrust-deploy-e2e")
