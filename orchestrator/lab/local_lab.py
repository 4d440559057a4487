"""The local LXD lab: the product's embedded default target.

``Lab(settings).up()`` takes a Debian machine (root, no systemd needed) to a ready LXD host and is
idempotent: it installs the Debian packages that are missing (:mod:`.packages`), starts ``lxcfs`` and
the ``lxd`` daemon when they aren't running, recording the PIDs of what it started (:mod:`.daemons`),
applies the preseed when the daemon's bridge / storage pool / default profile differ from the
settings (:mod:`.preseed`; a new pool is btrfs where the kernel has it, see :mod:`.storage`), makes sure
the image alias points at the image built from the current recipe (:mod:`.image`, :mod:`.image_import`),
and has that image unpacked on a copy-on-write pool, so every instance is a snapshot of it.
``down()`` stops only what ``up()`` started.
``status()`` reports all of it without changing anything (:mod:`.status`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from orchestrator.lab.daemons import Daemons, DaemonStatus, LabDown
from orchestrator.lab.errors import LabError, NotRootError
from orchestrator.lab.image import ImageRecipe
from orchestrator.lab.image_import import ImageResult, describe_image, ensure_image
from orchestrator.lab.lxd_api import LxdApi
from orchestrator.lab.packages import ensure_packages
from orchestrator.lab.preseed import ensure_preseed, parse_ipv4_address
from orchestrator.lab.processes import PidStore
from orchestrator.lab.settings import DEFAULT_BRIDGE, DEFAULT_IMAGE_ALIAS, LabSettings
from orchestrator.lab.status import LabStatus, read_status
from orchestrator.lab.storage import ensure_image_volume, kernel_has_btrfs, packages_for, resolved

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


def _quiet(_: str) -> None:
    return None


class Lab:
    """The local LXD lab. Every method is safe to call again; ``status`` changes nothing."""

    def __init__(self, settings: LabSettings | None = None) -> None:
        self.settings = settings or LabSettings()
        self.pids = PidStore(self.settings.state_dir)
        self.daemons = Daemons(self.settings, self.pids)

    @property
    def recipe(self) -> ImageRecipe:
        return ImageRecipe(suite=self.settings.suite, mirror=self.settings.mirror)

    def status(self) -> LabStatus:
        """What is in place now. Changes nothing; works without root (then the daemon looks absent)."""
        return read_status(self.settings, self.daemons, self.recipe)

    def up(self, progress: Progress | None = None) -> LabStatus:
        """Bring the lab up (idempotent) and return its status."""
        say = progress or _quiet
        _require_root("lab up")
        parse_ipv4_address(self.settings.ipv4_address)
        btrfs = kernel_has_btrfs()
        with self._lock():
            with _step(say, "[1/6] Debian packages") as done:
                installed = ensure_packages(say, extra=packages_for(self.settings, btrfs))
                done(f"installed {' '.join(installed)}" if installed else "present")
            with _step(say, "[2/6] lxcfs") as done:
                done(self.daemons.ensure_lxcfs(say))
            with _step(say, "[3/6] LXD daemon") as done:
                done(self.daemons.ensure_lxd(say))
            with _step(say, "[4/6] bridge, storage pool, profile") as done:
                done(ensure_preseed(self.settings, say, btrfs=btrfs))
            with _step(say, "[5/6] image") as done:
                result = ensure_image(self.recipe, self.settings, force=False, say=say)
                done(describe_image(result))
            with _step(say, "[6/6] image on the storage pool") as done:
                api = LxdApi(self.settings.socket_path)
                snapshot = api.snapshot(self.settings)
                pool_settings = resolved(self.settings, snapshot)
                done(ensure_image_volume(api, pool_settings, snapshot.storage_pool_driver, result.fingerprint, say))
        status = self.status()
        if not status.ready:
            raise LabError(
                "the lab is still not ready after `up`: " + "; ".join(status.problems),
                tip="Run `torrust-deploy lab status` and read the daemon log under " + str(self.settings.state_dir),
            )
        return status

    def build_image(self, force: bool = False, progress: Progress | None = None) -> ImageResult:
        """Build the image tarball if the cache lacks it (or always, with ``force``), then import it
        under the alias when the daemon answers."""
        _require_root("lab image build")
        say = progress or _quiet
        with self._lock():
            return ensure_image(self.recipe, self.settings, force=force, say=say, import_required=False)

    def down(self, progress: Progress | None = None) -> LabDown:
        """Stop the daemons this lab started (by recorded PID); leave any other daemon alone."""
        _require_root("lab down")
        say = progress or _quiet
        with self._lock():
            return self.daemons.stop(say)

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


def _require_root(command: str) -> None:
    if os.geteuid() != 0:
        raise NotRootError(f"`{command}` must run as root (it installs packages and starts daemons)")


@contextmanager
def _step(say: Progress, title: str) -> Iterator[Callable[[str], None]]:
    started = time.monotonic()
    outcome: list[str] = []
    yield outcome.append
    detail = outcome[-1] if outcome else "done"
    say(f"{title} … {detail} ({time.monotonic() - started:.1f} s)")
