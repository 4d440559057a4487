"""The real Torrust Tracker on loopback for integration tests: a process with its own TOML, ports and database.

    with running_tracker(tracker_binary(), tmp_path, interval_s=77) as tracker:
        run_checks(tracker.host, tracker.settings, tracker.token)

The binary comes from the product's artifact cache (`TrackerArtifacts`, built with cargo from crates.io) and
from nowhere else. When it cannot be had the test skips, or fails under CI. Fixtures: `tracker_process` (one
tracker per test, default settings) and `tracker_factory` (start trackers with other settings), for a conftest
(`from tests.support.tracker_process import tracker_factory, tracker_process  # noqa: F401`); a test module
that wants its own fixture wraps `tracker_launcher(tmp_path)`.

The tracker ignores SIGTERM: it is stopped with SIGINT (and killed if it has not exited 10 s later).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest

from orchestrator.domain.tracker import DEFAULT_TRACKER_VERSION, TrackerSettings
from tests.support.ci import in_ci, skip_unless_ci_fails

HOST = "127.0.0.1"
CONFIG_ENV_VAR = "TORRUST_TRACKER_CONFIG_TOML_PATH"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
_START_ATTEMPTS = 3
"""Free ports are picked by binding port 0 and closing: another process may take one before the tracker binds."""


class TrackerStartError(Exception):
    """The tracker exited or did not pass its health check in time; the message ends with its log's tail."""


@dataclass(frozen=True)
class TrackerProcess:
    """A running tracker: where it listens, its admin token, its files."""

    host: str
    udp_port: int
    http_port: int
    api_port: int
    health_check_port: int
    token: str
    interval_s: int
    interval_min_s: int
    private: bool
    pid: int
    config_path: Path
    database_path: Path
    log_path: Path

    @property
    def settings(self) -> TrackerSettings:
        """The domain's view of this tracker (what `run_checks` takes)."""
        return TrackerSettings(
            udp_ports=() if self.private else (self.udp_port,),  # a private tracker serves no UDP
            http_ports=(self.http_port,),
            api_port=self.api_port,
            health_check_port=self.health_check_port,
            announce_interval_s=self.interval_s,
            private=self.private,
            reserved_ports=(),
        )

    @property
    def udp_announce_url(self) -> str:
        return f"udp://{self.host}:{self.udp_port}/announce"

    @property
    def http_announce_url(self) -> str:
        return f"http://{self.host}:{self.http_port}/announce"

    def generate_key(self, seconds_valid: int = 600) -> str:
        """A new authentication key from the REST API (`POST /api/v1/key/SECONDS`), for a private tracker."""
        connection = http.client.HTTPConnection(self.host, self.api_port, timeout=5)
        try:
            connection.request("POST", f"/api/v1/key/{seconds_valid}?token={urllib.parse.quote(self.token)}")
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        if response.status != 200:
            raise TrackerStartError(f"POST /api/v1/key answered HTTP {response.status}: {body[:200]!r}")
        return str(json.loads(body)["key"])

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def tracker_binary(version: str = DEFAULT_TRACKER_VERSION) -> Path:
    """The cached `torrust-tracker` binary of `version`, from the product's artifact cache.

    Locally only a cached build is used (a cold cargo build takes ~15 min: run `torrust-deploy artifact build`);
    under CI a missing build is built, and any failure fails the test.
    """
    try:
        from orchestrator.infrastructure.tracker.artifact import TrackerArtifactError, TrackerArtifacts
    except ImportError as error:
        skip_unless_ci_fails(f"the tracker artifact cache is not importable: {error}")
    artifacts = TrackerArtifacts()
    if in_ci():
        try:
            bin_dir = artifacts.ensure_binaries(version)
        except TrackerArtifactError as error:
            pytest.fail(f"cannot build torrust-tracker {version}: {error} ({error.tip})", pytrace=False)
    else:
        status = artifacts.status(version)
        if status.build_dir is None:
            skip_unless_ci_fails(
                f"torrust-tracker {version} is not built in {status.cache_dir}: run `torrust-deploy artifact build`"
            )
        bin_dir = status.build_dir / "bin"
    binary = bin_dir / "torrust-tracker"
    if not os.access(binary, os.X_OK):
        skip_unless_ci_fails(f"{binary} is not an executable")
    return binary


