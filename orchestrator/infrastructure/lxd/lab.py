"""The local LXD lab: the product's embedded default target.

``Lab(settings).up()`` takes a Debian machine (root, no systemd needed) to a ready LXD host and is
idempotent: it installs the Debian packages that are missing, starts ``lxcfs`` and the ``lxd``
daemon when they aren't running (recording the PIDs of what it started), applies the preseed when
the daemon's bridge / storage pool / default profile differ from the settings, and makes sure the
image alias points at the image built from the current recipe. ``down()`` stops only what ``up()``
started. ``status()`` reports all of it without changing anything.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.infrastructure.lxd.errors import (
    DaemonNotRunningError,
    DaemonStartError,
    ImageImportError,
    LabError,
    LxdConfigurationError,
    NotRootError,
    tail,
)
from orchestrator.infrastructure.lxd.image import (
    ImageBuild,
    ImageRecipe,
    ensure_image_tarball,
    lookup_cached,
)
from orchestrator.infrastructure.lxd.packages import REQUIRED_PACKAGES, ensure_packages, missing_packages
from orchestrator.infrastructure.lxd.preseed import (
    LxdSnapshot,
    needed_changes,
    network_problem,
    parse_ipv4_address,
    render_preseed,
)
from orchestrator.infrastructure.lxd.processes import (
    PidRecord,
    PidStore,
    find_daemons,
    start_detached,
    terminate,
    wait_gone,
)
from orchestrator.infrastructure.lxd.settings import (
    DEFAULT_BRIDGE,
    DEFAULT_IMAGE_ALIAS,
    LXCFS_DIR,
    LabSettings,
)

__all__ = [
    "DEFAULT_BRIDGE",
    "DEFAULT_IMAGE_ALIAS",
    "DaemonStatus",
    "ImageResult",
    "Lab",
    "LabDown",
    "LabError",
    "LabSettings",
    "LabStatus",
]

Progress = Callable[[str], None]

DAEMON_READY_TIMEOUT = 120.0
_DAEMON_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _quiet(_: str) -> None:
    return None


# ------------------------------------------------------------------------------------------ results


@dataclass(frozen=True)
class DaemonStatus:
    """One daemon: whether it runs, its PID, and whether the lab started it."""

    program: str
    running: bool
    pid: int | None = None
    started_by_lab: bool = False
    log: str | None = None

    @property
    def who(self) -> str:
        if not self.running:
            return "not running"
        return "started by the lab" if self.started_by_lab else "started outside the lab"


@dataclass(frozen=True)
class LabStatus:
    """Everything ``lab status`` reports. Equal values mean an unchanged lab."""

    settings: LabSettings
    missing_packages: tuple[str, ...]
    lxcfs: DaemonStatus
    lxd: DaemonStatus
    bridge_exists: bool
    bridge_ipv4_address: str | None
    storage_pool_driver: str | None
    image_fingerprint: str | None
    cached_image: Path | None
    cached_fingerprint: str | None
    #: What is not in place, in words; empty when the lab is ready.
    problems: tuple[str, ...] = ()

    @property
    def ready(self) -> bool:
        return not self.problems

    @property
    def bridge(self) -> str:
        return self.settings.bridge

    @property
    def storage_pool(self) -> str:
        return self.settings.storage_pool

    @property
    def image_alias(self) -> str:
        return self.settings.image_alias

    @property
    def subnet(self) -> str:
        return str(parse_ipv4_address(self.settings.ipv4_address).network)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready document (paths as strings)."""
        return {
            "ready": self.ready,
            "problems": list(self.problems),
            "settings": {k: str(v) for k, v in asdict(self.settings).items()},
            "packages": {"required": list(REQUIRED_PACKAGES), "missing": list(self.missing_packages)},
            "daemons": {
                "lxcfs": asdict(self.lxcfs),
                "lxd": asdict(self.lxd),
            },
            "bridge": {
                "name": self.bridge,
                "exists": self.bridge_exists,
                "ipv4_address": self.bridge_ipv4_address,
            },
            "storage_pool": {"name": self.storage_pool, "driver": self.storage_pool_driver},
            "image": {
                "alias": self.image_alias,
                "fingerprint": self.image_fingerprint,
                "cached_tarball": str(self.cached_image) if self.cached_image else None,
                "cached_fingerprint": self.cached_fingerprint,
            },
        }


