"""Launch per storage pool: how long LXD takes to make an instance from the image on each pool, interleaved.

For every pool (the daemon's, or those named with `--pools`): pylxd create (a dir pool unpacks the whole
image; a btrfs pool snapshots the image volume) → start → eth0 IPv4 → stop --force + delete. The pools take
turns, in alternating order from one repetition to the next, after one untimed launch on each (a btrfs
pool unpacks the image on its first use when `lab up` has not done it). Each pool's median launch is
printed against the dir pool's, the figure the copy-on-write pool exists to shrink.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from bench.deploy import launch_instance
from bench.lxd_fixtures import (
    IMAGE_ALIAS,
    Made,
    cloud_init_user_data,
    delete_instance,
    lxd_client,
    unique,
    wait_ipv4,
)
from bench.report import Check
from bench.stats import summarize

Log = Callable[[str], None]
PARTS = ("create", "start", "ipv4", "launch", "delete")


def _one(client: Any, pool: str, user_data: str, made: Made) -> dict[str, float]:
    name = unique("bench-launch")
    made.instances.append(name)
    began = time.monotonic()
    instance = client.instances.create(
        {
            "name": name,
            "type": "container",
            "source": {"type": "image", "alias": IMAGE_ALIAS},
            "profiles": ["default"],
            "devices": {"root": {"type": "disk", "path": "/", "pool": pool}},
            "config": {"security.nesting": "true", "user.user-data": user_data},
        },
        wait=True,
    )
    created = time.monotonic()
    instance.start(wait=True)
    started = time.monotonic()
    wait_ipv4(instance)
    addressed = time.monotonic()
    delete_instance(client, name)
    deleted = time.monotonic()
    made.instances.remove(name)
    return {
        "create": created - began,
        "start": started - created,
        "ipv4": addressed - started,
        "launch": addressed - began,
        "delete": deleted - addressed,
    }


def run(reps: int, log: Log, pools: Sequence[str] | None = None) -> tuple[dict[str, Any], list[Check]]:
    client = lxd_client()
    drivers = {pool.name: str(pool.driver) for pool in client.storage_pools.all()}
    chosen = list(pools) if pools else sorted(drivers)
    unknown = [pool for pool in chosen if pool not in drivers]
    if unknown:
        raise ValueError(f"no storage pool {', '.join(unknown)} (the daemon has {', '.join(sorted(drivers))})")
    user_data = cloud_init_user_data("torrust", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBenchLaunchOnlyNoLogin bench")
    made = Made()
    samples: dict[str, list[dict[str, float]]] = {pool: [] for pool in chosen}
    try:
        for pool in chosen:  # untimed: a first use may unpack the image
            name = unique("bench-warm")
            made.instances.append(name)
            launch_instance(client, name, user_data, pool)
            delete_instance(client, name)
            made.instances.remove(name)
        for rep in range(reps):
            for pool in chosen if rep % 2 == 0 else chosen[::-1]:
                samples[pool].append(_one(client, pool, user_data, made))
            log(
                f"  launch rep {rep + 1}/{reps}: "
                + ", ".join(f"{pool} ({drivers[pool]}) {samples[pool][-1]['launch']:.2f} s" for pool in chosen)
            )
    finally:
        made.cleanup(log)
    result: dict[str, Any] = {
        "reps": reps,
        "pools": {
            pool: {
                "driver": drivers[pool],
                "samples": samples[pool],
                **{part: summarize([s[part] for s in samples[pool]]).as_dict() for part in PARTS},
            }
            for pool in chosen
        },
    }
    dir_pools = [pool for pool in chosen if drivers[pool] == "dir"]
    floor = result["pools"][dir_pools[0]]["launch"]["median"] if dir_pools else None
    checks = []
    for pool in chosen:
        entry = result["pools"][pool]
        checks.append(
            Check(
                f"launch.{pool} ({drivers[pool]})",
                entry["launch"]["median"],
                "s",
                floor=floor if drivers[pool] != "dir" else None,
                note=(
                    f"create {entry['create']['median']:.2f} + start {entry['start']['median']:.2f} + IPv4 "
                    f"{entry['ipv4']['median']:.2f} s; spread {entry['launch']['min']:.2f}-"
                    f"{entry['launch']['max']:.2f} s; delete {entry['delete']['median']:.2f} s"
                    + (f"; floor = dir pool {dir_pools[0]}" if floor is not None and drivers[pool] != "dir" else "")
                ),
            )
        )
    return result, checks
