"""Order statistics of repeated measurements (pure, no I/O)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass


def percentile(values: Sequence[float], pct: float) -> float:
    """The `pct`-th percentile (0..100) with linear interpolation between closest ranks (numpy's default)."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0.0 <= pct <= 100.0:
        raise ValueError(f"percentile must be within 0..100, not {pct}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100.0
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50.0)


@dataclass(frozen=True)
class Summary:
    """Median and spread of a series of measurements."""

    n: int
    median: float
    min: float
    max: float
    q1: float
    q3: float
    mean: float

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1

    def as_dict(self) -> dict[str, float | int]:
        return {**asdict(self), "iqr": self.iqr}


def summarize(values: Sequence[float]) -> Summary:
    if not values:
        raise ValueError("summary of no values")
    return Summary(
        n=len(values),
        median=median(values),
        min=min(values),
        max=max(values),
        q1=percentile(values, 25.0),
        q3=percentile(values, 75.0),
        mean=sum(values) / len(values),
    )


def ratio(product: float, floor: float) -> float:
    """product / floor; infinite when the floor is zero (or negative, which a time cannot be)."""
    if floor <= 0.0:
        return math.inf
    return product / floor


def growth(totals: dict[int, float]) -> dict[str, float]:
    """How a total grows with the number n of parallel jobs: total(n)/total(1) and per-job efficiency.

    efficiency(n) = n * total(1) / total(n): 1.0 means n jobs cost no more wall time than one (perfect
    overlap); 1/n means they ran one after the other.
    """
    if 1 not in totals:
        raise ValueError("growth needs the total for n = 1")
    base = totals[1]
    out: dict[str, float] = {}
    for n in sorted(totals):
        if n == 1:
            continue
        out[f"total({n})/total(1)"] = ratio(totals[n], base)
        out[f"efficiency({n})"] = ratio(n * base, totals[n])
    return out
