"""Deploy to Running vs the raw floor: the same image, storage pool, cloud-init user-data, Docker packages,
tracker image and compose file, raw and product runs interleaved so machine and mirror noise hit both alike:
raw first in odd repetitions, product first in even ones, after one untimed launch + delete from the image
(the first instance created after the machine was idle unpacks in a fraction of the usual time, which
favoured whichever kind ran first).

raw         pylxd create+start from the image alias on the pool (default profile + security.nesting, the
            product's cloud-config) → eth0 IPv4 → `ssh true` → `cloud-init status --wait` → apt-get update +
            install docker.io docker-cli, enable docker, add the user to the docker group, `docker info` →
            install docker-compose, `docker compose version` → scp of the tracker's image archive and release
            files (the product's renderer, in one connection), then one command installs them where the
            product does and `docker import`s the image → `docker compose up -d` → the tracker's health check
            polled from the controller. Each step one plain SSH command; polls at 0.1 s.
product     `Deployer.deploy` of a created environment with a tracker on the same pool (fresh `Deployer`, so
            it finds the Pulumi CLI itself like a CLI run) to Running; phases from its ProgressObserver steps.
re-release  on the running tracker, a changed config (announce interval): raw = scp of the three files,
            install, `docker compose up -d`, health check; product = `Deployer.release(tracker=changed)` then
            `Deployer.run`.
destroy     raw: stop --force + delete; product: `Deployer.destroy`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.lxd_fixtures import (
    IMAGE_ALIAS,
    SSH_USER,
    Keypair,
    Made,
    RawRelease,
    RemoteCommandError,
    cloud_init_user_data,
    compose_up_command,
    delete_instance,
    environment_config,
    lxd_client,
    pool_driver,
    raw_release,
    scp_files,
    ssh_run,
    unique,
    wait_health,
    wait_ipv4,
    wait_ssh,
)
from bench.report import Check
from bench.stats import ratio, summarize
from bench.timing import TimingObserver

PHASES = ("launch", "ssh", "cloud_init", "docker", "compose", "release", "run", "other")
"""launch = instance created and started until eth0 has an IPv4 (product: prepare stack + pulumi up + read
outputs + render inventory); release = tracker image and files on the host (product: render + upload + load);
run = `docker compose up -d` until the health check answers Ok; other = the rest of the wall time (product:
CLI lookup, locks, saves)."""

PRODUCT_PHASE = {
    ("provision", "prepare_stack"): "launch",
    ("provision", "pulumi_up"): "launch",
    ("provision", "read_outputs"): "launch",
    ("provision", "render_inventory"): "launch",
    ("provision", "wait_ssh"): "ssh",
    ("provision", "wait_cloud_init"): "cloud_init",
    ("configure", "install_docker"): "docker",
    ("configure", "install_docker_compose"): "compose",
    ("release", "render_release"): "release",
    ("release", "upload_release"): "release",
    ("release", "load_image"): "release",
    ("run", "start_tracker"): "run",
    ("run", "wait_healthy"): "run",
}
DEPLOY_COMMANDS = ("provision", "configure", "release", "run")
TOTAL_TARGET = 1.15
DESTROY_TARGET = 1.25
EXCESS_TARGETS_S = {"cloud_init": 0.5, "compose": 0.5}
"""Phases whose product median may exceed the raw median by at most this many seconds."""
CHANGED_ANNOUNCE_INTERVAL_S = 300
"""The re-release's change (the default is 120 s): tracker.toml and the compose file's label change."""

DOCKER_COMMAND = (
    "set -e; "
    "sudo DEBIAN_FRONTEND=noninteractive apt-get update -q; "
    "sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io docker-cli; "
    "sudo systemctl enable --now docker; "
    f"sudo usermod -aG docker {SSH_USER}; "
    "sudo docker info --format '{{.ServerVersion}}'"
)
COMPOSE_COMMAND = (
    "set -e; "
    "sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker-compose; "
    "sudo docker compose version --short"
)

Log = Callable[[str], None]


@dataclass
class Run:
    kind: str  # "raw" | "product"
    rep: int
    phases: dict[str, float]
    total: float
    destroy: float
    rerelease: dict[str, float] = field(default_factory=dict)  # release, run, total
    destroy_steps: dict[str, float] = field(default_factory=dict)
    steps: dict[str, float] = field(default_factory=dict)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rep": self.rep,
            "total": self.total,
            "phases": self.phases,
            "steps": self.steps,
            "rerelease": self.rerelease,
            "destroy": self.destroy,
            "destroy_steps": self.destroy_steps,
            "timeline": self.timeline,
            "notes": self.notes,
        }


@dataclass(frozen=True)
class RawFloor:
    """What the raw runs share: the LXD client, the pool, the cloud-config and the rendered releases."""

    client: Any
    pool: str
    user_data: str
    release: RawRelease
    changed: RawRelease


@dataclass(frozen=True)
class RawDeploy:
    """One raw deploy to a healthy tracker: the instance, its address and the phases' times."""

    name: str
    ip: str
    phases: dict[str, float]
    total: float
    notes: dict[str, Any]


