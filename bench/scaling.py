"""Scaling: deploy 1, 2 and 4 environments at once to Running (a tracker each), one process per
environment (each its own `Deployer`) over one shared working dir (the repository locks per environment, so
they do not serialize), on the lab's storage pool.

Each worker creates its environment and imports the adapters, then all start `deploy` together at a
barrier. total(n) = wall time from the barrier until the last deploy returned; per-environment = each
deploy's own time. The destroys that follow run in parallel too and are timed the same way.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.synchronize
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.lxd_fixtures import Keypair, Made, environment_config, unique
from bench.report import Check
from bench.stats import growth, summarize

Log = Callable[[str], None]
COUNTS = (1, 2, 4)
TOTAL_4_TARGET = 2.16
"""total(4) / total(1) may not be worse than when issue 15 was filed (103 s / 47.8 s, to Configured)."""


def _deploy_worker(
    working_dir: str,
    base_dir: str,
    name: str,
    private_key: str,
    pool: str,
    barrier: multiprocessing.synchronize.Barrier,
    results: Any,
) -> None:
    """Create, wait at the barrier, deploy (timed), destroy (timed), purge; report one dict."""
    from bench.deploy import warm_imports
    from bench.timing import TimingObserver
    from orchestrator.api import Deployer

    report: dict[str, Any] = {"name": name}
    try:
        config = environment_config(name, Keypair(Path(private_key)), Path(base_dir), pool=pool)
        Deployer(working_dir=working_dir).create(config)
        warm_imports()
    except Exception as error:
        report["error"] = f"setup: {type(error).__name__}: {error}"
        barrier.abort()
        results.put(report)
        return
    try:
        barrier.wait(600)
    except threading.BrokenBarrierError:
        report["error"] = "another worker failed before the start"
        results.put(report)
        return
    try:
        observer = TimingObserver()
        report["start"] = observer.origin
        deployer = Deployer(working_dir=working_dir, observer=observer)
        deployer.deploy(name)
        report["end"] = time.monotonic()
        report["deploy_s"] = report["end"] - report["start"]
        report["steps"] = {f"{s.command}.{s.step}": s.seconds for s in observer.steps}
        began = time.monotonic()
        deployer.destroy(name)
        report["destroy_start"] = began
        report["destroy_end"] = time.monotonic()
        report["destroy_s"] = report["destroy_end"] - began
        deployer.purge(name)
    except Exception as error:
        report["error"] = f"{type(error).__name__}: {error}"
    results.put(report)


def _batch(count: int, keypair: Keypair, base_dir: Path, pool: str, made: Made, log: Log) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")  # the adapters start threads (gRPC): never fork them
    working_dir = base_dir / f"scaling-{count}"
    names = [unique("bench-s") for _ in range(count)]
    for name in names:
        made.environment(working_dir, name)
    barrier = ctx.Barrier(count + 1)
    results = ctx.Queue()
    processes = [
        ctx.Process(
            target=_deploy_worker,
            args=(str(working_dir), str(base_dir), name, str(keypair.private_key), pool, barrier, results),
        )
        for name in names
    ]
    try:
        for process in processes:
            process.start()
        with contextlib.suppress(threading.BrokenBarrierError):  # a worker's error is in its report
            barrier.wait(600)
        reports = [results.get(timeout=1800) for _ in processes]
        for process in processes:
            process.join(120)
    finally:
        for process in processes:  # only the workers started here, by their own handle
            if process.is_alive():
                process.kill()
                process.join(10)
    errors = [f"{report['name']}: {report['error']}" for report in reports if "error" in report]
    if errors:
        raise RuntimeError(f"scaling batch of {count} failed: {'; '.join(errors)}")
    start = min(report["start"] for report in reports)
    total = max(report["end"] for report in reports) - start
    destroy_total = max(r["destroy_end"] for r in reports) - min(r["destroy_start"] for r in reports)
    per_env = [report["deploy_s"] for report in reports]
    log(f"  scaling n={count}: total {total:.1f} s, per environment {', '.join(f'{s:.1f}' for s in per_env)} s")
    for name in names:  # the workers destroyed and purged them
        made.environments.remove((working_dir, name))
    return {
        "count": count,
        "total_s": total,
        "per_environment_s": summarize(per_env).as_dict(),
        "destroy_total_s": destroy_total,
        "reports": reports,
    }


def run(
    keypair: Keypair, base_dir: Path, log: Log, pool: str, counts: tuple[int, ...] = COUNTS
) -> tuple[dict[str, Any], list[Check]]:
    made = Made()
    batches: dict[int, dict[str, Any]] = {}
    try:
        for count in counts:
            batches[count] = _batch(count, keypair, base_dir, pool, made, log)
    finally:
        made.cleanup(log)
    totals = {count: batch["total_s"] for count, batch in batches.items()}
    result: dict[str, Any] = {
        "batches": {str(count): batch for count, batch in batches.items()},
        "growth": growth(totals),
    }
    checks: list[Check] = []
    base = totals[1]
    for count in counts:
        batch = batches[count]
        per_env = batch["per_environment_s"]
        checks.append(
            Check(
                f"scaling.total({count})",
                batch["total_s"],
                "s",
                floor=base if count > 1 else None,
                target=TOTAL_4_TARGET if count == 4 else None,
                note=(
                    f"floor = total(1); per environment median {per_env['median']:.1f} s "
                    f"({per_env['min']:.1f}-{per_env['max']:.1f}); "
                    f"{count / batch['total_s'] * 60:.1f} deploys/min; destroy {batch['destroy_total_s']:.1f} s"
                ),
            )
        )
    return result, checks
