"""Scaling: deploy 1, 2 and 4 environments at once to Running (a tracker each), one process per
environment (each its own `Deployer`) over one shared working dir (the repository locks per environment, so
they do not serialize), on the lab's storage pool.

Each worker creates its environment and imports the adapters, then all start `deploy` together at a
barrier. total(n) = wall time from the barrier until the last deploy returned; per-environment = each
deploy's own time. The destroys that follow run in parallel too and are timed the same way.

The floor: the deploy section's raw deploy (launch to a healthy tracker, each step one plain SSH command),
1 and 4 at once (a thread each), on the same pool. raw total(4) / raw total(1) is what the same work
allows on this machine when nothing but the work runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
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
RAW_COUNTS = (1, 4)
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


def _raw_batch(count: int, floor: Any, keypair: Keypair, made: Made, log: Log) -> dict[str, Any]:
    """`count` raw deploys at once, a thread each (its own LXD client), started together; then deleted."""
    from bench.deploy import raw_deploy
    from bench.lxd_fixtures import delete_instance, lxd_client

    barrier = threading.Barrier(count)
    outcomes: list[tuple[float, float, str] | BaseException] = []

    def deploy() -> None:
        mine = dataclasses.replace(floor, client=lxd_client())
        try:
            barrier.wait(120)
            began = time.monotonic()
            deployed = raw_deploy(mine, keypair, made)
            outcomes.append((began, time.monotonic(), deployed.name))
        except BaseException as error:
            barrier.abort()
            outcomes.append(error)

    threads = [threading.Thread(target=deploy, name=f"raw-deploy-{index}") for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(1800)
    failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    if failures or len(outcomes) != count:
        raise RuntimeError(f"raw scaling batch of {count} failed: {failures[:1] or 'a deploy did not end'}")
    done = [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]
    for _, _, name in done:
        delete_instance(floor.client, name)
        made.instances.remove(name)
    total = max(end for _, end, _ in done) - min(began for began, _, _ in done)
    per_env = [end - began for began, end, _ in done]
    log(f"  raw n={count}: total {total:.1f} s, per instance {', '.join(f'{s:.1f}' for s in per_env)} s")
    return {"count": count, "total_s": total, "per_instance_s": summarize(per_env).as_dict()}


def run(
    keypair: Keypair, base_dir: Path, log: Log, pool: str, counts: tuple[int, ...] = COUNTS
) -> tuple[dict[str, Any], list[Check]]:
    from bench.deploy import raw_floor

    made = Made()
    batches: dict[int, dict[str, Any]] = {}
    raw: dict[int, dict[str, Any]] = {}
    try:
        floor = raw_floor(keypair, base_dir / "scaling-raw", pool)
        for count in RAW_COUNTS:
            raw[count] = _raw_batch(count, floor, keypair, made, log)
        for count in counts:
            batches[count] = _batch(count, keypair, base_dir, pool, made, log)
    finally:
        made.cleanup(log)
    totals = {count: batch["total_s"] for count, batch in batches.items()}
    result: dict[str, Any] = {
        "batches": {str(count): batch for count, batch in batches.items()},
        "growth": growth(totals),
        "raw_batches": {str(count): batch for count, batch in raw.items()},
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
    raw_4, raw_1 = raw[4]["total_s"], raw[1]["total_s"]
    checks.append(
        Check(
            "scaling.raw_total(4)",
            raw_4,
            "s",
            floor=raw_1,
            note=f"the raw floor 4 at once vs 1 (product {totals[4] / totals[1]:.2f}); product total(4) is "
            f"{totals[4] / raw_4:.2f}x raw total(4)",
        )
    )
    return result, checks
