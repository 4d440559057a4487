"""release → run → test on the real lab: a real Torrust Tracker (built from crates.io, shipped without a
registry) in Docker Compose on an LXD instance, proven by a real BitTorrent client (libtorrent) over UDP
and HTTP, by `test`, and by the REST API's stats."""

from __future__ import annotations

import json
import secrets
import shlex
import socket

import pytest

from orchestrator.api import Deployer
from orchestrator.commands.errors import RunFailedError, TrackerTestFailedError
from orchestrator.config import EnvironmentConfig
from orchestrator.domain import RunFailed, Running, RunStep, TrackerSettings
from orchestrator.infrastructure.tracker.probe import announce_intervals, check_api_stats, run_checks
from orchestrator.infrastructure.tracker.release import COMPOSE_PROJECT, DATABASE_VOLUME
from orchestrator.lab.local_lab import LabStatus
from tests.support.bittorrent_client import BitTorrentClient, TrackerReply, require_libtorrent
from tests.support.e2e import MakeConfig, ssh_run

pytestmark = pytest.mark.e2e

DATABASE = f"/var/lib/docker/volumes/{COMPOSE_PROJECT}_{DATABASE_VOLUME}/_data/sqlite3.db"


def _bridge_address(lab: LabStatus) -> str:
    """The controller's own address on the lab bridge (the instances reach it, and it reaches them)."""
    return str(lab.bridge_ipv4_address).split("/")[0]


def _running(deployer: Deployer, config: EnvironmentConfig) -> tuple[str, TrackerSettings]:
    deployer.create(config)
    env = deployer.deploy(config.name)
    assert isinstance(env.state, Running), env.state
    assert env.instance_ip is not None and env.context.tracker is not None
    return env.instance_ip, env.context.tracker


def _peers_seen_by_a_second_client(url: str, listen_host: str) -> tuple[TrackerReply, TrackerReply, int]:
    """Two libtorrent clients (each in its own process) announce the same torrent; the second's reply."""
    info_hash = secrets.token_bytes(20)
    with BitTorrentClient(url, info_hash, listen_host=listen_host) as first:
        first_reply = first.announce()
        with BitTorrentClient(url, info_hash, listen_host=listen_host) as second:
            return first_reply, second.announce(), first.listen_port


def _sudo_python(config: EnvironmentConfig, ip: str, code: str) -> str:
    result = ssh_run(config, ip, "sudo", "python3", "-c", shlex.quote(code))  # ssh joins words with spaces
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_deploy_runs_a_tracker_that_a_real_client_announces_to_over_udp_and_http(
    deployer: Deployer, make_config: MakeConfig, lab: LabStatus
) -> None:
    require_libtorrent()
    config = make_config("trk", tracker={})
    ip, tracker = _running(deployer, config)
    here = _bridge_address(lab)

    for url in (f"udp://{ip}:{tracker.udp_ports[0]}/announce", f"http://{ip}:{tracker.http_ports[0]}/announce"):
        first, second, first_port = _peers_seen_by_a_second_client(url, here)
        assert first.ok and second.ok, (url, first, second)
        assert (second.num_peers or 0) >= 1, (url, second)
        assert (here, first_port) in set(second.peers), (url, second.peers)

    report = deployer.test(config.name)
    assert report.passed and {check.name for check in report.checks} >= {
        "health check",
        f"UDP announce :{tracker.udp_ports[0]}",
        f"HTTP announce :{tracker.http_ports[0]}",
        "REST API stats",
    }
    token = deployer.api_token(config.name)
    assert token is not None
    stats = check_api_stats(ip, tracker.api_port, token)
    assert stats.ok and stats.stats["torrents"] >= 3  # the two clients' torrents and test's own

    # the token is a secret: in its 0600 file only, never in the state, the history or the playbook vars
    token_file = deployer.layout.environment_dir(config.name) / "tracker-api-token"
    assert token_file.stat().st_mode & 0o777 == 0o600
    for path in deployer.layout.environment_dir(config.name).rglob("*"):
        if path.is_file() and path != token_file:
            assert token not in path.read_text(errors="replace"), path
    for path in (deployer.layout.environment_build_dir(config.name) / "ansible").rglob("*"):
        if path.is_file():
            assert token not in path.read_text(errors="replace"), path
    mode = ssh_run(config, ip, "sudo", "stat", "-c", "%a", "/opt/torrust-tracker/tracker.env").stdout.strip()
    assert mode == "600"

    events = [json.loads(line) for line in (deployer.layout.environment_dir(config.name) / "events.jsonl").open()]
    assert [event["to"] for event in events][-4:] == ["releasing", "released", "starting", "running"]


