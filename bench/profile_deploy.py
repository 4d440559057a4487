"""Where a product deploy (to Running) spends its time beyond the floor, from timestamps (py-spy is not
available).

One extra product deploy runs with a Pulumi toolchain whose `pulumi` and `pulumi-resource-pulumi-python`
are logging wrappers around the real ones (each CLI call: start, end, arguments; each provider plugin
start), with every step and every line of tool output time-stamped. Then, against the same instance:
fixed cost of an ansible-runner playbook (a no-op playbook with 1 and with 3 trivial tasks) against one
plain `ssh true`, and the fixed cost of a Pulumi `up` with nothing to change.
"""

from __future__ import annotations

import shlex
import stat
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.lxd_fixtures import Keypair, Made, environment_config, ssh_argv, ssh_run, unique
from bench.stats import median
from bench.timing import TimingObserver

Log = Callable[[str], None]

NOOP_PLAYBOOKS = {
    "noop-1.yml": 1,
    "noop-3.yml": 3,
}


def _noop_playbook(tasks: int) -> str:
    lines = ["---", "- name: No-op", "  hosts: all", "  gather_facts: false", "  tasks:"]
    for index in range(tasks):
        lines += [
            f"    - name: No-op {index + 1}",
            '      ansible.builtin.command: "true"',
            "      changed_when: false",
        ]
    return "\n".join(lines) + "\n"


