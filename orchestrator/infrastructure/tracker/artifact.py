"""The tracker artifact: `torrust-tracker` built once with cargo from crates.io, and a flat root file
system tar that `docker import` turns into an image on the host — no registry, no Dockerfile, no base
image (ADR 0009).

Cache layout (``~/.cache/torrust-deploy/tracker``)::

    cargo-target/                              cargo's target dir, shared by every build: a rebuild of a
                                               version compiled before only relinks and copies
    <version>-<triple>-<recipe12>/             one build, renamed into place when complete
        bin/torrust-tracker  bin/http_health_check
        cargo.log                              cargo's full output
        .complete                              JSON stamp (version, triple, recipe, rustc, seconds)
        rootfs.tar                             the image's root file system
        image.json                             tag, size and sha256 of rootfs.tar (written after it)
    <version>-<triple>-<recipe12>.failed.log   the output of the last failed build
    .locks/                                    one lock file per build key

The recipe hash covers the cargo command, its profile overrides and the packaging recipe (paths, user,
`docker import` changes), so a changed recipe builds into a new folder. A cache hit runs no program at
all. The target triple comes from ``rustc -vV`` when something must be built.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any, Literal

from orchestrator.domain.errors import DeployError
from orchestrator.domain.tracker import DEFAULT_TRACKER_VERSION, TrackerSettings
from orchestrator.infrastructure.cache import cache_root as shared_cache_root
from orchestrator.infrastructure.tracker.container import (
    BINARY_PATH,
    CONFIG_ENV_VAR,
    CONFIG_PATH,
    DATABASE_DIR,
    GROUP_ID,
    HEALTH_CHECK_BINARY_PATH,
    USER_ID,
    USER_NAME,
)

RECIPE_VERSION = "1"
"""Bump when the build or the packaging changes in a way the recipe data below does not show."""

CRATE = "torrust-tracker"
TRACKER_BIN = "torrust-tracker"
HEALTH_CHECK_BIN = "http_health_check"
BINS: tuple[str, ...] = (TRACKER_BIN, HEALTH_CHECK_BIN)

CARGO_PROFILE_ENV: Mapping[str, str] = {
    # The crate's release profile has lto = "fat" and debug = 1: ~15 min on 2 cores and an 84 MB binary;
    # with these, 5 min 41 s and 17 MB.
    "CARGO_PROFILE_RELEASE_DEBUG": "0",
    "CARGO_PROFILE_RELEASE_LTO": "off",
    "CARGO_PROFILE_RELEASE_CODEGEN_UNITS": "16",
    "CARGO_PROFILE_RELEASE_STRIP": "symbols",
}
"""Release-profile overrides every build gets (the same as the build that seeded the target dir)."""

BUILD_PACKAGES: tuple[str, ...] = ("pkg-config", "libssl-dev", "zlib1g-dev", "make", "gcc", "ca-certificates")
"""Debian packages the crate's build scripts (openssl-sys, libz-sys) and the packaging need."""

CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
WORK_DIR = "/var/lib/torrust/tracker"
"""The container's working directory and the user's home (root-owned; DATABASE_DIR below it is the user's)."""
IMAGE_REPOSITORY = "torrust-deploy/tracker"
ARCHIVE_NAME = "rootfs.tar"
TAR_MTIME = 0
"""Every member's mtime: the archive's bytes depend only on its contents."""

PASSWD = (
    "root:x:0:0:root:/root:/sbin/nologin\n"
    f"{USER_NAME}:x:{USER_ID}:{GROUP_ID}:Torrust Tracker:{WORK_DIR}:/sbin/nologin\n"
)
GROUP = f"root:x:0:\n{USER_NAME}:x:{GROUP_ID}:\n"

_COMPLETE = ".complete"
_IMAGE_JSON = "image.json"
_CARGO_LOG = "cargo.log"
_SUMMARY_EVERY_S = 30.0

Progress = Callable[[str], None]
Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]
CargoRunner = Callable[[Sequence[str], Mapping[str, str], IO[str], Callable[[str], None]], int]
"""(argv, env, log, on_line) -> exit code: runs cargo, writing every output line to log and on_line."""


# --------------------------------------------------------------------------------------------- errors