def test_a_release_with_a_changed_interval_shows_in_announces_and_keeps_the_database(
    deployer: Deployer, make_config: MakeConfig, lab: LabStatus
) -> None:
    require_libtorrent()
    config = make_config("rel", tracker={"announce_interval_s": 120})
    ip, tracker = _running(deployer, config)
    token = deployer.api_token(config.name)
    assert token is not None
    before = announce_intervals(run_checks(ip, tracker, token))
    assert set(before.values()) == {120}
    # a marker row in the tracker's SQLite database (a Docker volume on the host)
    marker = secrets.token_hex(4)
    _sudo_python(
        config,
        ip,
        f"import sqlite3; c = sqlite3.connect({DATABASE!r}); "
        f"c.execute('create table if not exists e2e_marker (v text)'); "
        f"c.execute('insert into e2e_marker values (?)', ({marker!r},)); c.commit()",
    )

    changed = config.model_copy(update={"tracker": config.tracker.model_copy(update={"announce_interval_s": 300})})  # type: ignore[union-attr]
    released = deployer.release(config.name, deployer.tracker_of(config.name, changed))
    running = deployer.run(released)

    assert running.context.tracker is not None and running.context.tracker.announce_interval_s == 300
    after = announce_intervals(run_checks(ip, running.context.tracker, token))
    assert set(after.values()) == {300}
    reply = BitTorrentClient  # the real client sees the new interval too
    with reply(
        f"udp://{ip}:{tracker.udp_ports[0]}/announce", secrets.token_bytes(20), listen_host=_bridge_address(lab)
    ) as client:
        seen = client.announce()
    assert seen.ok and seen.interval_s is not None and abs(seen.interval_s - 300) <= 2
    rows = _sudo_python(
        config,
        ip,
        f"import sqlite3; print(sqlite3.connect({DATABASE!r}).execute('select v from e2e_marker').fetchall())",
    )
    assert marker in rows  # the same database, kept across the re-release
    assert deployer.show(config.name).context.tracker == running.context.tracker  # the new settings are stored


def test_a_tracker_that_cannot_start_ends_run_failed_with_its_output_and_a_fixed_config_runs(
    deployer: Deployer, make_config: MakeConfig, lab: LabStatus
) -> None:
    config = make_config("bad", tracker={})
    ip, _ = _running(deployer, config)

    # its container killed behind the tool's back: `test` fails and says which checks
    kill = ssh_run(config, ip, "sudo", "docker", "compose", "-p", COMPOSE_PROJECT, "kill")
    assert kill.returncode == 0, kill.stderr
    with pytest.raises(TrackerTestFailedError) as failed_test:
        deployer.test(config.name)
    assert "health check" in [name for name, _ in failed_test.value.failed]

    # a release whose HTTP port is taken on the host: the tracker cannot start → RunFailed, output in the trace
    taken = 7171
    holder = ssh_run(
        config,
        ip,
        "sudo",
        "systemd-run",
        "--unit",
        "e2e-port-holder",
        "python3",
        "-c",
        shlex.quote(
            "import socket, time; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
            f"s.bind(('0.0.0.0', {taken})); s.listen(); time.sleep(600)"
        ),
    )
    assert holder.returncode == 0, holder.stderr
    blocked = config.model_copy(update={"tracker": config.tracker.model_copy(update={"http_ports": [taken]})})  # type: ignore[union-attr]
    deployer.release(config.name, deployer.tracker_of(config.name, blocked))
    with pytest.raises(RunFailedError) as failed_run:
        deployer.run(config.name)
    failure = failed_run.value.failure
    assert failure.step is RunStep.START_TRACKER
    stored = deployer.show(config.name)
    assert isinstance(stored.state, RunFailed)
    assert failure.trace_path is not None
    trace = failure.trace_path.read_text()
    assert str(taken) in trace and ("address already in use" in trace or "port is already allocated" in trace)

    # the fixed config (another port) reaches Running again, and `test` passes
    fixed = config.model_copy(update={"tracker": config.tracker.model_copy(update={"http_ports": [7272]})})  # type: ignore[union-attr]
    deployer.release(config.name, deployer.tracker_of(config.name, fixed))
    assert isinstance(deployer.run(config.name).state, Running)
    assert deployer.test(config.name).passed
    with socket.create_connection((ip, 7272), timeout=5):
        pass