def free_port(kind: socket.SocketKind = socket.SOCK_STREAM, host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def render_config(
    *,
    database_path: Path,
    udp_port: int,
    http_port: int,
    api_port: int,
    health_check_port: int,
    token: str,
    interval_s: int = 120,
    interval_min_s: int = 1,
    host: str = HOST,
    private: bool = False,
) -> str:
    """The tracker's TOML (schema 2.0.0, keys as in torrust-tracker-configuration 3.0.0's v2_0_0 module).

    `[core.net] external_ip` is the loopback address: the tracker replaces a loopback peer's address with
    its external IP (default 0.0.0.0, which no client can connect to), so loopback peers stay reachable.
    """
    return "\n".join(
        [
            "[metadata]",
            'app = "torrust-tracker"',
            'purpose = "configuration"',
            'schema_version = "2.0.0"',
            "",
            "[logging]",
            'threshold = "info"',
            "",
            "[core]",
            "listed = false",
            f"private = {'true' if private else 'false'}",
            "",
            "[core.announce_policy]",
            f"interval = {interval_s}",
            f"interval_min = {interval_min_s}",
            "",
            "[core.database]",
            'driver = "sqlite3"',
            f"path = {json.dumps(str(database_path))}",
            "",
            "[core.net]",
            f"external_ip = {json.dumps(host)}",
            "",
            "[[udp_trackers]]",
            f'bind_address = "{host}:{udp_port}"',
            "",
            "[[http_trackers]]",
            f'bind_address = "{host}:{http_port}"',
            "",
            "[http_api]",
            f'bind_address = "{host}:{api_port}"',
            "",
            "[http_api.access_tokens]",
            f"admin = {json.dumps(token)}",
            "",
            "[health_check_api]",
            f'bind_address = "{host}:{health_check_port}"',
            "",
        ]
    )


def health_ok(host: str, port: int, timeout: float = 1.0) -> bool:
    """GET /health_check answers JSON with status Ok."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", "/health_check")
        response = connection.getresponse()
        body = response.read()
        return response.status == 200 and json.loads(body).get("status") == "Ok"
    except (OSError, http.client.HTTPException, ValueError, AttributeError):
        return False
    finally:
        connection.close()


def stop_process(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT_S) -> None:
    """SIGINT (the tracker ignores SIGTERM), wait, then SIGKILL."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait(timeout=timeout)


@contextlib.contextmanager
def running_tracker(
    binary: Path,
    workdir: Path,
    *,
    interval_s: int = 120,
    interval_min_s: int = 1,
    token: str | None = None,
    private: bool = False,
    start_timeout: float = START_TIMEOUT_S,
) -> Iterator[TrackerProcess]:
    """Start the tracker on free loopback ports with its database in `workdir`, wait for its health check,
    yield it, stop it with SIGINT."""
    workdir.mkdir(parents=True, exist_ok=True)
    token = token or secrets.token_urlsafe(24)
    last_error: TrackerStartError | None = None
    for attempt in range(1, _START_ATTEMPTS + 1):
        try:
            process, tracker = _start(
                binary, workdir, attempt, interval_s, interval_min_s, token, private, start_timeout
            )
        except TrackerStartError as error:
            last_error = error
            continue
        try:
            yield tracker
        finally:
            stop_process(process)
        return
    assert last_error is not None
    raise last_error


def _start(
    binary: Path,
    workdir: Path,
    attempt: int,
    interval_s: int,
    interval_min_s: int,
    token: str,
    private: bool,
    start_timeout: float,
) -> tuple[subprocess.Popen[bytes], TrackerProcess]:
    tcp_ports: set[int] = set()
    while len(tcp_ports) < 3:
        tcp_ports.add(free_port(socket.SOCK_STREAM))
    http_port, api_port, health_port = sorted(tcp_ports)
    udp_port = free_port(socket.SOCK_DGRAM)
    database = workdir / f"tracker-{attempt}.sqlite3.db"
    config = workdir / f"tracker-{attempt}.toml"
    log_path = workdir / f"tracker-{attempt}.log"
    config.write_text(
        render_config(
            database_path=database,
            udp_port=udp_port,
            http_port=http_port,
            api_port=api_port,
            health_check_port=health_port,
            token=token,
            interval_s=interval_s,
            interval_min_s=interval_min_s,
            private=private,
        ),
        encoding="utf-8",
    )
    config.chmod(0o600)
    env = {key: value for key, value in os.environ.items() if not key.startswith("TORRUST_TRACKER_")}
    env[CONFIG_ENV_VAR] = str(config)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(binary)], cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
    tracker = TrackerProcess(
        host=HOST,
        udp_port=udp_port,
        http_port=http_port,
        api_port=api_port,
        health_check_port=health_port,
        token=token,
        interval_s=interval_s,
        interval_min_s=interval_min_s,
        private=private,
        pid=process.pid,
        config_path=config,
        database_path=database,
        log_path=log_path,
    )
    deadline = time.monotonic() + start_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise TrackerStartError(f"torrust-tracker exited with {process.returncode}: {_tail(log_path)}")
        if health_ok(HOST, health_port):
            return process, tracker
        time.sleep(0.1)
    stop_process(process)
    raise TrackerStartError(f"torrust-tracker was not healthy within {start_timeout:.0f} s: {_tail(log_path)}")


def _tail(log_path: Path, lines: int = 8) -> str:
    try:
        text = log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:]) or "(empty log)"


class TrackerFactory(Protocol):
    """`tracker_factory(interval_s=…, interval_min_s=…, token=…, private=…)` -> a started TrackerProcess."""

    def __call__(
        self, *, interval_s: int = 120, interval_min_s: int = 1, token: str | None = None, private: bool = False
    ) -> TrackerProcess: ...


@contextlib.contextmanager
def tracker_launcher(workdir: Path, version: str = DEFAULT_TRACKER_VERSION) -> Iterator[TrackerFactory]:
    """A function that starts real trackers (each in its own folder under `workdir`); all stop on exit.

    Gets the binary first: skips (fails under CI) when it cannot be had.
    """
    binary = tracker_binary(version)
    with contextlib.ExitStack() as stack:
        count = 0

        def start(
            *, interval_s: int = 120, interval_min_s: int = 1, token: str | None = None, private: bool = False
        ) -> TrackerProcess:
            nonlocal count
            count += 1
            return stack.enter_context(
                running_tracker(
                    binary,
                    workdir / f"tracker-{count}",
                    interval_s=interval_s,
                    interval_min_s=interval_min_s,
                    token=token,
                    private=private,
                )
            )

        yield start


@pytest.fixture
def tracker_factory(tmp_path: Path) -> Iterator[TrackerFactory]:
    """Starts real trackers; all are stopped at the end of the test."""
    with tracker_launcher(tmp_path) as start:
        yield start


@pytest.fixture
def tracker_process(tracker_factory: TrackerFactory) -> TrackerProcess:
    """One real tracker on loopback with the default settings (interval 120 s)."""
    return tracker_factory()
