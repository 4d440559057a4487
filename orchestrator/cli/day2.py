"""Day-2 commands: `check` (drift), `register` (adopt an existing host or LXD instance), `history` (audit trail).

`check` exits 0 when the environment matches its LXD target and 5 when drift was found.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from orchestrator.cli.common import (
    EnvArg,
    close_progress,
    command_name,
    deployer_for,
    options,
    print_run_result,
    run_command,
    stale_warning,
)
from orchestrator.cli.render import EXIT_DRIFT, print_json
from orchestrator.cli.top_help import DAY2

if TYPE_CHECKING:
    from orchestrator.commands.check import DriftReport


def _report_document(report: DriftReport, command: str) -> dict[str, Any]:
    observed = report.observation
    return {
        "ok": True,
        "command": command,
        "environment": report.environment,
        "state": report.state,
        "checked": report.checked,
        "drifted": report.drifted,
        "findings": list(report.findings),
        "note": report.note or None,
        "observed": None
        if observed is None
        else {
            "instance_exists": observed.instance_exists,
            "status": observed.status,
            "ipv4": observed.ipv4,
            "profile_exists": observed.profile_exists,
        },
    }


def _report_text(report: DriftReport) -> str:
    if not report.checked:
        return f"{report.environment} ({report.state}): nothing to compare — {report.note}"
    if not report.drifted:
        return f"{report.environment} ({report.state}): no drift; the instance matches the stored state"
    lines = [f"{report.environment} ({report.state}): drift found"]
    lines += [f"  - {finding}" for finding in report.findings]
    lines.append(f"Tip: run `torrust-deploy deploy {report.environment}` to repair it (then it carries on to the end).")
    return "\n".join(lines)


def check(ctx: typer.Context, name: EnvArg) -> None:
    """Compare the stored state with what is really there (LXD, Docker, the tracker); exit 5 on drift.

    Changes nothing there; what it found is noted for `show`, and `deploy` repairs it.
    """
    report = run_command(ctx, lambda: deployer_for(ctx).check(name))
    close_progress(ctx)
    if options(ctx).json:
        print_json(_report_document(report, command_name(ctx)))
    else:
        print(_report_text(report))
    if report.drifted:
        raise typer.Exit(EXIT_DRIFT)


def register(
    ctx: typer.Context,
    name: EnvArg,
    ip: Annotated[
        str | None, typer.Option("--ip", help="Address of the existing host (never managed).", show_default=False)
    ] = None,
    ssh_port: Annotated[int | None, typer.Option("--ssh-port", min=1, max=65535, help="Its SSH port.")] = None,
    lxd_instance: Annotated[
        str | None,
        typer.Option(
            "--lxd-instance",
            help="An LXD instance to import into the environment's stack (managed from then on).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Adopt an existing host: --ip (never managed) or --lxd-instance (imported into the stack); SSH and
    cloud-init are checked.

    --ip ADDRESS: Created → Provisioned without Pulumi; `provision` refuses the host and `destroy` leaves it.
    --lxd-instance NAME: the environment's LXD instance (its name, image and type) is imported into the
    environment's Pulumi stack as it is and managed from then on: `destroy` deletes it."""

    def body() -> None:
        result = deployer_for(ctx).register_result(name, ip, ssh_port, lxd_instance=lxd_instance)
        stale_warning(result)
        print_run_result(ctx, result)

    run_command(ctx, body)


def history(ctx: typer.Context, name: EnvArg) -> None:
    """The environment's audit trail: when, which process, from → to, time spent before, failed step."""
    events = run_command(ctx, lambda: deployer_for(ctx).history(name))
    close_progress(ctx)
    if options(ctx).json:
        documents = [event.model_dump(mode="json", by_alias=True) for event in events]
        print_json({"ok": True, "command": command_name(ctx), "environment": name, "events": documents})
        return
    from orchestrator.domain import display_name

    for event in events:  # states spelled as `show` spells them (the log keeps the tags)
        before = "" if event.from_state is None else f"{display_name(event.from_state)} → "
        spent = event.duration_in_previous_state_s
        waited = "" if spent is None else f" after {spent:.1f} s"
        step = f" at step {event.step}" if event.step else ""
        why = f" — {event.reason}" if event.reason else ""
        print(
            f"{event.time.isoformat(timespec='seconds')}  #{event.seq:<3} {event.command:<9} "
            f"{before}{display_name(event.to_state)}{waited}{step}  (pid {event.pid}){why}"
        )


def add_day2_commands(app: typer.Typer) -> None:
    """Register the day-2 commands on the root app."""
    app.command("check", rich_help_panel=DAY2)(check)
    app.command("register", rich_help_panel=DAY2)(register)
    app.command("history", rich_help_panel=DAY2)(history)