def raw_deploy(floor: RawFloor, keypair: Keypair, made: Made) -> RawDeploy:
    """Launch → IPv4 → ssh → cloud-init → Docker → Compose → release → compose up → healthy, by hand."""
    name = unique("bench-raw")
    made.instances.append(name)
    marks = [time.monotonic()]
    instance = launch_instance(floor.client, name, floor.user_data, floor.pool)
    ip = wait_ipv4(instance)
    marks.append(time.monotonic())
    ssh_attempts = wait_ssh(ip, keypair)
    marks.append(time.monotonic())
    status = ssh_run(ip, keypair, "cloud-init status --wait; true")
    if "status: done" not in status:
        raise RemoteCommandError(f"cloud-init on {name} did not finish: {status.strip()}")
    marks.append(time.monotonic())
    ssh_run(ip, keypair, DOCKER_COMMAND)
    marks.append(time.monotonic())
    ssh_run(ip, keypair, COMPOSE_COMMAND)
    marks.append(time.monotonic())
    scp_files(ip, keypair, [floor.release.archive, *floor.release.files])
    ssh_run(ip, keypair, floor.release.load_command())
    marks.append(time.monotonic())
    ssh_run(ip, keypair, compose_up_command())
    health_attempts = wait_health(ip, floor.release.health_check_port)
    marks.append(time.monotonic())
    phases = {phase: marks[i + 1] - marks[i] for i, phase in enumerate(PHASES[:-1])}
    total = marks[-1] - marks[0]
    phases["other"] = total - sum(phases.values())
    return RawDeploy(name, ip, phases, total, {"ssh_attempts": ssh_attempts, "health_attempts": health_attempts})


def run_raw(rep: int, floor: RawFloor, keypair: Keypair, made: Made) -> Run:
    deployed = raw_deploy(floor, keypair, made)
    name, ip = deployed.name, deployed.ip

    began = time.monotonic()
    scp_files(ip, keypair, list(floor.changed.files))
    ssh_run(ip, keypair, floor.changed.files_command())
    released = time.monotonic()
    ssh_run(ip, keypair, compose_up_command())
    wait_health(ip, floor.changed.health_check_port)
    ended = time.monotonic()
    rerelease = {"release": released - began, "run": ended - released, "total": ended - began}

    began = time.monotonic()
    delete_instance(floor.client, name)
    destroy = time.monotonic() - began
    made.instances.remove(name)
    return Run("raw", rep, deployed.phases, deployed.total, destroy, rerelease=rerelease, notes=deployed.notes)


def launch_instance(client: Any, name: str, user_data: str, pool: str) -> Any:
    """Create and start a container from the image on `pool`, as the product's stack does (its profile has
    the root disk on the pool and security.nesting)."""
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
    instance.start(wait=True)
    return instance


def warm_up_launch(client: Any, user_data: str, pool: str, made: Made) -> float:
    """Create, start and delete one instance like the raw run does (not part of any figure)."""
    name = unique("bench-warm")
    made.instances.append(name)
    began = time.monotonic()
    instance = launch_instance(client, name, user_data, pool)
    wait_ipv4(instance)
    delete_instance(client, name)
    made.instances.remove(name)
    return time.monotonic() - began


def product_phases(
    observer: TimingObserver, total: float, commands: tuple[str, ...] = DEPLOY_COMMANDS
) -> dict[str, float]:
    phases = dict.fromkeys(PHASES, 0.0)
    for step in observer.steps:
        if step.command in commands:
            phases[PRODUCT_PHASE.get((step.command, step.step), "other")] += step.seconds
    phases["other"] = total - sum(value for key, value in phases.items() if key != "other")
    return phases


