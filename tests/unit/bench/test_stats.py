from __future__ import annotations

import math

import pytest

from bench.stats import growth, median, percentile, ratio, summarize


def test_percentile_interpolates_between_closest_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 50) == pytest.approx(2.5)
    assert percentile(values, 25) == pytest.approx(1.75)


def test_percentile_of_one_value_is_that_value() -> None:
    assert percentile([7.0], 99) == 7.0


def test_percentile_rejects_no_values_and_out_of_range() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match=r"0\.\.100"):
        percentile([1.0], 101)


def test_p99_of_a_hundred_values_sits_near_the_top() -> None:
    values = [float(i) for i in range(1, 101)]
    assert percentile(values, 99) == pytest.approx(99.01)


def test_median_of_odd_count_is_the_middle_value() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0


def test_summary_gives_median_spread_and_iqr() -> None:
    summary = summarize([1.0, 2.0, 3.0, 4.0, 100.0])
    assert summary.n == 5
    assert summary.median == 3.0
    assert (summary.min, summary.max) == (1.0, 100.0)
    assert summary.q1 == 2.0
    assert summary.q3 == 4.0
    assert summary.iqr == 2.0
    assert summary.mean == pytest.approx(22.0)
    assert summary.as_dict()["iqr"] == 2.0


def test_summary_of_no_values_is_an_error() -> None:
    with pytest.raises(ValueError):
        summarize([])


def test_ratio_is_product_over_floor_and_infinite_for_a_zero_floor() -> None:
    assert ratio(3.0, 2.0) == 1.5
    assert math.isinf(ratio(1.0, 0.0))


def test_growth_reports_total_ratio_and_efficiency() -> None:
    out = growth({1: 10.0, 2: 12.0, 4: 20.0})
    assert out["total(2)/total(1)"] == pytest.approx(1.2)
    assert out["total(4)/total(1)"] == pytest.approx(2.0)
    assert out["efficiency(4)"] == pytest.approx(2.0)  # 4 x 10 s of work in 20 s
    assert "total(1)/total(1)" not in out


def test_growth_needs_the_single_job_total() -> None:
    with pytest.raises(ValueError):
        growth({2: 1.0})
