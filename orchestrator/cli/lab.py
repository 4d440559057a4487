"""`torrust-deploy lab …`: the local LXD lab (daemon, bridge, storage pool, base image).

Progress goes to stderr, results to stdout (``--json``: one JSON document, see docs/cli-json.md).
A lab error prints ``Error: …``, the tool output that explains it, and ``Tip: …`` on stderr (with
``--json``: the common JSON error document on stdout, its ``detail`` holding the tool output) and
exits 1. The lab's code (subprocess, pylxd) is imported inside the commands so that ``--help`` stays fast.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from orchestrator.cli.common import command_name
from orchestrator.cli.render import error_document, print_json
from orchestrator.lab.settings import (
    DEFAULT_BRIDGE,
    DEFAULT_IPV4_ADDRESS,
    DEFAULT_STORAGE_DRIVER,
    DEFAULT_STORAGE_SIZE,
    StorageDriver,
)

if TYPE_CHECKING:
    from orchestrator.lab.local_lab import ImageResult, Lab, LabDown, LabStatus

T = TypeVar("T")

EXIT_FAILED = 1

lab_app = typer.Typer(
    help=(
        "The local LXD lab: installs LXD from Debian, starts its daemons (no systemd needed), "
        "sets up a bridge and a storage pool, and builds the Debian trixie base image."
    ),
    no_args_is_help=True,
)
image_app = typer.Typer(help="The lab's base image (Debian trixie + cloud-init + sshd, built with debootstrap).")
lab_app.add_typer(image_app, name="image")

BridgeOpt = Annotated[str, typer.Option("--bridge", help="Name of the LXD bridge the lab manages.")]
Ipv4Opt = Annotated[
    str,
    typer.Option("--ipv4-address", help="The bridge's IPv4 address with prefix; instances get leases in it."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
PoolOpt = Annotated[
    str | None,
    typer.Option(
        "--storage-pool",
        help="Storage pool for instances (the default profile's root disk); created when missing. "
        "Default: the pool the default profile uses, else `default`.",
    ),
]
DriverOpt = Annotated[
    str,
    typer.Option(
        "--storage-driver",
        help="Driver of a pool the lab creates: auto (btrfs where the kernel has it, else dir), btrfs or dir. "
        "An existing pool keeps its driver.",
    ),
]
SizeOpt = Annotated[str, typer.Option("--storage-size", help="Size of a new btrfs pool's loop file (sparse).")]


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _root_flag(ctx: typer.Context, name: str) -> bool:
    """A flag of the root app (``torrust-deploy --json lab status``), when the root app has one."""
    return bool(getattr(ctx.find_root().obj, name, False))


def _lab(
    bridge: str = DEFAULT_BRIDGE,
    ipv4_address: str = DEFAULT_IPV4_ADDRESS,
    storage_pool: str | None = None,
    storage_driver: str = DEFAULT_STORAGE_DRIVER,
    storage_size: str = DEFAULT_STORAGE_SIZE,
) -> Lab:
    from orchestrator.lab.errors import InvalidSettingsError
    from orchestrator.lab.local_lab import Lab, LabSettings
    from orchestrator.lab.settings import STORAGE_DRIVERS

    if storage_driver not in STORAGE_DRIVERS:
        raise InvalidSettingsError(
            f"unknown storage driver {storage_driver!r}", tip=f"Use one of {', '.join(STORAGE_DRIVERS)}."
        )
    driver: StorageDriver = storage_driver
    return Lab(
        LabSettings(
            bridge=bridge,
            ipv4_address=ipv4_address,
            storage_pool=storage_pool,
            storage_driver=driver,
            storage_size=storage_size,
        )
    )


def _run(ctx: typer.Context, body: Callable[[], T], as_json: bool) -> T:
    """Run a command body; a lab error becomes ``Error:``/``Tip:`` lines on stderr and exit code 1."""
    from orchestrator.lab.errors import LabError

    try:
        return body()
    except LabError as error:
        if _root_flag(ctx, "debug"):
            traceback.print_exc()
        if as_json:
            print_json(error_document(error, EXIT_FAILED, command_name(ctx)))
            raise typer.Exit(EXIT_FAILED) from None
        print(f"Error: {error.message}", file=sys.stderr)
        if error.detail:
            for line in error.detail.splitlines():
                print(f"  | {line}", file=sys.stderr)
        print(f"Tip: {error.tip}", file=sys.stderr)
        raise typer.Exit(EXIT_FAILED) from None


def _print_json(ctx: typer.Context, document: dict[str, Any]) -> None:
    print_json({"ok": True, "command": command_name(ctx), **document})


def status_text(status: LabStatus) -> str:
    """The human rendering of a lab status (stdout of ``lab status`` / ``lab up``)."""

    def daemon(d: Any) -> str:
        if not d.running:
            return "not running"
        pid = f"pid {d.pid}" if d.pid else "pid unknown"
        return f"running, {pid} ({d.who})" + (f", log {d.log}" if d.log else "")

    image = "missing"
    if status.image_fingerprint:
        current = status.image_fingerprint == status.cached_fingerprint
        image = f"{status.image_fingerprint[:12]}" + ("" if current else " (not from the current recipe)")
    packages = "missing: " + " ".join(status.missing_packages) if status.missing_packages else "all present"
    lines = [
        f"Lab: {'ready' if status.ready else 'NOT READY'}",
        f"  packages      {packages}",
        f"  lxcfs         {daemon(status.lxcfs)}",
        f"  lxd           {daemon(status.lxd)}",
        f"  bridge        {status.bridge} "
        + (status.bridge_ipv4_address or "-" if status.bridge_exists else "(missing)"),
        f"  storage pool  {status.storage_pool} " + _pool_text(status),
        f"  image         {status.image_alias} -> {image}",
        f"  cached image  {status.cached_image or '(not built for the current recipe)'}",
    ]
    if status.problems:
        lines.append("Problems:")
        lines.extend(f"  - {p}" for p in status.problems)
    if status.storage_hint:
        lines.append(f"Note: {status.storage_hint}")
    return "\n".join(lines)


def _pool_text(status: LabStatus) -> str:
    """``(btrfs, 24GiB loop file, copy-on-write: image unpacked)``, ``(dir, copies the image)``, ``(missing)``."""
    driver = status.storage_pool_driver
    if driver is None:
        return "(missing)"
    parts = [driver]
    if status.storage_pool_size:
        parts.append(f"{status.storage_pool_size} loop file")
    if status.copy_on_write:
        unpacked = {True: "image unpacked", False: "image not unpacked yet", None: "no image"}[status.image_on_pool]
        parts.append(f"copy-on-write: {unpacked}")
    else:
        parts.append("copies the image for every instance")
    return f"({', '.join(parts)})"


def _print_status(ctx: typer.Context, status: LabStatus, as_json: bool) -> None:
    if as_json:
        _print_json(ctx, {"lab": status.to_dict()})
    else:
        print(status_text(status))


@lab_app.command("up")
def up_command(
    ctx: typer.Context,
    bridge: BridgeOpt = DEFAULT_BRIDGE,
    ipv4_address: Ipv4Opt = DEFAULT_IPV4_ADDRESS,
    storage_pool: PoolOpt = None,
    storage_driver: DriverOpt = DEFAULT_STORAGE_DRIVER,
    storage_size: SizeOpt = DEFAULT_STORAGE_SIZE,
    json_output: JsonOpt = False,
) -> None:
    """Bring the lab up: packages, lxcfs + lxd daemons, bridge/pool/profile, base image unpacked on the pool
    (idempotent)."""
    as_json = json_output or _root_flag(ctx, "json")
    status = _run(
        ctx,
        lambda: _lab(bridge, ipv4_address, storage_pool, storage_driver, storage_size).up(progress=_progress),
        as_json,
    )
    _print_status(ctx, status, as_json)


@lab_app.command("status")
def status_command(
    ctx: typer.Context,
    bridge: BridgeOpt = DEFAULT_BRIDGE,
    ipv4_address: Ipv4Opt = DEFAULT_IPV4_ADDRESS,
    json_output: JsonOpt = False,
) -> None:
    """Show what is in place (changes nothing). Exit code 0 whether or not the lab is ready."""
    as_json = json_output or _root_flag(ctx, "json")
    status = _run(ctx, lambda: _lab(bridge, ipv4_address).status(), as_json)
    _print_status(ctx, status, as_json)


@lab_app.command("down")
def down_command(ctx: typer.Context, json_output: JsonOpt = False) -> None:
    """Stop the daemons that `lab up` started (a daemon started otherwise is left running)."""
    as_json = json_output or _root_flag(ctx, "json")
    result: LabDown = _run(ctx, lambda: _lab().down(progress=_progress), as_json)
    if as_json:
        _print_json(ctx, {"stopped": list(result.stopped), "left_running": list(result.left_running)})
        return
    print("Stopped: " + (", ".join(result.stopped) if result.stopped else "nothing (the lab started no daemon)"))
    for item in result.left_running:
        print(f"Left running: {item}")


@image_app.command("build")
def image_build_command(
    ctx: typer.Context,
    force: Annotated[bool, typer.Option("--force", help="Rebuild even when the cache has this recipe.")] = False,
    json_output: JsonOpt = False,
) -> None:
    """Build the base image if the cache lacks it (or always, with --force) and import it when LXD runs."""
    as_json = json_output or _root_flag(ctx, "json")
    result: ImageResult = _run(ctx, lambda: _lab().build_image(force=force, progress=_progress), as_json)
    if as_json:
        _print_json(
            ctx,
            {
                "image": {
                    "alias": result.alias,
                    "tarball": str(result.tarball),
                    "fingerprint": result.fingerprint,
                    "size": result.size,
                    "built": result.built,
                    "build_seconds": round(result.build_seconds, 1),
                    "imported": result.imported,
                    "note": result.note,
                    "changes": list(result.changes),
                },
            },
        )
        return
    how = f"built in {result.build_seconds:.1f} s" if result.built else "from the cache"
    print(f"Image {result.alias}: {result.tarball} ({result.size / 1e6:.0f} MB, {how})")
    print(f"Fingerprint: {result.fingerprint}")
    print("Imported: " + ("; ".join(result.changes) if result.imported else result.note or "no"))