def run_product(rep: int, keypair: Keypair, base_dir: Path, pool: str, made: Made) -> Run:
    from orchestrator.api import Deployer
    from orchestrator.domain.tracker import TrackerSettings

    name = unique("bench-p")
    working_dir = base_dir / name
    made.environment(working_dir, name)
    Deployer(working_dir=working_dir).create(environment_config(name, keypair, base_dir, pool=pool))
    observer = TimingObserver()
    began = time.monotonic()
    deployer = Deployer(working_dir=working_dir, observer=observer)
    deployer.deploy(name)
    total = time.monotonic() - began
    deploy_steps = {f"{s.command}.{s.step}": s.seconds for s in observer.steps if s.command in DEPLOY_COMMANDS}

    changed = TrackerSettings(announce_interval_s=CHANGED_ANNOUNCE_INTERVAL_S)
    rerelease_observer = TimingObserver()
    rereleaser = Deployer(working_dir=working_dir, observer=rerelease_observer)
    began = time.monotonic()
    rereleaser.release(name, changed)
    released = time.monotonic()
    rereleaser.run(name)
    ended = time.monotonic()
    rerelease = {"release": released - began, "run": ended - released, "total": ended - began}
    rerelease_steps = {f"{s.command}.{s.step}": s.seconds for s in rerelease_observer.steps}

    destroy_observer = TimingObserver()
    began = time.monotonic()
    Deployer(working_dir=working_dir, observer=destroy_observer).destroy(name)
    destroy = time.monotonic() - began
    deployer.purge(name)
    made.environments.remove((working_dir, name))
    made.instances.remove(f"torrust-{name}")
    made.profiles.remove(f"torrust-{name}")
    return Run(
        "product",
        rep,
        product_phases(observer, total),
        total,
        destroy,
        rerelease=rerelease,
        destroy_steps=destroy_observer.seconds("destroy"),
        steps=deploy_steps,
        timeline=observer.timeline(),
        notes={"rerelease_steps": rerelease_steps},
    )


def warm_imports() -> float:
    """Import the adapters once, so the first product run does not pay for imports the others skip."""
    began = time.monotonic()
    import ansible_runner  # noqa: F401
    from pulumi import automation  # noqa: F401

    import orchestrator.infrastructure.ansible.playbooks
    import orchestrator.infrastructure.pulumi.stacks
    import orchestrator.infrastructure.ssh.wait
    import orchestrator.infrastructure.tracker.adapters  # noqa: F401

    return time.monotonic() - began


def _values(group: list[Run], key: str) -> list[float]:
    if key == "total":
        return [run.total for run in group]
    if key == "destroy":
        return [run.destroy for run in group]
    if key == "until_ssh":  # the split between launch and ssh depends on how fast each polls
        return [run.phases["launch"] + run.phases["ssh"] for run in group]
    if key.startswith("rerelease."):
        return [run.rerelease[key.removeprefix("rerelease.")] for run in group]
    return [run.phases[key] for run in group]


SUMMARY_KEYS = (*PHASES, "until_ssh", "total", "rerelease.release", "rerelease.run", "rerelease.total", "destroy")


def summarize_runs(runs: list[Run]) -> dict[str, Any]:
    raw = [run for run in runs if run.kind == "raw"]
    product = [run for run in runs if run.kind == "product"]
    phases: dict[str, Any] = {}
    for key in SUMMARY_KEYS:
        if key.startswith("rerelease.") and not all(run.rerelease for run in runs):
            continue
        raw_values, product_values = _values(raw, key), _values(product, key)
        raw_summary, product_summary = summarize(raw_values), summarize(product_values)
        phases[key] = {
            "raw": raw_summary.as_dict(),
            "product": product_summary.as_dict(),
            "ratio_of_medians": ratio(product_summary.median, raw_summary.median),
            "excess_median_s": product_summary.median - raw_summary.median,
            "paired_ratios": [ratio(p, r) for r, p in zip(raw_values, product_values, strict=False)],
        }
    step_names = sorted({name for run in product for name in run.steps})
    steps = {
        name: summarize([run.steps[name] for run in product if name in run.steps]).as_dict() for name in step_names
    }
    destroy_names = sorted({name for run in product for name in run.destroy_steps})
    destroy_steps = {
        name: summarize([run.destroy_steps[name] for run in product if name in run.destroy_steps]).as_dict()
        for name in destroy_names
    }
    return {"phases": phases, "product_steps": steps, "product_destroy_steps": destroy_steps}


def _spread(entry: dict[str, Any], digits: int = 2) -> str:
    product, raw = entry["product"], entry["raw"]
    return (
        f"product {product['min']:.{digits}f}-{product['max']:.{digits}f} s, "
        f"raw {raw['min']:.{digits}f}-{raw['max']:.{digits}f} s, n={product['n']}"
    )