@dataclass(frozen=True)
class LabDown:
    """What ``down()`` stopped and what it left running because the lab didn't start it."""

    stopped: tuple[str, ...] = ()
    left_running: tuple[str, ...] = ()


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


# --------------------------------------------------------------------------------------- LXD access


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("lxd", timeout=timeout)
        self._path = str(path)

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


def lxd_answers(socket_path: Path, timeout: float = 3.0) -> bool:
    """Whether an LXD daemon answers ``GET /1.0`` on its unix socket."""
    if not socket_path.exists():
        return False
    conn = _UnixHTTPConnection(socket_path, timeout)
    try:
        conn.request("GET", "/1.0")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def _is_lxcfs_mounted(mount_point: Path = LXCFS_DIR) -> bool:
    try:
        lines = Path("/proc/self/mountinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        return False
    target = str(mount_point)
    for line in lines:
        left, _, right = line.partition(" - ")
        fields = left.split()
        if len(fields) >= 5 and fields[4] == target and right.split()[:1] == ["fuse.lxcfs"]:
            return True
    return False


class _Lxd:
    """The few LXD API calls the lab makes (pylxd, imported lazily)."""

    def __init__(self, socket_path: Path) -> None:
        import pylxd

        self.exceptions = pylxd.exceptions
        try:
            self.client = pylxd.Client(endpoint=str(socket_path))
        except pylxd.exceptions.ClientConnectionFailed as exc:
            raise DaemonNotRunningError(f"cannot talk to LXD at {socket_path}: {exc}") from exc

    @property
    def errors(self) -> tuple[type[BaseException], ...]:
        return (self.exceptions.LXDAPIException, OSError)

    def _get(self, node: Any) -> dict[str, Any] | None:
        try:
            metadata: dict[str, Any] = node.get().json()["metadata"]
        except self.exceptions.NotFound:
            return None
        return metadata

    def snapshot(self, settings: LabSettings) -> LxdSnapshot:
        server = self._get(self.client.api) or {}
        network = self._get(self.client.api.networks[settings.bridge])
        pool = self._get(self.client.api["storage-pools"][settings.storage_pool])
        profile = self._get(self.client.api.profiles["default"])
        return LxdSnapshot(
            server_config={k: str(v) for k, v in (server.get("config") or {}).items()},
            network=network,
            storage_pool_driver=str(pool["driver"]) if pool else None,
            default_profile_devices=dict(profile.get("devices") or {}) if profile else None,
        )

    def alias_target(self, alias: str) -> str | None:
        meta = self._get(self.client.api.images.aliases[alias])
        return str(meta["target"]) if meta else None

    def image(self, fingerprint: str) -> dict[str, Any] | None:
        return self._get(self.client.api.images[fingerprint])

    def import_image(self, tarball: Path) -> str:
        with tarball.open("rb") as data:
            response = self.client.api.images.post(data=data)
        operation = self.client.operations.wait_for_operation(response.json()["operation"])
        return str(operation.metadata["fingerprint"])

    def point_alias(self, alias: str, fingerprint: str, exists: bool) -> None:
        description = "torrust-deploy lab base image"
        if exists:
            self.client.api.images.aliases[alias].put(json={"target": fingerprint, "description": description})
        else:
            self.client.api.images.aliases.post(json={"name": alias, "target": fingerprint, "description": description})

    def delete_image(self, fingerprint: str) -> None:
        response = self.client.api.images[fingerprint].delete()
        self.client.operations.wait_for_operation(response.json()["operation"])


# --------------------------------------------------------------------------------------------- lab


class Lab:
    """The local LXD lab. Every method is safe to call again; ``status`` changes nothing."""

    def __init__(self, settings: LabSettings | None = None) -> None:
        self.settings = settings or LabSettings()
        self.pids = PidStore(self.settings.state_dir)

    @property
    def recipe(self) -> ImageRecipe:
        return ImageRecipe(suite=self.settings.suite, mirror=self.settings.mirror)

    # -------------------------------------------------------------------------------------- status

    def status(self) -> LabStatus:
        """What is in place now. Changes nothing; works without root (then the daemon looks absent)."""
        s = self.settings
        problems: list[str] = []
        missing = tuple(missing_packages(REQUIRED_PACKAGES))
        if missing:
            problems.append(f"Debian packages missing: {' '.join(missing)}")
        lxcfs = self._daemon_status("lxcfs", running=_is_lxcfs_mounted())
        if not lxcfs.running:
            problems.append(f"lxcfs is not mounted on {LXCFS_DIR}")
        lxd = self._daemon_status("lxd", running=lxd_answers(s.socket_path))
        cached = lookup_cached(self.recipe, s.cache_dir)
        snapshot: LxdSnapshot | None = None
        alias_target: str | None = None
        if cached is None:
            problems.append("no image built from the current recipe in the cache")
        if lxd.running:
            try:
                api = _Lxd(s.socket_path)
                snapshot = api.snapshot(s)
                alias_target = api.alias_target(s.image_alias)
            except DaemonNotRunningError:
                lxd = DaemonStatus("lxd", running=False)
        if not lxd.running or snapshot is None:
            problems.append(f"the LXD daemon does not answer on {s.socket_path}")
        else:
            problems.extend(needed_changes(snapshot, s))
            if alias_target is None:
                problems.append(f"image alias {s.image_alias} does not exist")
            elif cached is not None and alias_target != cached.fingerprint:
                problems.append(f"image alias {s.image_alias} points at an image of another recipe")
        network = snapshot.network if snapshot else None
        return LabStatus(
            settings=s,
            missing_packages=missing,
            lxcfs=lxcfs,
            lxd=lxd,
            bridge_exists=network is not None,
            bridge_ipv4_address=str((network.get("config") or {}).get("ipv4.address")) if network else None,
            storage_pool_driver=snapshot.storage_pool_driver if snapshot else None,
            image_fingerprint=alias_target,
            cached_image=cached.path if cached else None,
            cached_fingerprint=cached.fingerprint if cached else None,
            problems=tuple(problems),
        )

    def _daemon_status(self, program: str, *, running: bool) -> DaemonStatus:
        owned = self.pids.owned(program)
        if owned is not None:
            log = self.settings.state_dir / ("lxd.log" if program == "lxd" else f"{program}.log")
            return DaemonStatus(program, running=running, pid=owned.pid, started_by_lab=True, log=str(log))
        if not running:
            return DaemonStatus(program, running=False)
        others = find_daemons(program)
        return DaemonStatus(program, running=True, pid=others[0].pid if others else None)

    # ------------------------------------------------------------------------------------------ up

    def up(self, progress: Progress | None = None) -> LabStatus:
        """Bring the lab up (idempotent) and return its status."""
        say = progress or _quiet
        _require_root("lab up")
        parse_ipv4_address(self.settings.ipv4_address)
        with self._lock():
            with _step(say, "[1/5] Debian packages") as done:
                installed = ensure_packages(say)
                done(f"installed {' '.join(installed)}" if installed else "present")
            with _step(say, "[2/5] lxcfs") as done:
                done(self._ensure_lxcfs(say))
            with _step(say, "[3/5] LXD daemon") as done:
                done(self._ensure_lxd(say))
            with _step(say, "[4/5] bridge, storage pool, profile") as done:
                done(self._ensure_preseed(say))
            with _step(say, "[5/5] image") as done:
                result = self._ensure_image(force=False, say=say)
                done(_describe_image(result))
        status = self.status()
        if not status.ready:
            raise LabError(
                "the lab is still not ready after `up`: " + "; ".join(status.problems),
                tip="Run `torrust-deploy lab status` and read the daemon log under " + str(self.settings.state_dir),
            )
        return status

    @contextmanager
    def _lock(self) -> Iterator[None]:
        from filelock import FileLock, Timeout

        self.settings.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock = FileLock(str(self.settings.state_dir / "lab.lock"))
        try:
            lock.acquire(timeout=600)
        except Timeout as exc:
            raise LabError(
                "another `lab` command holds the lab lock",
                tip=f"Wait for it to finish (lock file {lock.lock_file}).",
            ) from exc
        try:
            yield
        finally:
            lock.release()

    def _ensure_lxcfs(self, say: Progress) -> str:
        if _is_lxcfs_mounted():
            status = self._daemon_status("lxcfs", running=True)
            return f"running, pid {status.pid} ({status.who})"
        self.pids.forget("lxcfs")
        LXCFS_DIR.mkdir(parents=True, exist_ok=True)
        # A dead lxcfs leaves a broken FUSE mount behind ("Transport endpoint is not connected").
        subprocess.run(["umount", "-l", str(LXCFS_DIR)], capture_output=True, check=False)
        log = self.settings.state_dir / "lxcfs.log"
        say(f"starting lxcfs {LXCFS_DIR} (log {log})")
        record = start_detached(["lxcfs", str(LXCFS_DIR)], log, env=_daemon_env())
        self.pids.save(record)
        deadline = time.monotonic() + 15
        while not _is_lxcfs_mounted():
            if wait_gone(record, 0) or time.monotonic() > deadline:
                self.pids.forget("lxcfs")
                raise DaemonStartError(f"lxcfs did not come up (log {log})", detail=_log_tail(Path(record.log)))
            time.sleep(0.2)
        return f"started, pid {record.pid}"

    def _ensure_lxd(self, say: Progress) -> str:
        s = self.settings
        if lxd_answers(s.socket_path):
            self._wait_ready(None)
            status = self._daemon_status("lxd", running=True)
            return f"running, pid {status.pid} ({status.who})"
        if self.pids.owned("lxd") is None:
            self.pids.forget("lxd")
        starting = find_daemons("lxd")
        if starting:
            say(f"an lxd daemon (pid {starting[0].pid}) runs but doesn't answer yet; waiting")
            self._wait_ready(None)
            return f"running, pid {starting[0].pid} (started outside the lab)"
        logfile = s.state_dir / "lxd.log"
        argv = ["lxd", f"--logfile={logfile}"]
        if _group_exists("lxd"):
            argv[1:1] = ["--group", "lxd"]
        say(f"starting {' '.join(argv)}")
        record = start_detached(argv, s.state_dir / "lxd.out", env=_daemon_env(s.lxd_dir))
        self.pids.save(record)
        self._wait_ready(record)
        return f"started, pid {record.pid}"

    def _wait_ready(self, record: PidRecord | None) -> None:
        """``lxd waitready`` in short rounds, failing early when the daemon we started died."""
        s = self.settings
        deadline = time.monotonic() + DAEMON_READY_TIMEOUT
        while True:
            if self._waitready(5):
                return
            died = record is not None and wait_gone(record, 0)
            if died or time.monotonic() > deadline:
                if record is not None:
                    self.pids.forget("lxd")
                what = "exited" if died else f"did not become ready within {DAEMON_READY_TIMEOUT:.0f} s"
                logs = [Path(record.log), s.state_dir / "lxd.log"] if record else [s.state_dir / "lxd.log"]
                raise DaemonStartError(
                    f"the LXD daemon {what} (log {s.state_dir / 'lxd.log'})",
                    detail="\n".join(_log_tail(p) for p in logs if p.exists()),
                )

    def _waitready(self, timeout: int) -> bool:
        """One round of ``lxd waitready``: True once the daemon says it is ready."""
        try:
            result = subprocess.run(
                ["lxd", "waitready", f"--timeout={timeout}"],
                capture_output=True,
                text=True,
                env=_daemon_env(self.settings.lxd_dir),
                check=False,
                timeout=timeout + 10,
            )
        except (OSError, subprocess.TimeoutExpired):
            time.sleep(1)
            return False
        return result.returncode == 0

    def _ensure_preseed(self, say: Progress) -> str:
        s = self.settings
        api = _Lxd(s.socket_path)
        snapshot = api.snapshot(s)
        problem = network_problem(snapshot, s)
        if problem:
            raise LxdConfigurationError(
                problem,
                tip=f"Choose another bridge name with `--bridge`, or remove the interface {s.bridge}.",
            )
        changes = needed_changes(snapshot, s)
        if not changes:
            return f"{s.bridge} {s.ipv4_address}, pool {s.storage_pool}: unchanged"
        for change in changes:
            say(f"  {change}")
        preseed = render_preseed(s, include_storage_pool=snapshot.storage_pool_driver is None)
        result = subprocess.run(
            ["lxd", "init", "--preseed"],
            input=preseed,
            capture_output=True,
            text=True,
            env=_daemon_env(s.lxd_dir),
            check=False,
        )
        if result.returncode != 0:
            raise LxdConfigurationError(
                f"`lxd init --preseed` failed (exit {result.returncode})",
                detail=tail(result.stdout + result.stderr) + "\n--- preseed ---\n" + preseed,
            )
        remaining = needed_changes(api.snapshot(s), s)
        if remaining:
            raise LxdConfigurationError("the preseed did not take: " + "; ".join(remaining))
        return f"{s.bridge} {s.ipv4_address}, pool {s.storage_pool}: applied ({len(changes)} changes)"

    # --------------------------------------------------------------------------------------- image

    def build_image(self, force: bool = False, progress: Progress | None = None) -> ImageResult:
        """Build the image tarball if the cache lacks it (or always, with ``force``), then import it
        under the alias when the daemon answers."""
        _require_root("lab image build")
        say = progress or _quiet
        with self._lock():
            return self._ensure_image(force=force, say=say, import_required=False)

    def _ensure_image(self, *, force: bool, say: Progress, import_required: bool = True) -> ImageResult:
        s = self.settings
        cached = None if force else lookup_cached(self.recipe, s.cache_dir)
        if cached is not None:
            build = ImageBuild(cached, built=False, seconds=0.0)
        else:
            say(f"building the {s.suite} image (debootstrap; about a minute)")
            build = ensure_image_tarball(self.recipe, s.cache_dir, force=force, progress=lambda m: say("  " + m))
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
        api = _Lxd(s.socket_path)
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

    # ---------------------------------------------------------------------------------------- down

    def down(self, progress: Progress | None = None) -> LabDown:
        """Stop the daemons this lab started (by recorded PID); leave any other daemon alone."""
        _require_root("lab down")
        say = progress or _quiet
        stopped: list[str] = []
        left: list[str] = []
        with self._lock():
            record = self.pids.load("lxd")
            if record is not None and self.pids.owned("lxd") is not None:
                say(f"stopping lxd (pid {record.pid}): lxd shutdown")
                subprocess.run(
                    ["lxd", "shutdown", "--timeout=60"],
                    capture_output=True,
                    env=_daemon_env(self.settings.lxd_dir),
                    check=False,
                    timeout=90,
                )
                if not wait_gone(record, 30) and not terminate(record):
                    raise LabError(
                        f"lxd (pid {record.pid}) did not stop",
                        tip=f"Stop it by hand: `kill {record.pid}`.",
                    )
                stopped.append(f"lxd (pid {record.pid})")
            self.pids.forget("lxd")
            left.extend(f"lxd (pid {p.pid}), not started by the lab" for p in find_daemons("lxd"))

            record = self.pids.load("lxcfs")
            if record is not None and self.pids.owned("lxcfs") is not None:
                if left:
                    left.append(f"lxcfs (pid {record.pid}): kept for the LXD daemon that still runs")
                else:
                    say(f"stopping lxcfs (pid {record.pid})")
                    if not terminate(record):
                        raise LabError(
                            f"lxcfs (pid {record.pid}) did not stop",
                            tip=f"Stop it by hand: `kill {record.pid}`.",
                        )
                    if _is_lxcfs_mounted():
                        subprocess.run(["umount", "-l", str(LXCFS_DIR)], capture_output=True, check=False)
                    stopped.append(f"lxcfs (pid {record.pid})")
                    self.pids.forget("lxcfs")
            else:
                self.pids.forget("lxcfs")
                left.extend(f"lxcfs (pid {p.pid}), not started by the lab" for p in find_daemons("lxcfs"))
        return LabDown(stopped=tuple(stopped), left_running=tuple(left))


# ------------------------------------------------------------------------------------------ helpers


def _require_root(command: str) -> None:
    if os.geteuid() != 0:
        raise NotRootError(f"`{command}` must run as root (it installs packages and starts daemons)")


def _group_exists(name: str) -> bool:
    import grp

    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def _daemon_env(lxd_dir: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = _DAEMON_PATH + (":" + env["PATH"] if env.get("PATH") else "")
    if lxd_dir is not None and lxd_dir != Path("/var/lib/lxd"):
        env["LXD_DIR"] = str(lxd_dir)
    return env


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"(no log at {path})"
    return f"--- {path} ---\n" + tail(text, lines)


def _describe_image(result: ImageResult) -> str:
    parts = [f"{result.alias} -> {result.fingerprint[:12]}"]
    parts.append(f"built in {result.build_seconds:.1f} s" if result.built else "cached")
    if result.imported:
        parts.append("imported")
    elif result.note:
        parts.append(result.note)
    return ", ".join(parts)


@contextmanager
def _step(say: Progress, title: str) -> Iterator[Callable[[str], None]]:
    started = time.monotonic()
    outcome: list[str] = []
    yield outcome.append
    detail = outcome[-1] if outcome else "done"
    say(f"{title} … {detail} ({time.monotonic() - started:.1f} s)")
