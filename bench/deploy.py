"""Deploy vs the raw floor: the same image, cloud-init user-data and Docker packages, raw and product runs
interleaved so machine and mirror noise hit both alike: raw first in odd repetitions, product first in even
ones, after one untimed launch + delete from the image (the first instance created after the machine was
idle unpacks in a fraction of the usual time, which favoured whichever kind ran first).

raw      pylxd create+start from the image alias (default profile + security.nesting, the product's
         cloud-config) → eth0 IPv4 → `ssh true` → `cloud-init status --wait` → apt-get update + install
         docker.io docker-cli, enable docker, add the user to the docker group, `docker info` → install
         docker-compose, `docker compose version` — each a single plain SSH command, polls at 0.1 s.
product  `Deployer.deploy` of a created environment (fresh `Deployer`, so it finds the Pulumi CLI itself
         like a CLI run), phases from its ProgressObserver steps.
destroy  raw: stop --force + delete; product: `Deployer.destroy`.
"""

from __future__ import annotations

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
    RemoteCommandError,
    cloud_init_user_data,
    delete_instance,
    environment_config,
    lxd_client,
    ssh_run,
    unique,
    wait_ipv4,
    wait_ssh,
)
from bench.report import Check
from bench.stats import ratio, summarize
from bench.timing import TimingObserver

PHASES = ("launch", "ssh", "cloud_init", "docker", "compose", "other")
"""launch = instance created and started until eth0 has an IPv4 (product: prepare stack + pulumi up +
read outputs + render inventory); other = the rest of the wall time (product: CLI lookup, locks, saves)."""

PRODUCT_PHASE = {
    "prepare_stack": "launch",
    "pulumi_up": "launch",
    "read_outputs": "launch",
    "render_inventory": "launch",
    "wait_ssh": "ssh",
    "wait_cloud_init": "cloud_init",
    "install_docker": "docker",
    "install_docker_compose": "compose",
}
TOTAL_TARGET = 1.25

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
            "destroy": self.destroy,
            "destroy_steps": self.destroy_steps,
            "timeline": self.timeline,
            "notes": self.notes,
        }


def run_raw(rep: int, client: Any, keypair: Keypair, user_data: str, made: Made) -> Run:
    name = unique("bench-raw")
    made.instances.append(name)
    marks = [time.monotonic()]
    instance = launch_instance(client, name, user_data)
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
    phases = {phase: marks[i + 1] - marks[i] for i, phase in enumerate(PHASES[:-1])}
    total = marks[-1] - marks[0]
    phases["other"] = total - sum(phases.values())
    began = time.monotonic()
    delete_instance(client, name)
    destroy = time.monotonic() - began
    made.instances.remove(name)
    return Run("raw", rep, phases, total, destroy, notes={"ssh_attempts": ssh_attempts})


def launch_instance(client: Any, name: str, user_data: str) -> Any:
    """Create and start a container from the image, as the product's stack does (default profile)."""
    instance = client.instances.create(
        {
            "name": name,
            "type": "container",
            "source": {"type": "image", "alias": IMAGE_ALIAS},
            "profiles": ["default"],
            "config": {"security.nesting": "true", "user.user-data": user_data},
        },
        wait=True,
    )
    instance.start(wait=True)
    return instance


def warm_up_launch(client: Any, user_data: str, made: Made) -> float:
    """Create, start and delete one instance like the raw run does (not part of any figure)."""
    name = unique("bench-warm")
    made.instances.append(name)
    began = time.monotonic()
    instance = launch_instance(client, name, user_data)
    wait_ipv4(instance)
    delete_instance(client, name)
    made.instances.remove(name)
    return time.monotonic() - began


def product_phases(observer: TimingObserver, total: float) -> dict[str, float]:
    phases = dict.fromkeys(PHASES, 0.0)
    for step in observer.steps:
        if step.command in ("provision", "configure"):
            phases[PRODUCT_PHASE.get(step.step, "other")] += step.seconds
    phases["other"] = total - sum(value for key, value in phases.items() if key != "other")
    return phases


def run_product(rep: int, keypair: Keypair, base_dir: Path, made: Made) -> Run:
    from orchestrator.api import Deployer

    name = unique("bench-p")
    working_dir = base_dir / name
    made.environment(working_dir, name)
    Deployer(working_dir=working_dir).create(environment_config(name, keypair, base_dir))
    observer = TimingObserver()
    began = time.monotonic()
    deployer = Deployer(working_dir=working_dir, observer=observer)
    deployer.deploy(name)
    total = time.monotonic() - began
    deploy_steps = {
        f"{s.command}.{s.step}": s.seconds for s in observer.steps if s.command in ("provision", "configure")
    }
    began = time.monotonic()
    deployer.destroy(name)
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
        destroy_steps=observer.seconds("destroy"),
        steps=deploy_steps,
        timeline=observer.timeline(),
    )


