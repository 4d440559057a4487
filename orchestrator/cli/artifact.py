"""`torrust-deploy artifact …`: the tracker built once with cargo from crates.io and packaged as an image
tar that `docker import` loads on a host without any registry (ADR 0009).

Progress goes to stderr (`-v`: every line cargo prints), results to stdout (``--json``: one JSON document).
An artifact error prints ``Error: …``, the tool output that explains it, ``Tip: …`` and ``Trace:`` (the
full log) on stderr — with ``--json`` the common JSON error document on stdout — and exits 1. The cargo
and packaging code is imported inside the commands so that ``--help`` stays fast.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from orchestrator.cli.common import command_name, options, run_command
from orchestrator.cli.render import EXIT_FAILED, error_document, print_json
from orchestrator.domain.tracker import DEFAULT_TRACKER_VERSION

if TYPE_CHECKING:
    from orchestrator.infrastructure.tracker.artifact import ArtifactStatus, TrackerArtifacts, TrackerImage

T = TypeVar("T")


artifact_app = typer.Typer(
    help=(
        "The Torrust Tracker image: built once with cargo from crates.io, packaged as a root file system "
        "that `docker import` loads without a registry."
    ),
    no_args_is_help=True,
)

VersionOpt = Annotated[str, typer.Option("--version", help="The torrust-tracker release on crates.io.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _cargo_line(line: str) -> None:
    print(f"  | {line}", file=sys.stderr, flush=True)


def _artifacts(ctx: typer.Context) -> TrackerArtifacts:
    from orchestrator.infrastructure.tracker.artifact import TrackerArtifacts

    verbose = options(ctx).verbose >= 1
    return TrackerArtifacts(progress=_progress, cargo_output=_cargo_line if verbose else None)


def _run(ctx: typer.Context, body: Callable[[], T], as_json: bool) -> T:
    """Run a command body; an artifact error shows its tool output; anything else renders as usual."""
    from orchestrator.infrastructure.tracker.artifact import TrackerArtifactError

    def guarded() -> T:
        try:
            return body()
        except TrackerArtifactError as error:
            if options(ctx).debug:
                traceback.print_exc()
            if as_json:
                print_json(error_document(error, EXIT_FAILED, command_name(ctx)))
                raise typer.Exit(EXIT_FAILED) from None
            print(f"Error: {error.message}", file=sys.stderr)
            for line in error.detail.splitlines():
                print(f"  | {line}", file=sys.stderr)
            print(f"Tip: {error.tip}", file=sys.stderr)
            if error.trace_path:
                print(f"Trace: {error.trace_path}", file=sys.stderr)
            raise typer.Exit(EXIT_FAILED) from None

    if as_json:
        options(ctx).json = True  # run_command renders any other error as JSON too
    return run_command(ctx, guarded)


def _print_json(ctx: typer.Context, document: dict[str, Any]) -> None:
    print_json({"ok": True, "command": command_name(ctx), **document})


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def status_text(status: ArtifactStatus) -> str:
    """The human rendering of ``artifact status``."""
    lines = [f"Tracker {status.version}: {'built' if status.built else 'NOT BUILT'} (recipe {status.recipe[:12]})"]
    lines.append(f"  cache       {status.cache_dir}")
    if status.build_dir is not None:
        took = f", cargo took {status.build_seconds:.0f} s" if status.build_seconds is not None else ""
        lines.append(f"  build       {status.build_dir}{took}")
        for name, size in status.binaries.items():
            lines.append(f"  {name:<19} {_mb(size)}")
    image = status.image
    lines.append(
        f"  image       {image.tag}: {image.archive} ({_mb(image.size)}, sha256 {image.sha256[:16]}…)"
        if image
        else "  image       not packaged (run `torrust-deploy artifact ensure`)"
    )
    lines.append(f"  cargo       {status.cargo or 'not found'}")
    return "\n".join(lines)


def image_text(image: TrackerImage) -> str:
    """The human rendering of ``artifact ensure`` / ``build``: the archive and how a host loads it."""
    from orchestrator.infrastructure.tracker.artifact import docker_import_changes

    changes = " ".join(f"-c '{change}'" for change in docker_import_changes())
    return "\n".join(
        [
            f"Image {image.tag}: {image.archive} ({_mb(image.size)})",
            f"sha256: {image.sha256}",
            f"Load on a host: docker import {changes} {image.archive.name} {image.tag}",
        ]
    )


def _print_image(ctx: typer.Context, image: TrackerImage, as_json: bool) -> None:
    if as_json:
        _print_json(ctx, {"image": image.to_dict()})
    else:
        print(image_text(image))


@artifact_app.command("ensure")
def ensure_command(
    ctx: typer.Context, version: VersionOpt = DEFAULT_TRACKER_VERSION, json_output: JsonOpt = False
) -> None:
    """Use the cached image of VERSION; build it (cargo, ~6 min cold) and package it when missing."""
    as_json = json_output or options(ctx).json

    def body() -> TrackerImage:
        artifacts = _artifacts(ctx)
        return artifacts.ensure_image(version)

    _print_image(ctx, _run(ctx, body, as_json), as_json)


@artifact_app.command("status")
def status_command(
    ctx: typer.Context, version: VersionOpt = DEFAULT_TRACKER_VERSION, json_output: JsonOpt = False
) -> None:
    """Show what the cache holds for VERSION (changes nothing; exit 0 whether or not it is built)."""
    as_json = json_output or options(ctx).json
    status: ArtifactStatus = _run(ctx, lambda: _artifacts(ctx).status(version), as_json)
    if as_json:
        _print_json(ctx, {"artifact": status.to_dict()})
    else:
        print(status_text(status))


@artifact_app.command("build")
def build_command(
    ctx: typer.Context,
    version: VersionOpt = DEFAULT_TRACKER_VERSION,
    force: Annotated[
        bool, typer.Option("--force", help="Run cargo and package again even when the cache has this build.")
    ] = False,
    json_output: JsonOpt = False,
) -> None:
    """Build and package VERSION if the cache lacks it (with --force: always; cargo reuses its target dir)."""
    as_json = json_output or options(ctx).json
    image: TrackerImage = _run(ctx, lambda: _artifacts(ctx).ensure_image(version, force=force), as_json)
    _print_image(ctx, image, as_json)
