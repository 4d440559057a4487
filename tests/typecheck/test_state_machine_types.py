"""Type-check tests: mypy --strict must accept valid_*.py and reject invalid_*.py on the marked lines.

A line of an invalid case that mypy must reject ends with `# E: <fragment of the expected message>`.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).resolve().parent / "cases"
MARKER = re.compile(r"#\s*E:\s*(?P<fragment>.+?)\s*$")
MYPY_LINE = re.compile(r"^(?P<path>[^:]+\.py):(?P<line>\d+): (?P<severity>error|note): (?P<message>.*)$")

VALID = sorted(CASES.glob("valid_*.py"))
INVALID = sorted(CASES.glob("invalid_*.py"))


def expected_errors(case: Path) -> dict[int, str]:
    """Line number -> expected message fragment, from the `# E:` markers."""
    return {
        number: match["fragment"]
        for number, line in enumerate(case.read_text().splitlines(), start=1)
        if (match := MARKER.search(line))
    }


@cache
def mypy_errors() -> dict[str, dict[int, list[str]]]:
    """Run mypy --strict once over every case; file name -> line -> error messages."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-pretty",
            "--no-color-output",
            "--no-error-summary",
            "--hide-error-context",
            *(str(case.relative_to(ROOT)) for case in [*VALID, *INVALID]),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    # the invalid cases hold errors, so mypy exits 1 (errors found); 0 would mean it rejected none, 2 a crash
    assert result.returncode == 1, f"mypy exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    errors: dict[str, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for line in result.stdout.splitlines():
        match = MYPY_LINE.match(line)
        if match and match["severity"] == "error":
            errors[Path(match["path"]).name][int(match["line"])].append(match["message"])
    return errors


def test_there_are_valid_and_invalid_cases_and_only_invalid_ones_carry_markers() -> None:
    assert len(VALID) >= 2
    assert len(INVALID) >= 4
    assert all(expected_errors(case) for case in INVALID)
    assert not any(expected_errors(case) for case in VALID)


@pytest.mark.parametrize("case", VALID, ids=lambda case: case.stem)
def test_valid_program_type_checks(case: Path) -> None:
    assert dict(mypy_errors().get(case.name, {})) == {}


@pytest.mark.parametrize("case", INVALID, ids=lambda case: case.stem)
def test_invalid_program_is_rejected_on_the_marked_lines_with_the_expected_message(case: Path) -> None:
    expected = expected_errors(case)
    actual = mypy_errors().get(case.name, {})

    assert sorted(actual) == sorted(expected), f"errors on lines {sorted(actual)}: {dict(actual)}"
    for number, fragment in expected.items():
        assert any(fragment in message for message in actual[number]), (
            f"{case.name}:{number}: expected {fragment!r} in {actual[number]}"
        )
