"""The base image in LXD: the tarball built from the current recipe (or found in the cache) imported
into the daemon, the lab's alias pointed at it, and the image the alias pointed at before deleted when
nothing else names it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.lab.errors import DaemonNotRunningError, ImageImportError
from orchestrator.lab.image import ImageBuild, ImageRecipe, ensure_image_tarball, lookup_cached
from orchestrator.lab.lxd_api import LxdApi, lxd_answers
from orchestrator.lab.settings import LabSettings


@dataclass(frozen=True)
class ImageResult:
    """What ``build_image()`` did."""

    tarball: Path
    fingerprint: str
    size: int
    built: bool
    build_seconds: float
    imported: bool
    alias: str
    #: Why the image was not imported (daemon not running…); empty when it was or already is.
    note: str = ""
    changes: tuple[str, ...] = field(default=())


def ensure_image(
    recipe: ImageRecipe,
    settings: LabSettings,
    *,
    force: bool,
    say: Callable[[str], None],
    import_required: bool = True,
) -> ImageResult:
    """Build the tarball unless the cache has it (always, with ``force``), then make the alias point at it.

    Without a daemon that answers: an error when ``import_required``, else a result saying it was not imported.
    """
    s = settings
    cached = None if force else lookup_cached(recipe, s.cache_dir)
    if cached is not None:
        build = ImageBuild(cached, built=False, seconds=0.0)
    else:
        say(f"building the {s.suite} image (debootstrap; about a minute)")
        build = ensure_image_tarball(recipe, s.cache_dir, force=force, progress=lambda m: say("  " + m))
    image = build.image

    def result(imported: bool, note: str = "", changes: tuple[str, ...] = ()) -> ImageResult:
        return ImageResult(
            tarball=image.path,
            fingerprint=image.fingerprint,
            size=image.size,
            built=build.built,
            build_seconds=build.seconds,
            imported=imported,
            alias=s.image_alias,
            note=note,
            changes=changes,
        )

    if not lxd_answers(s.socket_path):
        if import_required:
            raise DaemonNotRunningError(f"the LXD daemon does not answer on {s.socket_path}")
        return result(False, "not imported: the LXD daemon is not running")
    api = LxdApi(s.socket_path)
    target = api.alias_target(s.image_alias)
    if target == image.fingerprint:
        return result(False, "alias already points at this image")
    changes: list[str] = []
    try:
        if api.image(image.fingerprint) is None:
            say(f"  importing {image.path.name} ({image.size / 1e6:.0f} MB)")
            fingerprint = api.import_image(image.path)
            if fingerprint != image.fingerprint:
                raise ImageImportError(
                    f"LXD reports fingerprint {fingerprint} for {image.path}, expected {image.fingerprint}"
                )
            changes.append(f"imported {image.fingerprint[:12]}")
        api.point_alias(s.image_alias, image.fingerprint, exists=target is not None)
        changes.append(f"alias {s.image_alias} -> {image.fingerprint[:12]}")
        if target is not None:
            old = api.image(target)
            if old is not None and not old.get("aliases"):
                api.delete_image(target)
                changes.append(f"deleted the previous image {target[:12]}")
    except api.errors as exc:
        raise ImageImportError(f"importing {image.path} into LXD failed: {exc}") from exc
    return result(True, changes=tuple(changes))


def describe_image(result: ImageResult) -> str:
    """The image step's line in ``lab up``'s progress."""
    parts = [f"{result.alias} -> {result.fingerprint[:12]}"]
    parts.append(f"built in {result.build_seconds:.1f} s" if result.built else "cached")
    if result.imported:
        parts.append("imported")
    elif result.note:
        parts.append(result.note)
    return ", ".join(parts)
