from __future__ import annotations

import time

import pytest

from bench.cpu import CpuSampler, busy_seconds, interpolate, parse_busy_ticks

STAT = """cpu  100 5 40 900 30 2 3 1 50 0
cpu0 50 2 20 450 15 1 1 0 25 0
intr 12345
"""


def test_busy_ticks_count_user_nice_system_irq_softirq_and_steal_but_not_idle_or_iowait() -> None:
    assert parse_busy_ticks(STAT) == 100 + 5 + 40 + 2 + 3 + 1


def test_a_stat_without_the_aggregate_cpu_line_is_refused() -> None:
    with pytest.raises(ValueError, match="no aggregate"):
        parse_busy_ticks("cpu0 1 2 3 4\n")


def test_busy_seconds_between_samples_are_interpolated_and_clamped_at_the_ends() -> None:
    samples = [(10.0, 100.0), (12.0, 104.0), (14.0, 104.0)]
    assert interpolate(samples, 11.0) == pytest.approx(102.0)
    assert interpolate(samples, 13.0) == pytest.approx(104.0)
    assert interpolate(samples, 5.0) == 100.0
    assert interpolate(samples, 20.0) == 104.0


def test_the_sampler_prices_an_interval_of_busy_work_at_least_at_its_own_cpu_time() -> None:
    with CpuSampler(interval_s=0.01) as cpu:
        start, own = time.monotonic(), time.process_time()
        while time.process_time() - own < 0.2:
            pass
        end = time.monotonic()
    assert len(cpu.samples) >= 3
    assert busy_seconds() >= cpu.samples[-1][1]
    assert cpu.busy_between(start, end) >= 0.15
