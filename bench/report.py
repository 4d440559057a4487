"""Checks against targets, the printed lines, and the JSON results file (pure apart from writing the file)."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from bench.stats import ratio

Comparison = Literal["<=", ">=", "=="]
TargetOn = Literal["ratio", "value", "excess"]
_SYMBOL = {"<=": "≤", ">=": "≥", "==": "="}


def meets(value: float, comparison: Comparison, target: float) -> bool:
    """Whether `value` satisfies `comparison target` (NaN never does)."""
    if math.isnan(value):
        return False
    if comparison == "<=":
        return value <= target
    if comparison == ">=":
        return value >= target
    return value == target


def _number(value: float) -> str:
    if math.isinf(value):
        return "inf"
    if value == int(value) and (abs(value) >= 1 or value == 0):
        return f"{int(value)}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _with_unit(value: float, unit: str) -> str:
    text = _number(value)
    return f"{text} {unit}" if unit else text


@dataclass(frozen=True)
class Check:
    """One printed figure: a value, optionally a floor measured in the same run and a target.

    `target_on` says whether the target applies to the ratio value/floor, to the value itself, or to the
    excess value − floor (in the value's unit). `higher_is_better` flips the ratio (floor/value), for
    throughputs.
    """

    name: str
    value: float
    unit: str = ""
    floor: float | None = None
    target: float | None = None
    comparison: Comparison = "<="
    target_on: TargetOn = "ratio"
    higher_is_better: bool = False
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.floor is None:
            return None
        if self.higher_is_better:
            return ratio(self.floor, self.value)
        return ratio(self.value, self.floor)

    @property
    def excess(self) -> float | None:
        return None if self.floor is None else self.value - self.floor

    @property
    def passed(self) -> bool | None:
        """None when there is no target (an informational figure)."""
        if self.target is None:
            return None
        subject = {"ratio": self.ratio, "value": self.value, "excess": self.excess}[self.target_on]
        if subject is None:
            raise ValueError(f"check {self.name} has a {self.target_on} target but no floor")
        return meets(subject, self.comparison, self.target)

    def line(self) -> str:
        """`NAME: value (ratio X.XX vs floor F, target ≤ T: PASS)`."""
        parts: list[str] = []
        if self.floor is not None and self.ratio is not None:
            parts.append(f"ratio {self.ratio:.2f} vs floor {_with_unit(self.floor, self.unit)}")
            if self.target_on == "excess" and self.excess is not None:
                parts.append(f"excess {self.excess:+.2f} {self.unit}".rstrip())
        if self.target is not None:
            target_text = {
                "ratio": _number(self.target),
                "value": _with_unit(self.target, self.unit),
                "excess": f"+{_with_unit(self.target, self.unit)}",
            }[self.target_on]
            verdict = "PASS" if self.passed else "FAIL"
            parts.append(f"target {_SYMBOL[self.comparison]} {target_text}: {verdict}")
        if self.note:
            parts.append(self.note)
        suffix = f" ({', '.join(parts)})" if parts else ""
        return f"{self.name}: {_with_unit(self.value, self.unit)}{suffix}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": _finite(self.value),
            "unit": self.unit,
            "floor": None if self.floor is None else _finite(self.floor),
            "ratio": None if self.ratio is None else _finite(self.ratio),
            "excess": None if self.excess is None else _finite(self.excess),
            "target": self.target,
            "comparison": self.comparison,
            "target_on": self.target_on,
            "passed": self.passed,
            "note": self.note,
        }


def _finite(value: float) -> float | str:
    """JSON has no inf/NaN: write them as strings."""
    return value if math.isfinite(value) else str(value)


def timestamp(now: datetime) -> str:
    """A file-name-safe UTC-ish stamp: 20260102T030405Z (the caller passes an aware UTC datetime)."""
    return now.strftime("%Y%m%dT%H%M%SZ")


def results_document(meta: dict[str, Any], sections: dict[str, Any], checks: list[Check]) -> dict[str, Any]:
    verdicts = [check.passed for check in checks if check.passed is not None]
    return {
        "meta": meta,
        "summary": {
            "targets": len(verdicts),
            "passed": sum(1 for verdict in verdicts if verdict),
            "failed": sum(1 for verdict in verdicts if not verdict),
        },
        "checks": [check.as_dict() for check in checks],
        "results": sections,
    }


def _json_default(value: object) -> object:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _sanitize(value: Any) -> Any:
    """Replace non-finite floats (anywhere in the document) with strings; JSON cannot hold them."""
    if isinstance(value, float):
        return _finite(value)
    if isinstance(value, dict):
        return {str(key): _sanitize(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_sanitize(item) for item in value]
    return value


def write_json(document: dict[str, Any], path: Path) -> Path:
    """Write `document` as indented JSON to `path` (temp file + rename, so a reader never sees half)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_sanitize(document), indent=2, sort_keys=False, default=_json_default, allow_nan=False)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_text(text + "\n", encoding="utf-8")
    os.replace(temp, path)
    return path
