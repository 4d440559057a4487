from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from multiprocessing.context import ForkServerContext

import pytest


@pytest.fixture(scope="session")
def mp() -> Iterator[ForkServerContext]:
    """Real child processes forked from a clean server process that has the workers preloaded."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["tests.integration.persistence.workers"])
    yield context