class TrackerArtifactError(DeployError):
    """Base of the errors of building or packaging the tracker: a one-line message, a tip, tool output
    (exit code 1: the build ran and failed)."""

    default_tip = "Run `torrust-deploy artifact status` to see what is cached."

    def __init__(
        self, message: str, *, tip: str | None = None, detail: str = "", trace_path: Path | None = None
    ) -> None:
        super().__init__(message, tip or self.default_tip)
        self.message = message
        self.detail = detail
        """The tool output that explains the failure (last lines of cargo's, ldd's or apt's); may be empty."""
        self.trace_path = trace_path
        """The full log, kept in the cache folder."""

    def __str__(self) -> str:
        return self.message


class CargoNotFoundError(TrackerArtifactError):
    default_tip = (
        "Install a Rust toolchain so that `cargo` and `rustc` are on PATH (rustup, or Debian's cargo if it is "
        "new enough), or set `tracker.image` in the environment's config to an image the host can pull."
    )


class BuildDependenciesError(TrackerArtifactError):
    default_tip = f"Install them as root: `apt-get install --no-install-recommends {' '.join(BUILD_PACKAGES)}`."


class TrackerBuildError(TrackerArtifactError):
    default_tip = (
        "Read cargo's log named by Trace:, fix the cause (a missing -dev package, disk space, crates.io "
        "unreachable), then run `torrust-deploy artifact build`."
    )


class TrackerPackagingError(TrackerArtifactError):
    default_tip = "Rebuild with `torrust-deploy artifact build --force`; the message names what is missing."


# ------------------------------------------------------------------------------------------ the recipe


def cargo_install_argv(cargo: str, version: str, root: Path) -> list[str]:
    """The one cargo command a build runs (its output goes into ``root/bin``)."""
    bins = [arg for name in BINS for arg in ("--bin", name)]
    return [cargo, "install", f"{CRATE}@{version}", "--locked", *bins, "--root", str(root)]


