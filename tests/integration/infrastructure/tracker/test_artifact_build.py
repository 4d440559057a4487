"""The real tracker artifact: the cached cargo build (built here under CI when missing, ~6 min cold) and its
rootfs tar, whose tracker runs — extracted and started in a chroot as the image's user when the tests run as
root, else the cached binary itself — on free loopback ports and answers its health check."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tarfile
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO

import pytest

from orchestrator.domain.tracker import DEFAULT_TRACKER_VERSION
from orchestrator.infrastructure.tracker.artifact import (
    BINS,
    TrackerArtifacts,
    TrackerImage,
    find_cargo,
    parse_ldd,
    sha256_file,
)
from orchestrator.infrastructure.tracker.container import (
    BINARY_PATH,
    CONFIG_ENV_VAR,
    CONFIG_PATH,
    DATABASE_DIR,
    GROUP_ID,
    HEALTH_CHECK_BINARY_PATH,
    USER_ID,
)
from tests.support.ci import skip_unless_ci_fails

pytestmark = pytest.mark.integration
CHROOT = shutil.which("chroot") or "/usr/sbin/chroot"


@pytest.fixture(scope="module")
def image() -> TrackerImage:
    artifacts = TrackerArtifacts(progress=lambda line: print(line, flush=True))
    if not artifacts.status(DEFAULT_TRACKER_VERSION).built and find_cargo() is None:
        skip_unless_ci_fails(
            "no cached tracker build and no cargo to build one (scripts/setup.sh runs `torrust-deploy artifact ensure`)"
        )
    return artifacts.ensure_image(DEFAULT_TRACKER_VERSION)


def _free_port(kind: socket.SocketKind) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _config(database: str, ports: Mapping[str, int]) -> str:
    return f"""\
[metadata]
schema_version = "2.0.0"

[logging]
threshold = "info"

[core]
listed = false
private = false

[core.database]
driver = "sqlite3"
path = "{database}"

[[udp_trackers]]
bind_address = "127.0.0.1:{ports["udp"]}"

[[http_trackers]]
bind_address = "127.0.0.1:{ports["http"]}"

[http_api]
bind_address = "127.0.0.1:{ports["api"]}"

[http_api.access_tokens]
admin = "integration-test-token"

[health_check_api]
bind_address = "127.0.0.1:{ports["health"]}"
"""


def _health(port: int, timeout_s: float = 30.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health_check", timeout=2) as response:
                document: dict[str, object] = json.loads(response.read())
                if document.get("status") == "Ok" or time.monotonic() > deadline:
                    return document
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGINT: the tracker ignores SIGTERM."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Tracker:
    """A running tracker and how to run a program beside it (in the same root, as the same user)."""

    def __init__(self, argv_prefix: Sequence[str], root: Path | None, health_port: int, log: IO[bytes]) -> None:
        self.argv_prefix, self.root, self.health_port, self.log = list(argv_prefix), root, health_port, log

    def binary(self, image_path: str, cached: Path) -> list[str]:
        return [*self.argv_prefix, image_path] if self.root else [str(cached)]


@pytest.fixture(scope="module")
def tracker(image: TrackerImage, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tracker]:
    work = tmp_path_factory.mktemp("tracker")
    ports = {
        "udp": _free_port(socket.SOCK_DGRAM),
        "http": _free_port(socket.SOCK_STREAM),
        "api": _free_port(socket.SOCK_STREAM),
        "health": _free_port(socket.SOCK_STREAM),
    }
    env = {"PATH": "/usr/bin:/bin"}
    if os.geteuid() == 0 and os.access(CHROOT, os.X_OK):
        root: Path | None = work / "rootfs"
        assert root is not None
        with tarfile.open(image.archive) as tar:
            tar.extractall(root, numeric_owner=True, filter="fully_trusted")
        (root / CONFIG_PATH.lstrip("/")).write_text(_config(f"{DATABASE_DIR}/sqlite3.db", ports), encoding="utf-8")
        prefix = [CHROOT, f"--userspec={USER_ID}:{GROUP_ID}", str(root)]
        argv = [*prefix, BINARY_PATH]
        env[CONFIG_ENV_VAR] = CONFIG_PATH
    else:  # the cached binary itself, with the host's libraries
        root, prefix = None, []
        config = work / "tracker.toml"
        config.write_text(_config(str(work / "sqlite3.db"), ports), encoding="utf-8")
        argv = [str(image.archive.parent / "bin" / "torrust-tracker")]
        env[CONFIG_ENV_VAR] = str(config)
    log = (work / "tracker.log").open("wb")
    process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        yield Tracker(prefix, root, ports["health"], log)
    finally:
        _stop(process)
        log.close()


def test_the_cached_binaries_are_stripped_release_builds(image: TrackerImage) -> None:
    bin_dir = image.archive.parent / "bin"
    for name in BINS:
        described = subprocess.run(["file", "-b", str(bin_dir / name)], capture_output=True, text=True, check=False)
        if described.returncode == 0:
            assert "ELF" in described.stdout
            assert "not stripped" not in described.stdout, name
    assert (bin_dir / "torrust-tracker").stat().st_size < 40_000_000  # debug info off, symbols stripped


def test_the_tar_holds_every_library_the_tracker_links(image: TrackerImage) -> None:
    binary = image.archive.parent / "bin" / "torrust-tracker"
    ldd = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True, env={"PATH": "/usr/bin"})
    libraries, missing = parse_ldd(ldd.stdout)

    assert missing == []
    with tarfile.open(image.archive) as tar:
        names = set(tar.getnames())
    assert {BINARY_PATH.lstrip("/"), HEALTH_CHECK_BINARY_PATH.lstrip("/")} <= names
    assert {library.lstrip("/") for library in libraries} <= names
    assert any("libssl" in library for library in libraries)
    assert image.sha256 == sha256_file(image.archive)
    assert image.size == image.archive.stat().st_size


def test_the_images_tracker_answers_its_health_check(tracker: Tracker) -> None:
    document = _health(tracker.health_port)

    assert document["status"] == "Ok", document
    details = document.get("details")
    assert isinstance(details, list)
    assert len(details) == 3  # the UDP tracker, the HTTP tracker and the API all answered


def test_the_images_health_check_client_reports_ok(tracker: Tracker, image: TrackerImage) -> None:
    _health(tracker.health_port)
    client = tracker.binary(HEALTH_CHECK_BINARY_PATH, image.archive.parent / "bin" / "http_health_check")

    result = subprocess.run(
        [*client, f"http://127.0.0.1:{tracker.health_port}/health_check"],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_tracker_writes_its_database_as_the_images_user(tracker: Tracker) -> None:
    if tracker.root is None:
        pytest.skip("the chroot run needs root")
    _health(tracker.health_port)
    database = tracker.root / DATABASE_DIR.lstrip("/") / "sqlite3.db"

    assert database.is_file()
    assert (database.stat().st_uid, database.stat().st_gid) == (USER_ID, GROUP_ID)


def test_a_second_ensure_is_a_cache_hit_that_runs_nothing(image: TrackerImage) -> None:
    def no_command(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        raise AssertionError(f"a cache hit ran {argv}")

    def no_cargo(argv: Sequence[str], env: Mapping[str, str], log: IO[str], on_line: object) -> int:
        raise AssertionError("a cache hit ran cargo")

    started = time.monotonic()
    again = TrackerArtifacts(image.archive.parent.parent, run=no_command, ldd=no_command, run_cargo=no_cargo)
    found = again.ensure_image(DEFAULT_TRACKER_VERSION)

    assert found == image
    assert time.monotonic() - started < 0.5