def warm_imports() -> float:
    """Import the adapters once, so the first product run does not pay for imports the others skip."""
    began = time.monotonic()
    import ansible_runner  # noqa: F401
    from pulumi import automation  # noqa: F401

    import orchestrator.infrastructure.ansible.playbooks
    import orchestrator.infrastructure.pulumi.stacks
    import orchestrator.infrastructure.ssh.wait  # noqa: F401

    return time.monotonic() - began


def summarize_runs(runs: list[Run]) -> dict[str, Any]:
    raw = [run for run in runs if run.kind == "raw"]
    product = [run for run in runs if run.kind == "product"]
    phases: dict[str, Any] = {}
    for phase in (*PHASES, "until_ssh", "total", "destroy"):

        def values(group: list[Run], key: str = phase) -> list[float]:
            if key == "total":
                return [run.total for run in group]
            if key == "destroy":
                return [run.destroy for run in group]
            if key == "until_ssh":  # the split between launch and ssh depends on how fast each polls
                return [run.phases["launch"] + run.phases["ssh"] for run in group]
            return [run.phases[key] for run in group]

        raw_summary, product_summary = summarize(values(raw)), summarize(values(product))
        pairs = [ratio(p, r) for r, p in zip(values(raw), values(product), strict=False)]
        phases[phase] = {
            "raw": raw_summary.as_dict(),
            "product": product_summary.as_dict(),
            "ratio_of_medians": ratio(product_summary.median, raw_summary.median),
            "excess_median_s": product_summary.median - raw_summary.median,
            "paired_ratios": pairs,
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


def checks(summary: dict[str, Any]) -> list[Check]:
    phases = summary["phases"]
    out: list[Check] = []
    for phase in PHASES:
        if phase == "other":
            continue
        entry = phases[phase]
        out.append(
            Check(
                f"deploy.{phase}",
                entry["product"]["median"],
                "s",
                floor=entry["raw"]["median"],
                note=f"spread {entry['product']['min']:.2f}-{entry['product']['max']:.2f} s",
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
    out.append(
        Check(
            "deploy.total",
            total["product"]["median"],
            "s",
            floor=total["raw"]["median"],
            target=TOTAL_TARGET,
            note=(
                f"product {total['product']['min']:.1f}-{total['product']['max']:.1f} s, "
                f"raw {total['raw']['min']:.1f}-{total['raw']['max']:.1f} s, n={total['product']['n']}"
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
            note=(
                f"raw = stop --force + delete; spread {destroy['product']['min']:.2f}-{destroy['product']['max']:.2f} s"
            ),
        )
    )
    return out


def run(
    reps: int, keypair: Keypair, base_dir: Path, log: Log, profile: bool = True
) -> tuple[dict[str, Any], list[Check]]:
    client = lxd_client()
    user_data = cloud_init_user_data(SSH_USER, keypair.public_key)
    made = Made()
    runs: list[Run] = []
    result: dict[str, Any] = {"reps": reps, "image_alias": IMAGE_ALIAS}
    try:
        result["warm_imports_s"] = warm_imports()
        result["warm_up_launch_s"] = warm_up_launch(client, user_data, made)
        log(f"  warm-up launch + delete (untimed in the figures): {result['warm_up_launch_s']:.1f} s")
        for rep in range(1, reps + 1):
            raw_first = rep % 2 == 1
            if raw_first:
                raw = run_raw(rep, client, keypair, user_data, made)
            product = run_product(rep, keypair, base_dir, made)
            if not raw_first:
                raw = run_raw(rep, client, keypair, user_data, made)
            runs += [raw, product]
            log(
                f"  deploy rep {rep}/{reps} ({'raw' if raw_first else 'product'} first): raw {raw.total:.1f} s "
                f"(delete {raw.destroy:.1f} s), product {product.total:.1f} s "
                f"(ratio {ratio(product.total, raw.total):.2f}; destroy {product.destroy:.1f} s)"
            )
        result["runs"] = [r.as_dict() for r in runs]
        result.update(summarize_runs(runs))
        if profile:
            from bench.profile_deploy import profile_deploy

            log("  profiling one more product deploy (Pulumi CLI calls, plugin start, ansible overhead)…")
            try:
                result["profile"] = profile_deploy(keypair, base_dir, made, log)
            except Exception as error:  # the profile explains the figures; losing it must not lose them
                result["profile"] = {"error": f"{type(error).__name__}: {error}"}
                log(f"  profile failed: {result['profile']['error']}")
    finally:
        made.cleanup(log)
    return result, checks(result)
