from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.report import Check, meets, results_document, timestamp, write_json


def test_meets_compares_and_never_passes_nan() -> None:
    assert meets(1.25, "<=", 1.25)
    assert not meets(1.26, "<=", 1.25)
    assert meets(0.0, "==", 0)
    assert meets(3.0, ">=", 2.0)
    assert not meets(math.nan, "<=", 10.0)


def test_ratio_target_passes_when_the_ratio_is_within_it() -> None:
    check = Check("deploy.total", 24.5, "s", floor=20.0, target=1.25)
    assert check.ratio == pytest.approx(1.225)
    assert check.passed is True
    assert check.line() == "deploy.total: 24.5 s (ratio 1.23 vs floor 20 s, target ≤ 1.25: PASS)"


def test_ratio_target_fails_above_it() -> None:
    check = Check("cli.help", 190.0, "ms", floor=15.0, target=3.0)
    assert check.passed is False
    assert check.line() == "cli.help: 190 ms (ratio 12.67 vs floor 15 ms, target ≤ 3: FAIL)"


def test_value_target_applies_to_the_value_and_still_prints_the_ratio() -> None:
    check = Check("persistence.save_p99", 4.2, "ms", floor=1.4, target=5.0, target_on="value")
    assert check.passed is True
    assert check.line() == "persistence.save_p99: 4.20 ms (ratio 3.00 vs floor 1.40 ms, target ≤ 5 ms: PASS)"


def test_exact_target_without_floor() -> None:
    check = Check("persistence.lost_updates", 0.0, target=0, comparison="==", target_on="value")
    assert check.passed is True
    assert check.line() == "persistence.lost_updates: 0 (target = 0: PASS)"
    assert Check("x", 2.0, target=0, comparison="==", target_on="value").passed is False


def test_throughput_ratio_is_floor_over_value() -> None:
    check = Check("persistence.rmw_throughput", 500.0, "ops/s", floor=3000.0, higher_is_better=True)
    assert check.ratio == pytest.approx(6.0)
    assert check.passed is None
    assert check.line() == "persistence.rmw_throughput: 500 ops/s (ratio 6.00 vs floor 3000 ops/s)"


def test_informational_check_has_no_verdict() -> None:
    check = Check("deploy.other", 0.15, "s", note="outside steps")
    assert check.passed is None
    assert check.line() == "deploy.other: 0.15 s (outside steps)"


def test_ratio_target_without_floor_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="no floor"):
        _ = Check("broken", 1.0, target=1.0).passed


def test_results_document_counts_verdicts() -> None:
    checks = [
        Check("a", 1.0, floor=1.0, target=1.25),
        Check("b", 2.0, floor=1.0, target=1.25),
        Check("c", 3.0),
    ]
    document = results_document({"reps": 1}, {"deploy": {}}, checks)
    assert document["summary"] == {"targets": 2, "passed": 1, "failed": 1}
    assert [check["passed"] for check in document["checks"]] == [True, False, None]


def test_write_json_writes_valid_json_with_non_finite_numbers_as_strings(tmp_path: Path) -> None:
    checks = [Check("zero-floor", 1.0, floor=0.0)]
    document = results_document({"started": datetime(2026, 1, 2, tzinfo=UTC)}, {"x": {"inf": math.inf}}, checks)
    path = write_json(document, tmp_path / "results" / "run.json")
    loaded = json.loads(path.read_text(encoding="utf-8"))
    assert loaded["checks"][0]["ratio"] == "inf"
    assert loaded["results"]["x"]["inf"] == "inf"
    assert loaded["meta"]["started"].startswith("2026-01-02")
    assert [p.name for p in path.parent.iterdir()] == ["run.json"]  # no temp file left


def test_timestamp_is_file_name_safe() -> None:
    assert timestamp(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "20260102T030405Z"


def test_excess_target_applies_to_value_minus_floor() -> None:
    check = Check("deploy.cloud_init", 1.3, "s", floor=0.9, target=0.5, target_on="excess")
    assert check.excess == pytest.approx(0.4)
    assert check.passed is True
    assert (
        check.line() == "deploy.cloud_init: 1.30 s (ratio 1.44 vs floor 0.90 s, excess +0.40 s, target ≤ +0.50 s: PASS)"
    )
    assert Check("x", 1.5, "s", floor=0.9, target=0.5, target_on="excess").passed is False
    assert check.as_dict()["excess"] == pytest.approx(0.4)


def test_an_excess_without_a_target_is_printed_as_information() -> None:
    check = Check("deploy.docker", 9.0, "s", floor=8.5, target_on="excess")
    assert check.passed is None
    assert "excess +0.50 s" in check.line()
