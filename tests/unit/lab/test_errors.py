from __future__ import annotations

import pytest

from orchestrator.lab import errors
from orchestrator.lab.errors import (
    DaemonStartError,
    DebootstrapError,
    LabError,
    NotRootError,
    PackageInstallError,
    tail,
)

ALL_ERRORS = [obj for obj in vars(errors).values() if isinstance(obj, type) and issubclass(obj, LabError)]


@pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda c: c.__name__)
def test_every_lab_error_carries_a_one_line_tip(cls: type[LabError]) -> None:
    error = cls("something failed")

    assert isinstance(error, Exception)
    assert error.tip.strip()
    assert "\n" not in error.tip
    assert str(error) == "something failed"


def test_the_four_failures_named_in_the_brief_are_lab_errors() -> None:
    for cls in (NotRootError, PackageInstallError, DaemonStartError, DebootstrapError):
        assert issubclass(cls, LabError)


def test_not_root_tip_says_to_run_as_root() -> None:
    assert "root" in NotRootError("x").tip


def test_a_specific_tip_overrides_the_default_and_detail_is_kept() -> None:
    error = DaemonStartError("lxd exited", tip="Read /x.log", detail="boom")

    assert error.tip == "Read /x.log"
    assert error.detail == "boom"


def test_tail_keeps_the_last_lines() -> None:
    assert tail("a\nb\nc\nd\n", 2) == "c\nd"