def _write_executable(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def logging_toolchain(directory: Path, log_file: Path) -> Any:
    """A PulumiToolchain whose CLI and provider plugin log each call to `log_file` (wall-clock seconds)."""
    from orchestrator.infrastructure.pulumi.toolchain import PLUGIN_SCRIPT, PulumiToolchain, find_pulumi

    real = find_pulumi()
    bin_dir = directory / "bin"
    bin_dir.mkdir(parents=True)
    log = shlex.quote(str(log_file))
    _write_executable(
        bin_dir / "pulumi",
        "#!/bin/sh\n"
        "start=$(date +%s.%N)\n"
        f'{shlex.quote(str(real.cli))} "$@"\n'
        "rc=$?\n"
        f'echo "cli $start $(date +%s.%N) $rc $*" >> {log}\n'
        "exit $rc\n",
    )
    real_plugin = real.cli.with_name(PLUGIN_SCRIPT)
    _write_executable(
        bin_dir / PLUGIN_SCRIPT,
        f'#!/bin/sh\necho "plugin $(date +%s.%N)" >> {log}\nexec {shlex.quote(str(real_plugin))} "$@"\n',
    )
    return PulumiToolchain(cli=bin_dir / "pulumi", version=real.version)


def _read_calls(log_file: Path, wall_minus_mono: float, origin: float) -> list[dict[str, Any]]:
    """Wrapper log lines as dicts with start/end in seconds since the observer's origin."""
    calls: list[dict[str, Any]] = []
    try:
        lines = log_file.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return calls
    for line in lines:
        parts = line.split()
        if parts[:1] == ["cli"] and len(parts) >= 4:
            start = float(parts[1]) - wall_minus_mono - origin
            end = float(parts[2]) - wall_minus_mono - origin
            calls.append(
                {"kind": "cli", "args": " ".join(parts[4:]), "start": start, "seconds": end - start, "rc": parts[3]}
            )
        elif parts[:1] == ["plugin"] and len(parts) >= 2:
            calls.append({"kind": "plugin_start", "start": float(parts[1]) - wall_minus_mono - origin})
    return sorted(calls, key=lambda call: float(call["start"]))


def _first(details: list[tuple[float, str]], needle: str, after: float = 0.0) -> float | None:
    for at, line in details:
        if at >= after and needle in line:
            return at
    return None


def _last_detail(details: list[tuple[float, str]], start: float, end: float) -> float | None:
    inside = [at for at, _ in details if start <= at <= end]
    return inside[-1] if inside else None


def pulumi_breakdown(observer: TimingObserver, calls: list[dict[str, Any]]) -> dict[str, Any]:
    """Split prepare_stack and pulumi_up into engine start, plugin start, LXD work, and post-run CLI calls."""
    out: dict[str, Any] = {}
    prepare = observer.step("provision", "prepare_stack")
    up = observer.step("provision", "pulumi_up")
    if prepare is not None:
        out["prepare_stack_s"] = prepare.seconds
        out["prepare_stack_cli_calls"] = [
            {"args": c["args"], "seconds": round(c["seconds"], 3)}
            for c in calls
            if c["kind"] == "cli" and prepare.start <= c["start"] <= prepare.start + prepare.seconds
        ]
    if up is None:
        return out
    up_end = up.start + up.seconds
    details = observer.details
    first_line = _first(details, "", up.start)
    profile_creating = _first(details, "profile creating", up.start)
    instance_creating = _first(details, "instance creating", up.start)
    instance_created = _first(details, "instance created", up.start)
    duration_line = _first(details, "Duration:", up.start)
    plugin_starts = [c["start"] for c in calls if c["kind"] == "plugin_start" and up.start <= c["start"] <= up_end]
    up_calls = [c for c in calls if c["kind"] == "cli" and up.start - 0.01 <= c["start"] <= up_end]
    out["pulumi_up_s"] = up.seconds
    out["pulumi_up_cli_calls"] = [
        {"args": c["args"], "start_in_up": round(c["start"] - up.start, 3), "seconds": round(c["seconds"], 3)}
        for c in up_calls
    ]
    if first_line is not None:
        out["up_start_to_first_engine_line_s"] = first_line - up.start
    if plugin_starts:
        out["up_start_to_provider_plugin_start_s"] = plugin_starts[0] - up.start
        out["provider_plugin_starts"] = len(plugin_starts)
    if profile_creating is not None:
        out["up_start_to_first_resource_s"] = profile_creating - up.start
    if instance_creating is not None and instance_created is not None:
        out["instance_create_start_ip_s"] = instance_created - instance_creating
    if duration_line is not None:
        out["engine_done_to_step_end_s"] = up_end - duration_line
        post = [c for c in up_calls if c["start"] >= duration_line - 0.05]
        out["post_engine_cli_calls"] = [{"args": c["args"], "seconds": round(c["seconds"], 3)} for c in post]
    return out


def ansible_breakdown(observer: TimingObserver) -> dict[str, Any]:
    """Per playbook step: ansible-runner start → first task, tasks, last event → step end."""
    out: dict[str, Any] = {}
    for command, name in (
        ("provision", "wait_cloud_init"),
        ("configure", "install_docker"),
        ("configure", "install_docker_compose"),
        ("release", "upload_release"),
        ("release", "load_image"),
        ("run", "start_tracker"),
    ):
        step = observer.step(command, name)
        if step is None:
            continue
        end = step.start + step.seconds
        events = observer.details_between(step.start, end)
        tasks: list[dict[str, Any]] = []
        current: tuple[str, float] | None = None
        for at, line in events:
            if line.startswith("TASK "):
                current = (line.removeprefix("TASK "), at)
            elif current is not None and line.lstrip().startswith(("ok", "failed", "unreachable", "skipped")):
                tasks.append({"task": current[0], "seconds": round(at - current[1], 3)})
                current = None
        first = events[0][0] if events else None
        last = _last_detail(events, step.start, end)
        out[name] = {
            "seconds": step.seconds,
            "startup_s": None if first is None else first - step.start,
            "teardown_s": None if last is None else end - last,
            "tasks": tasks,
        }
    return out


def apt_history(text: str) -> list[dict[str, Any]]:
    """The apt operations the instance ran (`/var/log/apt/history.log`): command line and duration (1 s steps)."""
    from datetime import datetime

    entries: list[dict[str, Any]] = []
    current: dict[str, str] = {}
    for line in [*text.splitlines(), ""]:
        if not line.strip():
            if "Start-Date" in current and "End-Date" in current:
                start = datetime.strptime(current["Start-Date"].strip(), "%Y-%m-%d  %H:%M:%S")
                end = datetime.strptime(current["End-Date"].strip(), "%Y-%m-%d  %H:%M:%S")
                entries.append(
                    {
                        "commandline": current.get("Commandline", "").strip(),
                        "seconds": (end - start).total_seconds(),
                        "installed": len(current.get("Install", "").split("), ")) if current.get("Install") else 0,
                    }
                )
            current = {}
            continue
        key, _, value = line.partition(":")
        current[key.strip()] = value
    return entries


def _time(body: Callable[[], object]) -> float:
    began = time.monotonic()
    body()
    return time.monotonic() - began


def profile_deploy(keypair: Keypair, base_dir: Path, pool: str, made: Made, log: Log) -> dict[str, Any]:
    from orchestrator.api import Deployer
    from orchestrator.infrastructure.ansible.playbooks import AnsiblePlaybooks
    from orchestrator.infrastructure.pulumi.stacks import PulumiProvisioner

    name = unique("bench-prof")
    working_dir = base_dir / name
    profile_dir = base_dir / f"{name}-profile"
    profile_dir.mkdir(parents=True)
    log_file = profile_dir / "pulumi-calls.log"
    toolchain = logging_toolchain(profile_dir / "toolchain", log_file)
    made.environment(working_dir, name)
    Deployer(working_dir=working_dir).create(environment_config(name, keypair, base_dir, pool=pool))
    observer = TimingObserver()
    wall_minus_mono = time.time() - time.monotonic()
    deployer = Deployer(working_dir=working_dir, observer=observer, toolchain=toolchain)
    deployer.deploy(name)
    total = time.monotonic() - observer.origin
    result: dict[str, Any] = {"deploy_s": total, "timeline": observer.timeline()}
    first_step = min((s.start for s in observer.steps), default=0.0)
    result["before_first_step_s"] = first_step
    env = deployer.show(name)
    ip = env.instance_ip or ""

    # Fixed cost of one ansible-runner playbook vs one plain SSH command, against the same instance.
    playbooks_dir = profile_dir / "playbooks"
    playbooks_dir.mkdir()
    for file_name, tasks in NOOP_PLAYBOOKS.items():
        (playbooks_dir / file_name).write_text(_noop_playbook(tasks), encoding="utf-8")
    runner = AnsiblePlaybooks(deployer.layout.build_dir, playbooks_dir=playbooks_dir)
    repeats = 3
    ssh_true = [
        _time(lambda: subprocess.run(ssh_argv(ip, keypair, "true"), check=True, capture_output=True))
        for _ in range(repeats)
    ]
    noop1 = [_time(lambda: runner.run(env.context, "noop-1.yml")) for _ in range(repeats)]
    noop3 = [_time(lambda: runner.run(env.context, "noop-3.yml")) for _ in range(repeats)]
    result["ansible"] = {
        "plain_ssh_true_s": median(ssh_true),
        "playbook_1_task_s": median(noop1),
        "playbook_3_tasks_s": median(noop3),
        "per_task_s": (median(noop3) - median(noop1)) / 2,
        "per_playbook_fixed_s": median(noop1) - (median(noop3) - median(noop1)) / 2,
        "steps": ansible_breakdown(observer),
    }

    result["apt_history"] = apt_history(ssh_run(ip, keypair, "sudo cat /var/log/apt/history.log"))

    # Fixed cost of Pulumi: select the stack and `up` with nothing to change.
    provisioner = PulumiProvisioner(toolchain, deployer.layout)
    calls_before = len(_read_calls(log_file, wall_minus_mono, observer.origin))
    prepare_began = time.monotonic()
    stack = provisioner.prepare(env.context)
    prepare_s = time.monotonic() - prepare_began
    up_s = _time(lambda: provisioner.up(stack))
    idle_calls = _read_calls(log_file, wall_minus_mono, observer.origin)[calls_before:]
    # the same `up` without the refresh the product asks for (what the refresh of 2 resources costs)
    up_plain_s = _time(lambda: stack.up(color="never"))  # type: ignore[attr-defined]
    result["pulumi_noop"] = {
        "prepare_s": prepare_s,
        "up_no_changes_s": up_s,
        "up_no_changes_without_refresh_s": up_plain_s,
        "cli_calls": [
            {"args": c.get("args", "plugin start"), "seconds": round(c.get("seconds", 0.0), 3)} for c in idle_calls
        ],
    }

    calls = _read_calls(log_file, wall_minus_mono, observer.origin)
    deploy_calls = [c for c in calls if c["start"] <= total]
    result["pulumi"] = pulumi_breakdown(observer, deploy_calls)
    result["pulumi_cli_calls_in_deploy"] = sum(1 for c in deploy_calls if c["kind"] == "cli")
    result["pulumi_cli_seconds_in_deploy"] = sum(c["seconds"] for c in deploy_calls if c["kind"] == "cli")
    result["engine_output"] = [{"at": round(at, 3), "line": line} for at, line in observer.details if line.strip()][
        :200
    ]

    began = time.monotonic()
    destroy_observer = TimingObserver()
    Deployer(working_dir=working_dir, observer=destroy_observer, toolchain=toolchain).destroy(name)
    result["destroy_s"] = time.monotonic() - began
    result["destroy_steps"] = destroy_observer.seconds("destroy")
    destroy_calls = _read_calls(log_file, wall_minus_mono, destroy_observer.origin)
    result["destroy_cli_calls"] = [
        {"args": c["args"], "seconds": round(c["seconds"], 3)}
        for c in destroy_calls
        if c["kind"] == "cli" and c["start"] >= 0
    ]
    deployer.purge(name)
    made.environments.remove((working_dir, name))
    made.instances.remove(f"torrust-{name}")
    made.profiles.remove(f"torrust-{name}")
    log(
        f"  profile: deploy {total:.1f} s; {result['pulumi_cli_calls_in_deploy']} pulumi CLI calls "
        f"({result['pulumi_cli_seconds_in_deploy']:.1f} s); ansible playbook fixed cost "
        f"{result['ansible']['per_playbook_fixed_s']:.2f} s vs ssh {result['ansible']['plain_ssh_true_s']:.2f} s"
    )
    return result
