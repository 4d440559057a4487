"""The test helpers themselves: the real tracker process and the libtorrent client, on loopback."""

from __future__ import annotations

import os
import socket
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.bittorrent_client import BitTorrentClient, announce_once, require_libtorrent
from tests.support.tracker_process import TrackerFactory, TrackerProcess, free_port, health_ok, tracker_launcher

pytestmark = pytest.mark.integration


@pytest.fixture
def trackers(tmp_path: Path) -> Iterator[TrackerFactory]:
    with tracker_launcher(tmp_path) as start:
        yield start


@pytest.fixture
def tracker(trackers: TrackerFactory) -> TrackerProcess:
    return trackers()


@pytest.fixture(autouse=True)
def _libtorrent() -> None:
    require_libtorrent()


def test_the_tracker_runs_from_its_own_config_and_stops_on_sigint(tmp_path: Path) -> None:
    with tracker_launcher(tmp_path) as start:
        tracker = start(interval_s=33, interval_min_s=3)
        config = tomllib.loads(tracker.config_path.read_text(encoding="utf-8"))
        assert config["metadata"]["schema_version"] == "2.0.0"
        assert config["core"]["announce_policy"] == {"interval": 33, "interval_min": 3}
        assert config["http_api"]["access_tokens"] == {"admin": tracker.token}
        assert tracker.database_path.parent == tracker.config_path.parent
        assert tracker.database_path.exists()
        assert health_ok(tracker.host, tracker.health_check_port)
        started = time.monotonic()
    assert time.monotonic() - started < 5  # SIGINT, not a 10 s wait and a kill
    assert not health_ok(tracker.host, tracker.health_check_port)
    assert not Path(f"/proc/{tracker.pid}").exists()  # exited and reaped


@pytest.mark.parametrize("protocol", ["udp", "http"])
def test_a_second_client_gets_the_first_from_the_tracker(tracker: TrackerProcess, protocol: str) -> None:
    url = tracker.udp_announce_url if protocol == "udp" else tracker.http_announce_url
    info_hash = os.urandom(20)
    with BitTorrentClient(url, info_hash) as first:
        alone = first.announce()
        assert (alone.ok, alone.num_peers, alone.peers) == (True, 0, ()), alone
        with BitTorrentClient(url, info_hash) as second:
            joined = second.announce()
            assert joined.ok, joined.message
            assert joined.num_peers == 1
            assert joined.peers == ((tracker.host, first.listen_port),)
            again = first.announce()  # a forced reannounce: now the tracker knows the second client
            assert again.ok and again.num_peers == 1, again


def test_the_client_sees_the_trackers_announce_interval(trackers: TrackerFactory) -> None:
    tracker = trackers(interval_s=45, interval_min_s=5)
    for url in (tracker.udp_announce_url, tracker.http_announce_url):
        reply = announce_once(url, os.urandom(20))
        assert reply.ok, reply.message
        assert reply.interval_s is not None and 44 <= reply.interval_s <= 45, reply


@pytest.mark.parametrize("protocol", ["udp", "http"])
def test_a_closed_client_leaves_the_swarm_once_the_tracker_answers_its_stop(
    tracker: TrackerProcess, protocol: str
) -> None:
    url = tracker.udp_announce_url if protocol == "udp" else tracker.http_announce_url
    info_hash = os.urandom(20)
    with BitTorrentClient(url, info_hash) as staying:
        staying.announce()
        with BitTorrentClient(url, info_hash) as leaving:
            assert leaving.announce().num_peers == 1
        assert leaving.stop_reply is not None and leaving.stop_reply.ok, leaving.stop_reply  # event=stopped
        reply = staying.announce()
    assert (reply.ok, reply.num_peers) == (True, 0), reply
    assert staying.stop_reply is not None and staying.stop_reply.ok, staying.stop_reply


def test_a_client_that_never_announced_has_nothing_to_stop(tracker: TrackerProcess) -> None:
    with BitTorrentClient(tracker.udp_announce_url, os.urandom(20)) as client:
        pass
    assert client.stop_reply is not None and client.stop_reply.ok, client.stop_reply
    assert "never announced" in client.stop_reply.message


def test_a_tracker_error_is_reported(trackers: TrackerFactory) -> None:
    tracker = trackers(private=True)  # a private tracker refuses announces without a key
    reply = announce_once(tracker.http_announce_url, os.urandom(20), timeout=10)
    assert not reply.ok
    assert "Missing authentication key" in reply.message, reply


def test_no_tracker_is_a_bounded_wait() -> None:
    port = free_port(socket.SOCK_DGRAM)
    started = time.monotonic()
    reply = announce_once(f"udp://127.0.0.1:{port}/announce", os.urandom(20), timeout=2)
    assert not reply.ok
    assert time.monotonic() - started < 10
