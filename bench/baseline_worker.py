"""N deploys to Running at once with another checkout's code: run by that checkout's own Python.

`python baseline_worker.py ROOT WORKING_DIR COUNT PRIVATE_KEY POOL PREFIX` imports `orchestrator` from
ROOT (and nothing from this repository, whose code may be newer), creates COUNT environments with a
tracker, starts their `Deployer.deploy` together at a barrier (one spawned process each, as the scaling
section does), then, once every deploy has ended, destroys and purges them, and prints one JSON line:
total_s (barrier to the last deploy's end) and per_environment_s. Only the `Deployer` calls every version
since the tracker landed has are used: create(parse_config(...)), deploy, destroy, purge.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import sys
import time
from pathlib import Path
from typing import Any


def _worker(
    root: str, working_dir: str, name: str, private_key: str, pool: str, barrier: Any, deployed: Any, results: Any
) -> None:
    sys.path.insert(0, root)
    from orchestrator.api import Deployer
    from orchestrator.config import parse_config

    report: dict[str, Any] = {"name": name}
    document = {
        "name": name,
        "ssh": {"private_key_path": private_key, "public_key_path": private_key + ".pub", "username": "torrust"},
        "lxd": {"storage_pool": pool},
        "tracker": {},
    }
    try:
        Deployer(working_dir=Path(working_dir)).create(parse_config(document, Path(working_dir)))
        deployer = Deployer(working_dir=Path(working_dir))
    except Exception as error:
        report["error"] = f"setup: {type(error).__name__}: {error}"
        barrier.abort()
        results.put(report)
        return
    try:
        barrier.wait(600)
        began = time.monotonic()
        deployer.deploy(name)
        report.update(start=began, end=time.monotonic())
    except Exception as error:
        report["error"] = f"{type(error).__name__}: {error}"
        deployed.abort()
    with contextlib.suppress(Exception):  # every deploy has ended (or one failed): a destroy competes with none
        deployed.wait(1800)
    try:
        deployer.destroy(name)
        deployer.purge(name)
    except Exception as error:
        report.setdefault("error", f"cleanup: {type(error).__name__}: {error}")
    results.put(report)


def main(argv: list[str]) -> int:
    root, working_dir, count_text, private_key, pool, prefix = argv
    count = int(count_text)
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(count + 1)
    deployed = ctx.Barrier(count)
    results = ctx.Queue()
    names = [f"{prefix}-{index}" for index in range(count)]
    processes = [
        ctx.Process(target=_worker, args=(root, working_dir, name, private_key, pool, barrier, deployed, results))
        for name in names
    ]
    for process in processes:
        process.start()
    with contextlib.suppress(Exception):  # a worker's setup failed: its report says why
        barrier.wait(600)
    reports = [results.get(timeout=1800) for _ in processes]
    for process in processes:
        process.join(120)
    errors = [f"{r['name']}: {r['error']}" for r in reports if "error" in r]
    if errors:
        print(json.dumps({"error": "; ".join(errors)}))
        return 1
    total = max(r["end"] for r in reports) - min(r["start"] for r in reports)
    print(json.dumps({"total_s": total, "per_environment_s": sorted(r["end"] - r["start"] for r in reports)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
