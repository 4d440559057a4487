"""The lab's base image: Debian (trixie) + cloud-init + sshd, built with debootstrap.

The recipe is package data (``image_recipe/``): the chroot package list, the customize script that
runs inside the chroot, files laid over the root file system, and the LXD metadata/templates. The
built image is a unified LXD tarball (``metadata.yaml`` + ``templates/`` + ``rootfs/``, tar with
numeric owners and xattrs, zstd), cached outside the repository under a name that carries a digest
of the recipe: a rerun finds it and skips the build, a changed recipe builds a new one.

A unified tarball's LXD fingerprint is the SHA-256 of the file, so the cache stores it beside the
tarball (``.sha256``) and importing can be skipped when the alias already points at it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from orchestrator.lab.errors import DebootstrapError, ImageBuildError, tail

#: Bump when the build procedure in this module changes in a way the recipe files don't show.
RECIPE_VERSION = "1"
RECIPE_DIR = Path(__file__).resolve().parent / "image_recipe"

Progress = Callable[[str], None]

_CHROOT_ENV = {
    "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
    "LC_ALL": "C.UTF-8",
    "DEBIAN_FRONTEND": "noninteractive",
    "HOME": "/root",
}


def _no_progress(_: str) -> None:
    return None


def _recipe_files(recipe_dir: Path) -> list[Path]:
    return sorted(
        p for p in recipe_dir.rglob("*") if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith(".pyc")
    )


def read_package_list(recipe_dir: Path) -> tuple[str, ...]:
    """The chroot packages named in ``packages.txt`` (comments and blank lines ignored)."""
    names: list[str] = []
    for line in (recipe_dir / "packages.txt").read_text(encoding="utf-8").splitlines():
        names.extend(line.split("#", 1)[0].split())
    return tuple(names)


def host_architecture() -> str:
    """The Debian architecture of this machine (``amd64``…), as debootstrap will use it."""
    try:
        out = subprocess.run(
            ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        out = ""
    if out:
        return out
    machine = os.uname().machine
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


@dataclass(frozen=True)
class ImageRecipe:
    """What goes into the image. Its :meth:`digest` keys the cache."""

    suite: str = "trixie"
    mirror: str = "http://deb.debian.org/debian"
    recipe_dir: Path = RECIPE_DIR
    architecture: str = field(default_factory=host_architecture)
    version: str = RECIPE_VERSION

    @property
    def packages(self) -> tuple[str, ...]:
        return read_package_list(self.recipe_dir)

    def digest(self) -> str:
        """SHA-256 of recipe version, suite, mirror, architecture, package list and every recipe file."""
        h = hashlib.sha256()

        def put(label: str, value: bytes) -> None:
            h.update(label.encode() + b"\0" + str(len(value)).encode() + b"\0" + value + b"\0")

        put("version", self.version.encode())
        put("suite", self.suite.encode())
        put("mirror", self.mirror.rstrip("/").encode())
        put("architecture", self.architecture.encode())
        put("packages", " ".join(self.packages).encode())
        for path in _recipe_files(self.recipe_dir):
            rel = path.relative_to(self.recipe_dir).as_posix()
            executable = b"x" if os.access(path, os.X_OK) else b"-"
            put("file:" + rel, executable + path.read_bytes())
        return h.hexdigest()

    def tarball_name(self) -> str:
        return f"debian-{self.suite}-{self.architecture}-{self.digest()[:16]}.tar.zst"


@dataclass(frozen=True)
class CachedImage:
    """A built image tarball in the cache."""

    path: Path
    fingerprint: str
    size: int


@dataclass(frozen=True)
class ImageBuild:
    """What :func:`ensure_image_tarball` did."""

    image: CachedImage
    built: bool
    seconds: float


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def lookup_cached(recipe: ImageRecipe, cache_dir: Path) -> CachedImage | None:
    """The cached tarball for this exact recipe, or ``None``."""
    path = cache_dir / recipe.tarball_name()
    if not path.is_file():
        return None
    sidecar = path.with_name(path.name + ".sha256")
    fingerprint = ""
    if sidecar.is_file():
        fingerprint = sidecar.read_text(encoding="utf-8").strip()
    if len(fingerprint) != 64:
        fingerprint = sha256_file(path)
        _write_text_atomic(sidecar, fingerprint + "\n")
    return CachedImage(path=path, fingerprint=fingerprint, size=path.stat().st_size)


def ensure_image_tarball(
    recipe: ImageRecipe,
    cache_dir: Path,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> ImageBuild:
    """Return the cached tarball for ``recipe``, building it first when missing (or when ``force``)."""
    say = progress or _no_progress
    started = time.monotonic()
    cache_dir.mkdir(parents=True, exist_ok=True)
    from filelock import FileLock

    with FileLock(str(cache_dir / ".build.lock")):
        if not force:
            cached = lookup_cached(recipe, cache_dir)
            if cached is not None:
                return ImageBuild(cached, built=False, seconds=time.monotonic() - started)
        _remove_stale_build_dirs(cache_dir)
        image = _build(recipe, cache_dir, say)
    return ImageBuild(image, built=True, seconds=time.monotonic() - started)


# --------------------------------------------------------------------------------------------- build


def _build(recipe: ImageRecipe, cache_dir: Path, say: Progress) -> CachedImage:
    digest = recipe.digest()
    log_path = cache_dir / f"build-{recipe.suite}-{digest[:16]}.log"
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=cache_dir))
    image_dir = work / "image"
    rootfs = image_dir / "rootfs"
    rootfs.mkdir(parents=True)
    try:
        with log_path.open("w", encoding="utf-8") as log:
            _debootstrap(recipe, rootfs, log, log_path, say)
            with _mounted_proc(rootfs):
                _customize(recipe, rootfs, log, log_path, say)
            _overlay_files(recipe.recipe_dir / "rootfs", rootfs)
            _write_metadata(recipe, digest, image_dir)
            tarball = work / recipe.tarball_name()
            _pack(image_dir, tarball, log, log_path, say)
        fingerprint = sha256_file(tarball)
        final = cache_dir / tarball.name
        os.replace(tarball, final)
        _write_text_atomic(final.with_name(final.name + ".sha256"), fingerprint + "\n")
        _prune_other_builds(recipe, cache_dir, keep=final)
        return CachedImage(path=final, fingerprint=fingerprint, size=final.stat().st_size)
    finally:
        _remove_build_dir(work)


def _run_logged(
    argv: list[str],
    log: Any,
    log_path: Path,
    *,
    error: type[DebootstrapError] | type[ImageBuildError],
    what: str,
    env: dict[str, str] | None = None,
) -> None:
    log.write(f"$ {' '.join(argv)}\n")
    log.flush()
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, check=False)
    except OSError as exc:
        raise error(f"{what}: cannot run {argv[0]}: {exc}") from exc
    log.write(proc.stdout)
    log.flush()
    if proc.returncode != 0:
        raise error(
            f"{what} failed (exit {proc.returncode}); full log: {log_path}",
            detail=tail(proc.stdout, 25),
        )


def _debootstrap(recipe: ImageRecipe, rootfs: Path, log: Any, log_path: Path, say: Progress) -> None:
    say(f"debootstrap {recipe.suite} (minbase + systemd-sysv) from {recipe.mirror}")
    if shutil.which("debootstrap") is None:
        raise DebootstrapError(
            "debootstrap is not installed", tip="Install it: `apt-get install debootstrap` (or run `lab up`)."
        )
    _run_logged(
        [
            "debootstrap",
            "--variant=minbase",
            "--include=systemd-sysv",
            f"--arch={recipe.architecture}",
            recipe.suite,
            str(rootfs),
            recipe.mirror,
        ],
        log,
        log_path,
        error=DebootstrapError,
        what=f"debootstrap {recipe.suite}",
    )


def _mount_points_under(path: Path) -> list[Path]:
    """Mount points at or below ``path`` (from /proc/self/mountinfo)."""
    base = os.path.realpath(path)
    found: list[Path] = []
    try:
        lines = Path("/proc/self/mountinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        return found
    for line in lines:
        fields = line.split()
        if len(fields) < 5:
            continue
        mount_point = fields[4].encode().decode("unicode_escape")
        if mount_point == base or mount_point.startswith(base + "/"):
            found.append(Path(mount_point))
    return found


def _unmount_all_under(path: Path) -> None:
    for mount_point in sorted(_mount_points_under(path), key=lambda p: len(p.parts), reverse=True):
        if subprocess.run(["umount", str(mount_point)], capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mount_point)], capture_output=True, check=False)


@contextmanager
def _mounted_proc(rootfs: Path) -> Iterator[None]:
    target = rootfs / "proc"
    target.mkdir(exist_ok=True)
    subprocess.run(["mount", "-t", "proc", "proc", str(target)], check=True, capture_output=True)
    try:
        yield
    finally:
        _unmount_all_under(target)


def _customize(recipe: ImageRecipe, rootfs: Path, log: Any, log_path: Path, say: Progress) -> None:
    packages = recipe.packages
    say(f"chroot apt-get install --no-install-recommends {' '.join(packages)}")
    policy = rootfs / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\n# No services start while the image is built.\nexit 101\n", encoding="utf-8")
    policy.chmod(0o755)
    script = rootfs / "tmp/torrust-customize.sh"
    shutil.copyfile(recipe.recipe_dir / "customize.sh", script)
    try:
        _run_logged(
            ["chroot", str(rootfs), "/bin/sh", "/tmp/torrust-customize.sh", *packages],
            log,
            log_path,
            error=ImageBuildError,
            what="customizing the image in its chroot",
            env=_CHROOT_ENV,
        )
    finally:
        policy.unlink(missing_ok=True)
        script.unlink(missing_ok=True)


def _overlay_files(source: Path, rootfs: Path) -> None:
    """Copy the recipe's ``rootfs/`` tree over the image (root-owned, modes from the recipe)."""
    if not source.is_dir():
        return
    for path in sorted(source.rglob("*")):
        if "__pycache__" in path.parts:
            continue
        target = rootfs / path.relative_to(source)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            os.chown(target, 0, 0)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or target.exists():
            target.unlink()
        shutil.copyfile(path, target)
        target.chmod(0o755 if os.access(path, os.X_OK) else 0o644)
        os.chown(target, 0, 0)


