"""Fixtures of the provider's e2e tests: names that are unique per test, and LXD objects of those names
removed at the end whatever the test left."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.commands.test_lifecycle_over_https import https_remote

__all__ = ["https_remote", "lxd_client", "names"]  # https_remote: the lab's daemon on loopback HTTPS


@pytest.fixture
def lxd_client(lab: Any) -> Any:
    import pylxd

    return pylxd.Client()


@pytest.fixture
def names(lxd_client: Any) -> Iterator[list[str]]:
    """Call `names.append(name)` for every instance or profile the test may create (prefix `plx-`)."""
    made: list[str] = []
    yield made
    for name in made:
        if lxd_client.instances.exists(name):
            instance = lxd_client.instances.get(name)
            if instance.status == "Running":
                instance.stop(force=True, wait=True)
            instance.delete(wait=True)
    for name in made:
        if lxd_client.profiles.exists(name):
            lxd_client.profiles.get(name).delete()
