"""tests/support/ci.py: CI is recognised for any true-ish `CI`, and under it a test that cannot run fails."""

from __future__ import annotations

import pytest

from tests.support.ci import in_ci, skip_unless_ci_fails


@pytest.mark.parametrize("value", ["1", "true", "True", "TRUE", "yes", "Yes", "y", "on", " true\n"])
def test_a_true_ish_ci_value_is_ci(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", value)
    assert in_ci()


@pytest.mark.parametrize("value", [None, "", "0", "false", "False", "no", "off"])
def test_no_or_a_false_ish_ci_value_is_not_ci(value: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    assert not in_ci()


def test_under_ci_a_test_that_cannot_run_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "yes")
    with pytest.raises(pytest.fail.Exception, match="needs a thing"):
        skip_unless_ci_fails("needs a thing")


def test_outside_ci_a_test_that_cannot_run_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="needs a thing"):
        skip_unless_ci_fails("needs a thing")