def render_metadata(recipe: ImageRecipe, digest: str, created: int) -> dict[str, Any]:
    """The image's ``metadata.yaml``: the recipe's template plus what depends on the build."""
    metadata: dict[str, Any] = yaml.safe_load((recipe.recipe_dir / "metadata.yaml").read_text(encoding="utf-8")) or {}
    lxd_arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(recipe.architecture, recipe.architecture)
    metadata["architecture"] = lxd_arch
    metadata["creation_date"] = created
    properties = dict(metadata.get("properties") or {})
    properties.update(
        {
            "architecture": recipe.architecture,
            "release": recipe.suite,
            "serial": time.strftime("%Y%m%d_%H%M", time.gmtime(created)),
            "description": f"Debian {recipe.suite} {recipe.architecture} (torrust-deploy, cloud-init, sshd)",
            "torrust.recipe": digest,
        }
    )
    metadata["properties"] = properties
    return metadata


def _write_metadata(recipe: ImageRecipe, digest: str, image_dir: Path) -> None:
    metadata = render_metadata(recipe, digest, int(time.time()))
    (image_dir / "metadata.yaml").write_text(yaml.safe_dump(metadata, sort_keys=True), encoding="utf-8")
    shutil.copytree(recipe.recipe_dir / "templates", image_dir / "templates")


