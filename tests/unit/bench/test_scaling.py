from __future__ import annotations

import pytest

from bench.scaling import TOTAL_4_TARGET, _median_batch, cpu_bound_s, total_4_target


def test_four_at_once_is_held_to_the_baselines_ratio_measured_in_the_same_run() -> None:
    old = {1: {"total_s": 20.0}, 4: {"total_s": 50.0}}
    target, note = total_4_target(old, "9f8f675")
    assert target == pytest.approx(2.5)
    assert "9f8f675" in note


def test_without_a_baseline_four_at_once_is_held_to_the_issues_table_ratio() -> None:
    target, note = total_4_target({}, None)
    assert target == TOTAL_4_TARGET
    assert "no baseline" in note


def test_a_repeated_single_deploy_counts_with_its_median_run_and_keeps_every_total() -> None:
    runs = [{"total_s": 13.5, "name": "a"}, {"total_s": 12.4, "name": "b"}, {"total_s": 12.9, "name": "c"}]
    median = _median_batch(runs)
    assert median["name"] == "c"
    assert median["reps_total_s"] == [13.5, 12.4, 12.9]


def test_n_deploys_at_once_take_at_least_their_cpu_seconds_spread_over_the_cores() -> None:
    assert cpu_bound_s(30.0, 4, 2) == pytest.approx(60.0)
    assert cpu_bound_s(30.0, 1, 2) == pytest.approx(15.0)