def cargo_environment(target_dir: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of the cargo run: ``base`` (the process's) plus the target dir and profile overrides."""
    return {**(os.environ if base is None else base), "CARGO_TARGET_DIR": str(target_dir), **CARGO_PROFILE_ENV}


def docker_import_changes() -> list[str]:
    """The ``docker import -c`` instructions that make the tar an image (what the release playbook passes).

    No STOPSIGNAL (``docker import`` rejects it; the compose service sets ``stop_signal: SIGINT``) and no
    ports or health check: those depend on the environment's settings, the image only on the version.
    """
    return [
        f"USER {USER_ID}:{GROUP_ID}",
        f"ENV {CONFIG_ENV_VAR}={CONFIG_PATH}",
        f"WORKDIR {WORK_DIR}",
        f"ENTRYPOINT {json.dumps([BINARY_PATH])}",
    ]


def recipe_data() -> dict[str, Any]:
    """Everything that decides what a build produces, apart from version and target (in the folder name)."""
    return {
        "recipe_version": RECIPE_VERSION,
        "cargo": cargo_install_argv("cargo", "VERSION", Path("ROOT")),
        "cargo_env": dict(sorted(CARGO_PROFILE_ENV.items())),
        "image": {
            "binaries": {TRACKER_BIN: BINARY_PATH, HEALTH_CHECK_BIN: HEALTH_CHECK_BINARY_PATH},
            "config_dir": str(PurePosixPath(CONFIG_PATH).parent),
            "database_dir": DATABASE_DIR,
            "work_dir": WORK_DIR,
            "user": [USER_NAME, USER_ID, GROUP_ID],
            "passwd": PASSWD,
            "group": GROUP,
            "ca_bundle": CA_BUNDLE,
            "mtime": TAR_MTIME,
            "changes": docker_import_changes(),
        },
    }


def recipe_hash() -> str:
    """SHA-256 of :func:`recipe_data` (canonical JSON)."""
    canonical = json.dumps(recipe_data(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def build_key(version: str, triple: str, recipe: str | None = None) -> str:
    """The cache folder name of one build: ``<version>-<target triple>-<recipe hash, 12 hex>``."""
    return f"{version}-{triple}-{(recipe or recipe_hash())[:12]}"


def image_tag(version: str, recipe: str | None = None) -> str:
    return f"{IMAGE_REPOSITORY}:{version}-{(recipe or recipe_hash())[:12]}"


def parse_host_triple(rustc_vv: str) -> str | None:
    """The ``host:`` line of ``rustc -vV``."""
    for line in rustc_vv.splitlines():
        if line.startswith("host:"):
            return line.split(":", 1)[1].strip() or None
    return None


def _check_version(version: str) -> str:
    TrackerSettings(version=version)  # the domain's rule (raises InvalidTrackerSettingsError)
    return version


# ----------------------------------------------------------------------------------------- packaging


@dataclass(frozen=True)
class Member:
    """One entry of the rootfs tar. ``path`` is absolute inside the image; ``source`` (a host file) or
    ``data`` give a file's bytes."""

    path: str
    kind: Literal["dir", "file"]
    mode: int
    uid: int = 0
    gid: int = 0
    source: Path | None = None
    data: bytes | None = None


def parse_ldd(output: str) -> tuple[list[str], list[str]]:
    """The absolute paths of the libraries (and the dynamic loader) ``ldd`` lists, and the names it did not
    find. The vDSO has no file and is skipped; a static executable lists nothing."""
    found: list[str] = []
    missing: list[str] = []
    for raw in output.splitlines():
        line = raw.strip()
        if "=>" in line:
            name, _, rest = line.partition("=>")
            target = rest.strip().split(" (", 1)[0].strip()
            if target == "not found":
                missing.append(name.strip())
            elif target.startswith("/"):
                found.append(target)
        elif line.startswith("/"):
            found.append(line.split(" (", 1)[0].strip())
    return list(dict.fromkeys(found)), missing


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive", "APT_LISTCHANGES_FRONTEND": "none"}
    return subprocess.run(list(argv), capture_output=True, text=True, check=False, env=env)


def _ldd_run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """``ldd`` without the caller's library path overrides (rustup's proxies set LD_LIBRARY_PATH)."""
    env = {k: v for k, v in os.environ.items() if k not in {"LD_LIBRARY_PATH", "LD_PRELOAD"}}
    return subprocess.run(list(argv), capture_output=True, text=True, check=False, env=env)


def shared_libraries(binary: Path, run: Runner = _ldd_run) -> list[str]:
    """What ``ldd`` lists for ``binary``, or TrackerPackagingError when a library is not found."""
    try:
        result = run(["ldd", str(binary)])
    except OSError as exc:
        raise TrackerPackagingError(
            f"cannot run ldd on {binary}: {exc}", tip="Install libc-bin (it provides `ldd`)."
        ) from exc
    text = result.stdout + result.stderr
    if result.returncode != 0 and "not a dynamic executable" in text:
        return []
    libraries, missing = parse_ldd(result.stdout)
    if result.returncode != 0 or missing:
        raise TrackerPackagingError(
            f"ldd {binary.name}: " + (f"libraries not found: {', '.join(missing)}" if missing else "failed"),
            tip="Install the missing libraries (libssl3, zlib1g) or rebuild with `torrust-deploy artifact build`.",
            detail=text.strip(),
        )
    return libraries


def rootfs_members(
    tracker: Path, health_check: Path, *, run: Runner = _ldd_run, ca_bundle: Path = Path(CA_BUNDLE)
) -> list[Member]:
    """The image's root file system: the two binaries, every library they link (at the host's paths,
    the loader included), CA certificates, passwd/group with the tracker user, its folders, /tmp."""
    if not ca_bundle.is_file():
        raise TrackerPackagingError(
            f"no CA certificates at {ca_bundle}", tip="Install them: `apt-get install ca-certificates`."
        )
    files: dict[str, Member] = {
        BINARY_PATH: Member(BINARY_PATH, "file", 0o755, source=tracker),
        HEALTH_CHECK_BINARY_PATH: Member(HEALTH_CHECK_BINARY_PATH, "file", 0o755, source=health_check),
        CA_BUNDLE: Member(CA_BUNDLE, "file", 0o644, source=ca_bundle),
        "/etc/passwd": Member("/etc/passwd", "file", 0o644, data=PASSWD.encode()),
        "/etc/group": Member("/etc/group", "file", 0o644, data=GROUP.encode()),
    }
    for binary in (tracker, health_check):
        for library in shared_libraries(binary, run):
            mode = stat.S_IMODE(os.stat(library).st_mode) & 0o755
            files.setdefault(library, Member(library, "file", mode, source=Path(library)))
    dirs: dict[str, Member] = {
        "/tmp": Member("/tmp", "dir", 0o1777),
        WORK_DIR: Member(WORK_DIR, "dir", 0o755),
        DATABASE_DIR: Member(DATABASE_DIR, "dir", 0o750, USER_ID, GROUP_ID),
    }
    config_dir = str(PurePosixPath(CONFIG_PATH).parent)
    dirs[config_dir] = Member(config_dir, "dir", 0o750, USER_ID, GROUP_ID)
    for path in [*files, *list(dirs)]:
        for parent in PurePosixPath(path).parents:
            if str(parent) != "/":
                dirs.setdefault(str(parent), Member(str(parent), "dir", 0o755))
    return sorted([*dirs.values(), *files.values()], key=lambda m: PurePosixPath(m.path).parts)


def write_rootfs_tar(members: Iterable[Member], archive: Path) -> None:
    """A flat rootfs tar: numeric owners, fixed mtimes, members in the given order (parents first)."""
    with tarfile.open(archive, "w", format=tarfile.GNU_FORMAT) as tar:
        for member in members:
            info = tarfile.TarInfo(member.path.lstrip("/"))
            info.mode, info.uid, info.gid, info.mtime = member.mode, member.uid, member.gid, TAR_MTIME
            info.uname = info.gname = ""
            if member.kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif member.data is not None:
                info.size = len(member.data)
                tar.addfile(info, io.BytesIO(member.data))
            else:
                assert member.source is not None
                with member.source.open("rb") as f:  # follows symlinks: the file's bytes at the listed path
                    info.size = os.fstat(f.fileno()).st_size
                    tar.addfile(info, f)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ------------------------------------------------------------------------------------------ results


@dataclass(frozen=True)
class TrackerImage:
    """The packaged image: ``docker import -c …docker_import_changes() ARCHIVE TAG`` loads it on a host."""

    archive: Path
    tag: str
    size: int
    sha256: str
    version: str = DEFAULT_TRACKER_VERSION

    @property
    def changes(self) -> list[str]:
        return docker_import_changes()

    def to_dict(self) -> dict[str, Any]:
        return {
            "archive": str(self.archive),
            "tag": self.tag,
            "size": self.size,
            "sha256": self.sha256,
            "version": self.version,
            "changes": self.changes,
        }


@dataclass(frozen=True)
class ArtifactStatus:
    """What the cache holds for one version (``artifact status``); finding it changed nothing."""

    version: str
    cache_dir: Path
    recipe: str
    build_dir: Path | None
    """The complete build for this version and recipe, or None."""
    binaries: dict[str, int] = field(default_factory=dict)
    """Binary name -> size in bytes (empty when not built)."""
    image: TrackerImage | None = None
    build_seconds: float | None = None
    cargo: Path | None = None
    triple: str | None = None

    @property
    def built(self) -> bool:
        return self.build_dir is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "built": self.built,
            "image_built": self.image is not None,
            "cache_dir": str(self.cache_dir),
            "recipe": self.recipe,
            "triple": self.triple,
            "build_dir": str(self.build_dir) if self.build_dir else None,
            "binaries": self.binaries,
            "build_seconds": self.build_seconds,
            "cargo": str(self.cargo) if self.cargo else None,
            "image": self.image.to_dict() if self.image else None,
        }


# ---------------------------------------------------------------------------------- build packages


def missing_debian_packages(names: Sequence[str], run: Runner) -> list[str]:
    """The packages of ``names`` that dpkg does not list as installed, in the given order."""
    try:
        result = run(["dpkg-query", "-W", "-f=${Package} ${db:Status-Abbrev}\n", *names])
    except OSError:
        return list(names)
    installed = {
        line.split()[0].split(":", 1)[0]
        for line in result.stdout.splitlines()
        if len(line.split()) >= 2 and line.split()[1].startswith("ii")
    }
    return [name for name in names if name not in installed]


def install_debian_packages(names: Sequence[str], run: Runner) -> None:
    """``apt-get install`` the packages; on failure refresh the lists once and retry."""
    install = ["apt-get", "install", "-y", "--no-install-recommends", *names]
    result = run(install)
    if result.returncode != 0:
        result = run(["apt-get", "update"])
        if result.returncode == 0:
            result = run(install)
    if result.returncode != 0:
        raise BuildDependenciesError(
            f"could not install {' '.join(names)} with apt-get (exit {result.returncode})",
            tip="Check that apt can reach the Debian mirror (`apt-get update`), then install them by hand.",
            detail=_tail(result.stdout + result.stderr),
        )


# ------------------------------------------------------------------------------------------ the cache


def _no_progress(_: str) -> None:
    return None


def _run_cargo(argv: Sequence[str], env: Mapping[str, str], log: IO[str], on_line: Callable[[str], None]) -> int:
    with subprocess.Popen(
        list(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
        env=dict(env),
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            on_line(line.rstrip("\n"))
        return proc.wait()


def find_cargo() -> Path | None:
    """``cargo`` on PATH, else rustup's default place (``$CARGO_HOME/bin``, ``~/.cargo/bin``)."""
    on_path = shutil.which("cargo")
    if on_path:
        return Path(on_path)
    home = os.environ.get("CARGO_HOME") or str(Path.home() / ".cargo")
    candidate = Path(home) / "bin" / "cargo"
    return candidate if os.access(candidate, os.X_OK) else None


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class TrackerArtifacts:
    """The tracker's binaries and image in the cache, built on a miss (see the module docstring).

    ``progress`` receives one line per step; ``cargo_output``, when given, every line cargo prints (else
    ``progress`` gets a summary every 30 s). ``run``/``run_cargo``/``cargo`` are injected by tests.
    """

    def __init__(
        self,
        cache_root: Path | None = None,
        *,
        progress: Progress | None = None,
        cargo_output: Progress | None = None,
        run: Runner = _run,
        ldd: Runner = _ldd_run,
        run_cargo: CargoRunner = _run_cargo,
        cargo: Path | None = None,
        is_root: bool | None = None,
    ) -> None:
        self.root = cache_root or shared_cache_root() / "tracker"
        self._say = progress or _no_progress
        self._cargo_output = cargo_output
        self._run = run
        self._ldd = ldd
        self._run_cargo = run_cargo
        self._cargo = cargo
        self._is_root = os.geteuid() == 0 if is_root is None else is_root
        self._triple: str | None = None

    @property
    def target_dir(self) -> Path:
        return self.root / "cargo-target"

    # --- lookups (run nothing) ---

    def _complete_builds(self, version: str, recipe: str) -> list[Path]:
        """Complete build folders for this version and recipe, any target."""
        if not self.root.is_dir():
            return []
        suffix = f"-{recipe[:12]}"
        return sorted(
            path
            for path in self.root.glob(f"{version}-*{suffix}")
            if path.is_dir() and (path / _COMPLETE).is_file() and all((path / "bin" / b).is_file() for b in BINS)
        )

    def _cached(self, version: str, recipe: str) -> Path | None:
        """The build to use: the only complete one for this machine's architecture, else the one for rustc's
        host triple (rustc runs only when several targets are cached)."""
        builds = [p for p in self._complete_builds(version, recipe) if p.name[len(version) + 1 :].startswith(_arch())]
        if len(builds) <= 1:
            return builds[0] if builds else None
        triple = self._host_triple_or_none()
        wanted = self.root / build_key(version, triple, recipe) if triple else None
        return wanted if wanted in builds else None

    @staticmethod
    def _image(build_dir: Path) -> TrackerImage | None:
        try:
            data = json.loads((build_dir / _IMAGE_JSON).read_text(encoding="utf-8"))
            archive = build_dir / ARCHIVE_NAME
            if archive.stat().st_size != data["size"]:
                return None
            return TrackerImage(archive, data["tag"], int(data["size"]), str(data["sha256"]), str(data["version"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    # --- tools ---

    def cargo(self) -> Path:
        found = self._cargo or find_cargo()
        if found is None:
            raise CargoNotFoundError(f"cargo is not installed (needed to build {CRATE} from crates.io)")
        return found

    def _rustc(self) -> str:
        cargo = self._cargo or find_cargo()
        beside = cargo.with_name("rustc") if cargo else None
        return str(beside) if beside and os.access(beside, os.X_OK) else "rustc"

    def _host_triple_or_none(self) -> str | None:
        if self._triple is None:
            try:
                result = self._run([self._rustc(), "-vV"])
            except OSError:
                return None
            self._triple = parse_host_triple(result.stdout) if result.returncode == 0 else None
        return self._triple

    def host_triple(self) -> str:
        """The target triple of ``rustc -vV`` (what cargo builds for)."""
        triple = self._host_triple_or_none()
        if triple is None:
            raise CargoNotFoundError("rustc -vV did not run: no Rust toolchain to build the tracker with")
        return triple

    def ensure_build_packages(self) -> list[str]:
        """Install the Debian build dependencies that are missing (as root); returns what was installed."""
        if shutil.which("dpkg-query") is None:
            return []  # not Debian: cargo's own error will say what is missing
        missing = missing_debian_packages(BUILD_PACKAGES, self._run)
        if not missing:
            return []
        if not self._is_root:
            raise BuildDependenciesError(f"missing Debian build dependencies: {' '.join(missing)}")
        self._say(f"installing Debian build dependencies: {' '.join(missing)}")
        install_debian_packages(missing, self._run)
        return missing

    # --- the binaries ---

    def ensure_binaries(self, version: str = DEFAULT_TRACKER_VERSION, *, force: bool = False) -> Path:
        """The folder holding ``torrust-tracker`` and ``http_health_check`` for ``version``; on a miss (or with
        ``force``) cargo builds them into a temporary root that is renamed into the cache when complete."""
        _check_version(version)
        recipe = recipe_hash()
        if not force:
            hit = self._cached(version, recipe)
            if hit is not None:
                return hit / "bin"
        key = build_key(version, self.host_triple(), recipe)
        final = self.root / key
        from filelock import FileLock

        (self.root / ".locks").mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.root / ".locks" / f"{key}.lock")):
            if not force and (final / _COMPLETE).is_file():
                return final / "bin"  # another process built it while this one waited
            self._build(version, key, final)
        return final / "bin"

    def _build(self, version: str, key: str, final: Path) -> None:
        cargo = self.cargo()
        self.ensure_build_packages()
        for stale in self.root.glob(f".build-{key}-*"):  # left by a killed run (this process holds the lock)
            shutil.rmtree(stale, ignore_errors=True)
        work = Path(tempfile.mkdtemp(prefix=f".build-{key}-", dir=self.root))
        try:
            seconds = self._cargo_install(cargo, version, key, work)
            install_root = work / "cargo-root"
            (work / "bin").mkdir()
            for name in BINS:  # copies: cargo hard-links its installs to files in the target dir it rewrites
                if (install_root / "bin" / name).is_file():
                    shutil.copy2(install_root / "bin" / name, work / "bin" / name)
            shutil.rmtree(install_root)
            missing = [b for b in BINS if not os.access(work / "bin" / b, os.X_OK)]
            if missing:
                raise TrackerBuildError(
                    f"cargo install finished but did not install {', '.join(missing)}",
                    trace_path=self._keep_log(work / _CARGO_LOG, key),
                )
            stamp = {
                "version": version,
                "triple": self.host_triple(),
                "recipe": recipe_hash(),
                "rustc": self._rustc_release(),
                "seconds": round(seconds, 1),
                "built_at": int(time.time()),
            }
            (work / _COMPLETE).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
            if final.exists():  # --force: the old build (and its image) goes
                old = self.root / f".old-{key}-{os.getpid()}"
                final.rename(old)
                shutil.rmtree(old, ignore_errors=True)
            work.rename(final)
            (self.root / f"{key}.failed.log").unlink(missing_ok=True)
        finally:
            if work.exists():
                shutil.rmtree(work, ignore_errors=True)

    def _cargo_install(self, cargo: Path, version: str, key: str, work: Path) -> float:
        argv = cargo_install_argv(str(cargo), version, work / "cargo-root")
        env = cargo_environment(self.target_dir)
        env["PATH"] = os.pathsep.join([str(cargo.parent), env.get("PATH", "")])
        log_path = work / _CARGO_LOG
        self._say(
            f"building {CRATE} {version} with cargo into {self.target_dir} "
            f"(cold: ~6 min on 2 cores; with that dir filled: seconds)"
        )
        started = time.monotonic()
        summary = _CargoSummary(self._say, started, quiet=self._cargo_output is not None)
        forward = self._cargo_output or _no_progress

        def on_line(line: str) -> None:
            summary.line(line)
            forward(line)

        with log_path.open("w", encoding="utf-8") as log:
            log.write(
                f"$ {' '.join(argv)}\n# env: {json.dumps(dict(CARGO_PROFILE_ENV))} CARGO_TARGET_DIR={self.target_dir}\n"
            )
            log.flush()
            try:
                code = self._run_cargo(argv, env, log, on_line)
            except OSError as exc:
                raise CargoNotFoundError(f"cannot run {cargo}: {exc}") from exc
        seconds = time.monotonic() - started
        if code != 0:
            kept = self._keep_log(log_path, key)
            output = log_path.read_text(encoding="utf-8", errors="replace")
            raise TrackerBuildError(
                f"cargo install {CRATE}@{version} failed (exit {code}): {_cargo_error_line(output)}",
                tip=(
                    f"Read cargo's log named by Trace: (is {version} a torrust-tracker release on crates.io? a -dev "
                    f"package missing? disk full?), fix the cause, then run "
                    f"`torrust-deploy artifact build --version {version}`."
                ),
                detail=_tail(output),
                trace_path=kept,
            )
        self._say(
            f"cargo finished in {seconds:.1f} s ({summary.compiled} crates compiled); "
            f"log: {self.root / key / _CARGO_LOG}"
        )
        return seconds

    def _keep_log(self, log_path: Path, key: str) -> Path:
        """Copy a failed build's log out of its work folder (which is removed) into the cache."""
        kept = self.root / f"{key}.failed.log"
        shutil.copyfile(log_path, kept)
        return kept

    def _rustc_release(self) -> str | None:
        try:
            result = self._run([self._rustc(), "-V"])
        except OSError:
            return None
        return result.stdout.strip() or None

    # --- the image ---

    def ensure_image(self, version: str = DEFAULT_TRACKER_VERSION, *, force: bool = False) -> TrackerImage:
        """The rootfs tar of ``version`` (binaries built first when missing); a cache hit reads one JSON file."""
        bin_dir = self.ensure_binaries(version, force=force)
        build_dir = bin_dir.parent
        if not force:
            cached = self._image(build_dir)
            if cached is not None:
                return cached
        from filelock import FileLock

        (self.root / ".locks").mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.root / ".locks" / f"{build_dir.name}.lock")):
            cached = None if force else self._image(build_dir)
            return cached or self._package(version, build_dir)

    def _package(self, version: str, build_dir: Path) -> TrackerImage:
        archive = build_dir / ARCHIVE_NAME
        self._say(f"packaging the image's root file system: {archive}")
        members = rootfs_members(build_dir / "bin" / TRACKER_BIN, build_dir / "bin" / HEALTH_CHECK_BIN, run=self._ldd)
        tmp = build_dir / f".{ARCHIVE_NAME}.{os.getpid()}.tmp"
        try:
            write_rootfs_tar(members, tmp)
            image = TrackerImage(archive, image_tag(version), tmp.stat().st_size, sha256_file(tmp), version)
            os.replace(tmp, archive)
        finally:
            tmp.unlink(missing_ok=True)
        record = {k: v for k, v in image.to_dict().items() if k != "archive"}
        _write_atomic(build_dir / _IMAGE_JSON, json.dumps(record, indent=2) + "\n")
        return image

    # --- status ---

    def status(self, version: str = DEFAULT_TRACKER_VERSION) -> ArtifactStatus:
        """What the cache holds for ``version`` (runs ``rustc -vV`` only when several targets are cached)."""
        _check_version(version)
        recipe = recipe_hash()
        build_dir = self._cached(version, recipe)
        cargo = self._cargo or find_cargo()
        if build_dir is None:
            return ArtifactStatus(version, self.root, recipe, None, cargo=cargo)
        stamp: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError):
            stamp = json.loads((build_dir / _COMPLETE).read_text(encoding="utf-8"))
        return ArtifactStatus(
            version,
            self.root,
            recipe,
            build_dir,
            binaries={b: (build_dir / "bin" / b).stat().st_size for b in BINS},
            image=self._image(build_dir),
            build_seconds=stamp.get("seconds"),
            cargo=cargo,
            triple=stamp.get("triple"),
        )


def _arch() -> str:
    return os.uname().machine + "-"


def _cargo_error_line(output: str) -> str:
    """The first ``error…`` line cargo printed (what went wrong), else its last line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("error"):
            return line
    return lines[-1] if lines else "no output"


class _CargoSummary:
    """Turns cargo's lines into a progress line every 30 s (crates compiled so far, the latest one)."""

    def __init__(self, say: Progress, started: float, *, quiet: bool = False) -> None:
        self._say, self._started, self._last_said, self._quiet = say, started, started, quiet
        self.compiled = 0
        self._latest = ""

    def line(self, line: str) -> None:
        words = line.split()
        if len(words) >= 2 and words[0] == "Compiling":
            self.compiled += 1
            self._latest = " ".join(words[1:3])
        now = time.monotonic()
        if not self._quiet and now - self._last_said >= _SUMMARY_EVERY_S:
            self._last_said = now
            self._say(
                f"  cargo: {self.compiled} crates compiled in {now - self._started:.0f} s (latest: {self._latest})"
            )