def _pack(image_dir: Path, tarball: Path, log: Any, log_path: Path, say: Progress) -> None:
    say("packing the image (tar --numeric-owner --xattrs | zstd)")
    if shutil.which("zstd") is None:
        raise ImageBuildError("zstd is not installed", tip="Install it: `apt-get install zstd` (or run `lab up`).")
    _run_logged(
        [
            "tar",
            "--numeric-owner",
            "--xattrs",
            "--xattrs-include=*",
            "--use-compress-program=zstd -T0",
            "-C",
            str(image_dir),
            "-cf",
            str(tarball),
            "metadata.yaml",
            "templates",
            "rootfs",
        ],
        log,
        log_path,
        error=ImageBuildError,
        what="packing the image tarball",
    )


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _remove_build_dir(work: Path) -> None:
    """Delete a build directory, but never through a mount that is still there."""
    _unmount_all_under(work)
    if _mount_points_under(work):
        raise ImageBuildError(
            f"{work} still has mounts; not deleting it",
            tip=f"Unmount what is mounted under {work} (see `findmnt`), then delete it.",
        )
    shutil.rmtree(work, ignore_errors=True)


def _remove_stale_build_dirs(cache_dir: Path) -> None:
    """Builds killed half-way leave ``.build-*`` folders; remove them (the build lock is held)."""
    for stale in cache_dir.glob(".build-*"):
        if stale.is_dir():
            _remove_build_dir(stale)


def _prune_other_builds(recipe: ImageRecipe, cache_dir: Path, keep: Path) -> None:
    """Delete tarballs (and build logs) of older recipes for the same suite and architecture."""
    prefix = f"debian-{recipe.suite}-{recipe.architecture}-"
    keep_digest = keep.name[len(prefix) :].split(".", 1)[0]
    for path in cache_dir.glob(prefix + "*"):
        if not path.name.startswith(prefix + keep_digest):
            path.unlink(missing_ok=True)
    for log in cache_dir.glob(f"build-{recipe.suite}-*.log"):
        if not log.name.startswith(f"build-{recipe.suite}-{keep_digest}"):
            log.unlink(missing_ok=True)
