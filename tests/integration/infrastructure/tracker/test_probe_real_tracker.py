"""The probe against the real torrust-tracker binary on loopback, and against a real BitTorrent client's peer."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.infrastructure.tracker.probe import (
    announce_intervals,
    check_api_stats,
    check_http_announce,
    check_http_scrape,
    check_udp_connect_announce_scrape,
    random_info_hash,
    random_peer_id,
    run_checks,
)
from tests.support.bittorrent_client import BitTorrentClient, require_libtorrent
from tests.support.tracker_process import TrackerFactory, TrackerProcess, health_ok, tracker_launcher

pytestmark = pytest.mark.integration


@pytest.fixture
def trackers(tmp_path: Path) -> Iterator[TrackerFactory]:
    with tracker_launcher(tmp_path) as start:
        yield start


@pytest.fixture
def tracker(trackers: TrackerFactory) -> TrackerProcess:
    return trackers()


def test_run_checks_pass_on_a_real_tracker(tracker: TrackerProcess) -> None:
    results = run_checks(tracker.host, tracker.settings, tracker.token, timeout=5)
    assert [(r.name, r.detail) for r in results if not r.ok] == []
    assert len(results) == 7
    assert all(r.duration_s < 2 for r in results), [(r.name, r.duration_s) for r in results]


def test_api_stats_count_the_probed_torrent(tracker: TrackerProcess) -> None:
    host, token = tracker.host, tracker.token
    before = check_api_stats(host, tracker.api_port, token)
    assert before.ok, before.detail
    info_hash = random_info_hash()
    results = run_checks(host, tracker.settings, token, info_hash=info_hash)
    stats = results[-1]
    assert stats.name == "REST API stats" and stats.ok
    assert stats.stats["torrents"] == before.stats["torrents"] + 1
    assert stats.stats["leechers"] == before.stats["leechers"] + 1  # one test peer, whatever the protocol
    assert stats.stats["udp4_announces_handled"] == before.stats["udp4_announces_handled"] + 1
    assert stats.stats["tcp4_announces_handled"] == before.stats["tcp4_announces_handled"] + 1


def test_run_checks_report_the_trackers_configured_interval(trackers: TrackerFactory) -> None:
    tracker = trackers(interval_s=77, interval_min_s=7)
    results = run_checks(tracker.host, tracker.settings, tracker.token)
    assert all(r.ok for r in results), results
    assert announce_intervals(results) == {
        f"HTTP announce :{tracker.http_port}": 77,
        f"UDP announce :{tracker.udp_port}": 77,
    }


def test_a_wrong_token_fails_only_the_api_check(tracker: TrackerProcess) -> None:
    results = run_checks(tracker.host, tracker.settings, "not-the-token")
    failed = [r for r in results if not r.ok]
    assert [r.name for r in failed] == ["REST API stats"]
    assert failed[0].detail == "HTTP 500: the API refused the request (is the token right?)"


def test_a_stopped_tracker_fails_every_check_without_raising(trackers: TrackerFactory) -> None:
    tracker = trackers()
    settings, host, token = tracker.settings, tracker.host, tracker.token
    os.kill(tracker.pid, signal.SIGINT)  # what the fixture does at the end, done early
    deadline = time.monotonic() + 10
    while health_ok(host, tracker.health_check_port) and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    results = run_checks(host, settings, token, timeout=1)
    assert [r.ok for r in results] == [False] * 7
    assert time.monotonic() - started < 5
    assert results[0].detail == "connection refused: nothing listens on that port"


@pytest.mark.parametrize("protocol", ["udp", "http"])
def test_the_probe_and_libtorrent_see_each_other_in_the_swarm(tracker: TrackerProcess, protocol: str) -> None:
    require_libtorrent()
    url = tracker.udp_announce_url if protocol == "udp" else tracker.http_announce_url
    info_hash = random_info_hash()
    with BitTorrentClient(url, info_hash) as client:
        reply = client.announce()
        assert reply.ok, reply.message
        # The probe announces the same torrent: the tracker hands it the libtorrent peer.
        probed = check_http_announce(tracker.host, tracker.http_port, info_hash, random_peer_id())
        assert probed.ok, probed.detail
        assert (tracker.host, client.listen_port) in probed.peers
        stats = check_api_stats(tracker.host, tracker.api_port, tracker.token)
        assert stats.stats["torrents"] == 1
        assert stats.stats["leechers"] == 2


def test_a_private_tracker_refuses_announces_without_a_key_and_runs_no_udp(trackers: TrackerFactory) -> None:
    tracker = trackers(private=True)  # its TOML still lists a UDP tracker: torrust starts none in private mode
    results = {r.name: r for r in run_checks(tracker.host, tracker.settings, tracker.token)}
    assert results[f"HTTP announce without key :{tracker.http_port}"].ok
    assert results[f"HTTP scrape :{tracker.http_port}"].ok
    assert results["health check"].ok and results["REST API stats"].ok
    assert not any(name.startswith("UDP") for name in results)  # the domain refuses UDP ports when private
    udp = check_udp_connect_announce_scrape(tracker.host, tracker.udp_port, random_info_hash(), random_peer_id(), 1.0)
    assert not udp[0].ok  # and indeed nothing answers there


def test_a_private_tracker_takes_an_announce_with_a_key(trackers: TrackerFactory) -> None:
    tracker = trackers(private=True, interval_s=66)
    key = tracker.generate_key()
    host, port, info_hash = tracker.host, tracker.http_port, random_info_hash()
    announced = check_http_announce(host, port, info_hash, random_peer_id(), key=key)
    assert (announced.ok, announced.interval_s) == (True, 66), announced.detail
    scraped = check_http_scrape(host, port, info_hash, key=key)
    assert scraped.ok and scraped.stats["incomplete"] == 1, scraped
