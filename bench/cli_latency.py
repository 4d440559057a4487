"""CLI latency: `torrust-deploy --help`, `list`, `show ENV` against `python -c pass` (same interpreter).

ENV is a created (not provisioned) environment in a temp working dir. The commands run interleaved,
round after round, so noise hits all alike; the median of each is compared with the floor's median.
One more run under `-X importtime` names the imports that cost the most.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.lxd_fixtures import Keypair, environment_config, unique
from bench.report import Check
from bench.stats import summarize

TARGET = 3.0
Log = Callable[[str], None]


def console_script() -> Path:
    """The `torrust-deploy` entry point installed beside this interpreter."""
    script = Path(sys.executable).parent / "torrust-deploy"
    if not script.exists():
        raise FileNotFoundError(f"{script} does not exist: install the package into this interpreter's environment")
    return script


def _run(argv: list[str]) -> float:
    began = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, check=False, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - began
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {result.returncode}: {result.stderr.decode()[-400:]}")
    return elapsed


def parse_importtime(stderr: str, top: int = 12) -> list[dict[str, Any]]:
    """The `top` imports with the largest cumulative time from `python -X importtime` output (ms)."""
    rows: list[tuple[float, float, str]] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3:
            continue
        try:
            self_us, cumulative_us = int(parts[0]), int(parts[1])
        except ValueError:
            continue
        rows.append((cumulative_us / 1000, self_us / 1000, parts[2].rstrip()))
    by_name: dict[str, tuple[float, float, int]] = {}
    for cumulative, own, raw_name in rows:
        name = raw_name.strip()
        depth = max(0, (len(raw_name) - len(raw_name.lstrip()) - 1) // 2)
        by_name[name] = (cumulative, own, depth)
    ordered = sorted(by_name.items(), key=lambda item: item[1][0], reverse=True)
    return [
        {"module": name, "cumulative_ms": round(cum, 2), "self_ms": round(own, 2), "depth": depth}
        for name, (cum, own, depth) in ordered[:top]
    ]


def import_profile(argv_tail: list[str]) -> dict[str, Any]:
    """What `torrust-deploy ARGS` imports, with -X importtime, and its total import time (the installed
    console script itself runs, so the profile follows whatever entry point it names)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", str(console_script()), *argv_tail],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    top = parse_importtime(result.stderr, top=400)
    top_level = [row for row in top if row["depth"] <= 1]
    return {
        "top_cumulative": top[:15],
        "top_level_imports": top_level[:15],
        "modules_imported": sum(1 for line in result.stderr.splitlines() if line.startswith("import time:")),
        "total_import_ms": round(sum(row["cumulative_ms"] for row in top if row["depth"] == 0), 1),
    }


def run(rounds: int, keypair: Keypair, base_dir: Path, log: Log) -> tuple[dict[str, Any], list[Check]]:
    from orchestrator.api import Deployer

    script = str(console_script())
    working_dir = base_dir / "cli-latency"
    name = unique("bench-cli")
    Deployer(working_dir=working_dir).create(environment_config(name, keypair, base_dir))
    commands: dict[str, list[str]] = {
        "floor (python -c pass)": [sys.executable, "-c", "pass"],
        "--help": [script, "--help"],
        "list": [script, "-C", str(working_dir), "list"],
        "show": [script, "-C", str(working_dir), "show", name],
    }
    for argv in commands.values():  # warm the page cache and .pyc files
        _run(argv)
    times: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(rounds):
        for label, argv in commands.items():
            times[label].append(_run(argv))
    summaries = {label: summarize(values) for label, values in times.items()}
    floor = summaries["floor (python -c pass)"]
    result: dict[str, Any] = {
        "rounds": rounds,
        "interpreter": sys.executable,
        "environment": name,
        "seconds": times,
        "summary": {label: summary.as_dict() for label, summary in summaries.items()},
    }
    checks: list[Check] = []
    for label in ("--help", "list", "show"):
        summary = summaries[label]
        checks.append(
            Check(
                f"cli.{label.lstrip('-')}",
                summary.median * 1000,
                "ms",
                floor=floor.median * 1000,
                target=TARGET,
                note=f"spread {summary.min * 1000:.0f}-{summary.max * 1000:.0f} ms, n={summary.n}",
            )
        )
    log("  profiling CLI imports (-X importtime)…")
    result["imports"] = {
        "--help": import_profile(["--help"]),
        "show": import_profile(["-C", str(working_dir), "show", name]),
    }
    return result, checks
