"""Whether the tests run under CI, and the one rule that follows from it: a test that cannot run here
skips on a developer's machine but fails under CI (CI must provide what the suite needs)."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

TRUE_VALUES = frozenset({"1", "true", "yes", "y", "on"})


def in_ci() -> bool:
    """`CI` is set to a true-ish value (`1`, `true`, `yes`, `on`, any case; blanks around it ignored)."""
    return os.environ.get("CI", "").strip().lower() in TRUE_VALUES


def skip_unless_ci_fails(reason: str) -> NoReturn:
    """Skip the current test with `reason`, or fail it with `reason` under CI."""
    if in_ci():
        pytest.fail(f"{reason} (required under CI)", pytrace=False)
    pytest.skip(reason)