def checks(summary: dict[str, Any]) -> list[Check]:
    phases = summary["phases"]
    out: list[Check] = []
    for phase in PHASES:
        if phase == "other":
            continue
        entry = phases[phase]
        limit = EXCESS_TARGETS_S.get(phase)
        out.append(
            Check(
                f"deploy.{phase}",
                entry["product"]["median"],
                "s",
                floor=entry["raw"]["median"],
                target=limit,
                target_on="excess",
                note=_spread(entry),
            )
        )
    until_ssh = phases["until_ssh"]
    out.append(
        Check(
            "deploy.launch+ssh",
            until_ssh["product"]["median"],
            "s",
            floor=until_ssh["raw"]["median"],
            note="instance up and accepting the key, whatever the split",
        )
    )
    other = phases["other"]
    out.append(Check("deploy.other (outside steps)", other["product"]["median"], "s"))
    total = phases["total"]
    paired = ", ".join(f"{value:.2f}" for value in total["paired_ratios"])
    out.append(
        Check(
            "deploy.total (to Running)",
            total["product"]["median"],
            "s",
            floor=total["raw"]["median"],
            target=TOTAL_TARGET,
            note=f"{_spread(total, 1)}; per repetition {paired}",
        )
    )
    if "rerelease.total" in phases:
        for key, label in (("rerelease.release", "release"), ("rerelease.run", "run"), ("rerelease.total", "total")):
            entry = phases[key]
            out.append(
                Check(
                    f"rerelease.{label}",
                    entry["product"]["median"],
                    "s",
                    floor=entry["raw"]["median"],
                    note=(
                        "raw = scp of the 3 files + install"
                        if label == "release"
                        else "raw = docker compose up -d + health check"
                        if label == "run"
                        else _spread(entry)
                    ),
                )
            )
    destroy = phases["destroy"]
    out.append(
        Check(
            "destroy.total",
            destroy["product"]["median"],
            "s",
            floor=destroy["raw"]["median"],
            target=DESTROY_TARGET,
            note=f"raw = stop --force + delete; {_spread(destroy)}",
        )
    )
    return out


def raw_floor(keypair: Keypair, base_dir: Path, pool: str) -> RawFloor:
    """The LXD client, the product's cloud-config and the tracker's release rendered for the raw runs."""
    from orchestrator.domain.tracker import TrackerSettings

    token = "benchRawToken" + secrets.token_hex(8)
    return RawFloor(
        client=lxd_client(),
        pool=pool,
        user_data=cloud_init_user_data(SSH_USER, keypair.public_key),
        release=raw_release(base_dir / "raw-release", token),
        changed=raw_release(
            base_dir / "raw-rerelease", token, TrackerSettings(announce_interval_s=CHANGED_ANNOUNCE_INTERVAL_S)
        ),
    )


def run(
    reps: int, keypair: Keypair, base_dir: Path, log: Log, pool: str, profile: bool = True
) -> tuple[dict[str, Any], list[Check]]:
    floor = raw_floor(keypair, base_dir, pool)
    client = floor.client
    made = Made()
    runs: list[Run] = []
    result: dict[str, Any] = {"reps": reps, "image_alias": IMAGE_ALIAS, "pool": pool}
    try:
        result["pool_driver"] = pool_driver(client, pool)
        log(f"  storage pool {pool} ({result['pool_driver']})")
        result["warm_imports_s"] = warm_imports()
        result["warm_up_launch_s"] = warm_up_launch(client, floor.user_data, pool, made)
        log(f"  warm-up launch + delete (untimed in the figures): {result['warm_up_launch_s']:.1f} s")
        for rep in range(1, reps + 1):
            raw_first = rep % 2 == 1
            if raw_first:
                raw = run_raw(rep, floor, keypair, made)
            product = run_product(rep, keypair, base_dir, pool, made)
            if not raw_first:
                raw = run_raw(rep, floor, keypair, made)
            runs += [raw, product]
            log(
                f"  deploy rep {rep}/{reps} ({'raw' if raw_first else 'product'} first): raw {raw.total:.1f} s, "
                f"product {product.total:.1f} s (ratio {ratio(product.total, raw.total):.2f}); re-release raw "
                f"{raw.rerelease['total']:.1f} s, product {product.rerelease['total']:.1f} s; destroy raw "
                f"{raw.destroy:.1f} s, product {product.destroy:.1f} s"
            )
        result["runs"] = [r.as_dict() for r in runs]
        result.update(summarize_runs(runs))
        if profile:
            from bench.profile_deploy import profile_deploy

            log("  profiling one more product deploy (Pulumi CLI calls, plugin start, ansible overhead)…")
            try:
                result["profile"] = profile_deploy(keypair, base_dir, pool, made, log)
            except Exception as error:  # the profile explains the figures; losing it must not lose them
                result["profile"] = {"error": f"{type(error).__name__}: {error}"}
                log(f"  profile failed: {result['profile']['error']}")
    finally:
        made.cleanup(log)
    return result, checks(result)
