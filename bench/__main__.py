"""`python -m bench [--reps N] [--out bench/results] [--only persistence,cli,launch,deploy,scaling] [--pool P]
[--baseline-rev REV|none]`

Runs the benchmarks, prints each figure against the floor measured in the same run and its target,
writes `OUT/<timestamp>.json` and `OUT/<timestamp>.png`. Exit code 0 when every target passed, 1 when
one failed, 2 when a benchmark could not run.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.report import Check, results_document, timestamp, write_json

SECTIONS = ("persistence", "cli", "launch", "deploy", "scaling")
"""Also the order they run in: the quick ones first."""
LAB_SECTIONS = ("launch", "deploy", "scaling")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from bench.baseline import FILING_REV
    from bench.persistence import SAVES

    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[1])
    parser.add_argument("--reps", type=int, default=3, help="deploy repetitions (raw and product each; default 3)")
    parser.add_argument("--out", type=Path, default=Path("bench/results"), help="where results go (bench/results)")
    parser.add_argument(
        "--only",
        type=_sections,
        default=SECTIONS,
        help=f"comma-separated subset of {','.join(SECTIONS)} (default: all)",
    )
    parser.add_argument("--cli-rounds", type=int, default=15, help="runs of each CLI command (default 15)")
    parser.add_argument(
        "--saves",
        type=int,
        default=SAVES,
        help=f"saves timed for save latency (default {SAVES})",
    )
    parser.add_argument("--ops", type=int, default=10, help="operations per writer process (default 10)")
    parser.add_argument("--no-profile", action="store_true", help="skip the extra profiled product deploy")
    parser.add_argument(
        "--pool",
        default=None,
        help="storage pool of the deploy and scaling instances, raw and product (default: the lab's, "
        "i.e. the default profile's)",
    )
    parser.add_argument(
        "--launch-pools",
        type=lambda text: [part.strip() for part in text.split(",") if part.strip()],
        default=None,
        help="comma-separated pools the launch section compares (default: every pool of the daemon)",
    )
    parser.add_argument(
        "--baseline-rev",
        default=FILING_REV,
        type=lambda text: None if text == "none" else text,
        help=f"revision whose code the scaling section also times, 1 and 4 at once (default {FILING_REV}, main "
        "when issue 15 was filed; 'none': skip)",
    )
    parser.add_argument("--keep-temp", action="store_true", help="keep the temp working dirs (for inspection)")
    args = parser.parse_args(argv)
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    return args


def _sections(text: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [part for part in chosen if part not in SECTIONS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown section(s) {', '.join(unknown) or '(none)'}; use {','.join(SECTIONS)}"
        )
    return chosen


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _git(*args: str) -> str | None:
    try:
        result = subprocess.run(["git", *args], capture_output=True, text=True, check=False, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def _lab_problem() -> str | None:
    """Why the LXD sections cannot run, or None when the lab is ready."""
    try:
        from orchestrator.lab.local_lab import Lab

        status = Lab().status()
    except Exception as error:
        return str(error)
    if not status.ready:
        return "; ".join(status.problems)
    return None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    stamp = timestamp(started)
    base_dir = Path(tempfile.mkdtemp(prefix=f"bench-{stamp}-"))
    sections: dict[str, Any] = {}
    checks: list[Check] = []
    failures: dict[str, str] = {}
    durations: dict[str, float] = {}
    meta: dict[str, Any] = {
        "started": started.isoformat(),
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "interpreter": sys.executable,
        "commit": _git("rev-parse", "--short", "HEAD"),
        "modified_files": (_git("status", "--porcelain", "--untracked-files=no") or "").splitlines(),
        "reps": args.reps,
        "sections": list(args.only),
        "pool": args.pool,
        "loadavg_at_start": list(os.getloadavg()),
    }
    try:
        from bench.lxd_fixtures import make_keypair

        keypair = make_keypair(base_dir)
        lab_problem = _lab_problem() if any(section in LAB_SECTIONS for section in args.only) else None
        pool = args.pool
        if pool is None and lab_problem is None and any(section in LAB_SECTIONS for section in args.only):
            from bench.lxd_fixtures import lab_pool

            pool = meta["pool"] = lab_pool()
        runners: dict[str, Callable[[], tuple[dict[str, Any], list[Check]]]] = {}
        if "persistence" in args.only:
            from bench import persistence

            runners["persistence"] = lambda: persistence.run(base_dir / "persistence", _log, args.saves, 30, args.ops)
        if "cli" in args.only:
            from bench import cli_latency

            runners["cli"] = lambda: cli_latency.run(args.cli_rounds, keypair, base_dir, _log)
        if "launch" in args.only:
            from bench import launch

            runners["launch"] = lambda: launch.run(max(3, args.reps), _log, args.launch_pools)
        if "deploy" in args.only:
            from bench import deploy

            runners["deploy"] = lambda: deploy.run(
                args.reps, keypair, base_dir, _log, str(pool), profile=not args.no_profile
            )
        if "scaling" in args.only:
            from bench import scaling

            runners["scaling"] = lambda: scaling.run(keypair, base_dir, _log, str(pool), baseline_rev=args.baseline_rev)
        for name in SECTIONS:
            if name not in runners:
                continue
            if name in LAB_SECTIONS and lab_problem is not None:
                failures[name] = f"the LXD lab is not ready: {lab_problem} (run `torrust-deploy lab up`)"
                _log(f"== {name}: skipped — {failures[name]}")
                continue
            _log(f"== {name}")
            began = time.monotonic()
            try:
                (base_dir / name).mkdir(exist_ok=True)
                result, section_checks = runners[name]()
            except Exception as error:
                failures[name] = f"{type(error).__name__}: {error}"
                _log(f"== {name}: FAILED to run — {failures[name]}")
                traceback.print_exc()
                continue
            finally:
                durations[name] = time.monotonic() - began
            sections[name] = result
            checks.extend(section_checks)
            for check in section_checks:
                print(check.line(), flush=True)
    finally:
        if args.keep_temp:
            _log(f"temp working dirs kept in {base_dir}")
        else:
            shutil.rmtree(base_dir, ignore_errors=True)

    meta["finished"] = datetime.now(UTC).isoformat()
    meta["loadavg_at_end"] = list(os.getloadavg())
    meta["section_seconds"] = durations
    meta["failures"] = failures
    document = results_document(meta, sections, checks)
    json_path = write_json(document, args.out / f"{stamp}.json")
    chart_path: Path | None = None
    try:
        from bench.chart import write_chart

        chart_path = write_chart(sections, args.out / f"{stamp}.png")
    except Exception as error:
        _log(f"chart not written: {type(error).__name__}: {error}")
    summary = document["summary"]
    print(
        f"\n{summary['passed']}/{summary['targets']} targets passed"
        + (f"; {len(failures)} section(s) could not run: {', '.join(failures)}" if failures else "")
    )
    print(f"results: {json_path}" + (f"\nchart:   {chart_path}" if chart_path else ""))
    if failures:
        return 2
    return 0 if summary["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
