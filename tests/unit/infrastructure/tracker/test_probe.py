"""The tracker probe against in-process fake servers on loopback: wire formats, replies, timeouts, errors."""

from __future__ import annotations

import contextlib
import http.server
import json
import socket
import struct
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from orchestrator.domain.tracker import TrackerSettings
from orchestrator.infrastructure.tracker import probe
from orchestrator.infrastructure.tracker.probe import (
    UDP_PROTOCOL_ID,
    bdecode,
    bencode,
    check_api_stats,
    check_health,
    check_http_announce,
    check_http_scrape,
    check_udp_connect_announce_scrape,
    parse_http_announce,
    random_info_hash,
    random_peer_id,
    run_checks,
)

INFO_HASH = bytes(range(20))
PEER_ID = b"-TD0001-" + b"\x00\xff%&= ?#abcd"
CONNECTION_ID = 0x1122334455667788

# --- fake HTTP server ------------------------------------------------------------------------------------

Route = Callable[[str, dict[str, list[bytes]]], tuple[int, bytes]]


@dataclass
class FakeHttp:
    port: int
    routes: dict[str, Route]
    requests: list[str] = field(default_factory=list)


def _raw_query(query: str) -> dict[str, list[bytes]]:
    parsed: dict[str, list[bytes]] = {}
    for part in query.split("&"):
        if part:
            key, _, value = part.partition("=")
            parsed.setdefault(key, []).append(urllib.parse.unquote_to_bytes(value))
    return parsed


@contextlib.contextmanager
def _serve_http() -> Iterator[FakeHttp]:
    fake = FakeHttp(port=0, routes={})

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fake.requests.append(self.path)
            path, _, query = self.path.partition("?")
            route = fake.routes.get(path)
            status, body = route(path, _raw_query(query)) if route else (404, b"not found")
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def http_server() -> Iterator[FakeHttp]:
    with _serve_http() as fake:
        yield fake


@pytest.fixture
def more_http_servers() -> Iterator[Callable[[], FakeHttp]]:
    """Starts further fake HTTP servers (each on its own port), all stopped at the end of the test."""
    with contextlib.ExitStack() as stack:
        yield lambda: stack.enter_context(_serve_http())


def _json(status: int, value: object) -> Route:
    return lambda _path, _query: (status, json.dumps(value).encode())


# --- fake UDP tracker (BEP 15) ---------------------------------------------------------------------------

UdpHandler = Callable[[bytes], list[bytes]]


@dataclass
class FakeUdp:
    port: int
    handler: UdpHandler
    received: list[bytes] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)


def bep15_tracker(
    *,
    interval: int = 120,
    peers: bytes = b"",
    drop_first: int = 0,
    stale_first: bool = False,
    announce_error: bytes | None = None,
    info_hash: bytes = INFO_HASH,
    peer_id: bytes | None = PEER_ID,
) -> UdpHandler:
    """A tracker that checks the requests' formats; optionally drops packets, sends stale replies or errors."""
    state = {"seen": 0}

    def handle(data: bytes) -> list[bytes]:
        state["seen"] += 1
        if state["seen"] <= drop_first:
            return []
        if len(data) == 16 and struct.unpack_from(">QI", data) == (UDP_PROTOCOL_ID, 0):
            (tid,) = struct.unpack_from(">I", data, 12)
            reply = struct.pack(">IIQ", 0, tid, CONNECTION_ID)
        else:
            connection_id, action, tid = struct.unpack_from(">QII", data)
            if connection_id != CONNECTION_ID:
                return [struct.pack(">II", 3, tid) + b"bad connection id"]
            if action == 1:
                assert len(data) == 98
                (
                    got_info_hash,
                    got_peer_id,
                    downloaded,
                    left,
                    uploaded,
                    event,
                    ip,
                    _key,
                    num_want,
                    port,
                ) = struct.unpack_from(">20s20sQQQIIIiH", data, 16)
                assert got_info_hash == info_hash
                assert peer_id is None or got_peer_id == peer_id
                assert (downloaded, left, uploaded, event, ip, num_want, port) == (0, 1, 0, 2, 0, -1, 6881)
                if announce_error is not None:
                    return [struct.pack(">II", 3, tid) + announce_error]
                reply = struct.pack(">IIIII", 1, tid, interval, 1, 2) + peers
            elif action == 2:
                assert data[16:] == info_hash
                reply = struct.pack(">IIIII", 2, tid, 2, 7, 1)
            else:
                return [struct.pack(">II", 3, tid) + b"unknown action"]
        if stale_first:
            stale = bytearray(reply)
            stale[4:8] = struct.pack(">I", (tid + 1) % 2**32)
            return [bytes(stale), reply]
        return [reply]

    return handle


@pytest.fixture
def udp_server() -> Iterator[FakeUdp]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.05)
    fake = FakeUdp(port=sock.getsockname()[1], handler=bep15_tracker())
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, address = sock.recvfrom(2048)
            except TimeoutError:
                continue
            fake.received.append(data)
            try:
                replies = fake.handler(data)
            except Exception as error:  # a request in a wrong format: the test fails at teardown
                fake.errors.append(error)
                continue
            for reply in replies:
                sock.sendto(reply, address)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        stop.set()
        thread.join(timeout=5)
        sock.close()
    assert fake.errors == []


def _free_port(kind: socket.SocketKind) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- bencode ---------------------------------------------------------------------------------------------


def test_bencode_round_trips_nested_values() -> None:
    value: probe.Bencoded = {b"interval": 120, b"peers": b"\x7f\x00\x00\x01\x1a\xe1", b"list": [-3, b"", {}]}
    encoded = bencode(value)
    assert encoded == b"d8:intervali120e4:listli-3e0:dee5:peers6:\x7f\x00\x00\x01\x1a\xe1e"
    assert bdecode(encoded) == value


@pytest.mark.parametrize(
    "data",
    [b"", b"i12", b"i-0e", b"i03e", b"ie", b"i1xe", b"5:abc", b"x", b"li1e", b"di1ei2ee", b"i1ei2e", b"l" * 100],
)
def test_bdecode_rejects_malformed_input(data: bytes) -> None:
    with pytest.raises(ValueError):
        bdecode(data)


def test_parse_http_announce_reads_compact_and_dictionary_peers() -> None:
    compact = bencode({b"interval": 60, b"peers": b"\x0a\x00\x00\x01\x1a\xe1", b"complete": 1, b"incomplete": 0})
    assert parse_http_announce(compact) == (60, (("10.0.0.1", 6881),), {"complete": 1, "incomplete": 0})
    listed = bencode({b"interval": 5, b"peers": [{b"ip": b"::1", b"port": 7, b"peer id": b"x" * 20}]})
    assert parse_http_announce(listed)[1] == (("::1", 7),)
    peers6 = bencode({b"interval": 5, b"peers": b"", b"peers6": socket.inet_pton(socket.AF_INET6, "::1") + b"\x00\x07"})
    assert parse_http_announce(peers6)[1] == (("::1", 7),)


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ({b"failure reason": b"info_hash not whitelisted"}, "refused the announce: info_hash not whitelisted"),
        ({b"peers": b""}, "no interval"),
        ({b"interval": 5}, "no peers"),
        ({b"interval": 5, b"peers": b"\x01\x02\x03"}, "not a multiple of 6"),
    ],
)
def test_parse_http_announce_reports_bad_replies(reply: dict[bytes, probe.Bencoded], message: str) -> None:
    with pytest.raises(probe.ProbeError, match=message):
        parse_http_announce(bencode(reply))


def test_random_ids_are_twenty_bytes_and_differ() -> None:
    assert len(random_info_hash()) == 20 and random_info_hash() != random_info_hash()
    peer_id = random_peer_id()
    assert len(peer_id) == 20 and peer_id.startswith(b"-TD0001-")


# --- health check and REST API ---------------------------------------------------------------------------


def test_health_check_passes_on_status_ok(http_server: FakeHttp) -> None:
    http_server.routes["/health_check"] = _json(200, {"status": "Ok", "message": "", "details": [{}, {}, {}]})
    result = check_health("127.0.0.1", http_server.port, timeout=2)
    assert (result.name, result.ok, result.detail) == ("health check", True, "status Ok (3 services checked)")
    assert 0 < result.duration_s < 2


def test_health_check_fails_on_an_error_status(http_server: FakeHttp) -> None:
    http_server.routes["/health_check"] = _json(200, {"status": "Error", "message": "udp:\n  down", "details": []})
    result = check_health("127.0.0.1", http_server.port, timeout=2)
    assert not result.ok
    assert result.detail == "status 'Error' (0 services checked): udp: down"


def test_health_check_fails_on_http_errors_and_non_json(http_server: FakeHttp) -> None:
    http_server.routes["/health_check"] = lambda _p, _q: (200, b"<html>")
    assert check_health("127.0.0.1", http_server.port, timeout=2).detail.startswith("the answer is not JSON")
    http_server.routes["/health_check"] = lambda _p, _q: (503, b"")
    assert check_health("127.0.0.1", http_server.port, timeout=2).detail == "HTTP 503 from /health_check"


def test_checks_report_a_refused_connection_without_raising() -> None:
    result = check_health("127.0.0.1", _free_port(socket.SOCK_STREAM), timeout=2)
    assert not result.ok
    assert result.detail == "connection refused: nothing listens on that port"


def test_http_checks_time_out_on_a_silent_server() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        started = time.monotonic()
        result = check_health("127.0.0.1", silent.getsockname()[1], timeout=0.5)
    assert (result.ok, result.detail) == (False, "no answer in time")
    assert 0.4 < time.monotonic() - started < 2


def test_api_stats_returns_the_counters_and_sends_the_quoted_token(http_server: FakeHttp) -> None:
    counters = {"torrents": 3, "seeders": 1, "completed": 0, "leechers": 2, "udp4_announces_handled": 9}
    http_server.routes["/api/v1/stats"] = lambda _p, q: (
        (200, json.dumps(counters).encode()) if q["token"] == [b"s3cr&t /x"] else (500, b"Unhandled rejection")
    )
    result = check_api_stats("127.0.0.1", http_server.port, "s3cr&t /x", timeout=2)
    assert result.ok
    assert result.detail == "3 torrents, 1 seeder, 2 leechers"
    assert result.stats == counters
    assert http_server.requests == ["/api/v1/stats?token=s3cr%26t%20%2Fx"]


def test_api_stats_explains_a_refused_token_without_showing_it(http_server: FakeHttp) -> None:
    http_server.routes["/api/v1/stats"] = lambda _p, _q: (500, b"Unhandled rejection: Err { reason: unauthorized }")
    result = check_api_stats("127.0.0.1", http_server.port, "wrong-token", timeout=2)
    assert not result.ok
    assert "is the token right?" in result.detail
    assert "wrong-token" not in result.detail


def test_api_stats_rejects_json_without_counters(http_server: FakeHttp) -> None:
    http_server.routes["/api/v1/stats"] = _json(200, {"hello": "world"})
    result = check_api_stats("127.0.0.1", http_server.port, "t", timeout=2)
    assert (result.ok, result.detail) == (False, "/api/v1/stats did not answer the tracker's counters")


# --- HTTP tracker ----------------------------------------------------------------------------------------


def test_http_announce_sends_bep3_parameters_and_reads_the_reply(http_server: FakeHttp) -> None:
    seen: dict[str, list[bytes]] = {}

    def announce(_path: str, query: dict[str, list[bytes]]) -> tuple[int, bytes]:
        seen.update(query)
        return 200, bencode({b"interval": 300, b"min interval": 10, b"peers": b"\x7f\x00\x00\x01\x1a\xe2"})

    http_server.routes["/announce"] = announce
    result = check_http_announce("127.0.0.1", http_server.port, INFO_HASH, PEER_ID, timeout=2)
    assert result.ok, result.detail
    assert (result.name, result.interval_s, result.peers) == (
        f"HTTP announce :{http_server.port}",
        300,
        (("127.0.0.1", 6882),),
    )
    assert result.detail == "interval 300 s, 1 peer"
    assert seen == {
        "info_hash": [INFO_HASH],
        "peer_id": [PEER_ID],
        "port": [b"6881"],
        "uploaded": [b"0"],
        "downloaded": [b"0"],
        "left": [b"1"],
        "compact": [b"1"],
        "event": [b"started"],
    }


def test_http_announce_reports_a_failure_reason(http_server: FakeHttp) -> None:
    http_server.routes["/announce"] = lambda _p, _q: (200, bencode({b"failure reason": b"torrent not on whitelist"}))
    result = check_http_announce("127.0.0.1", http_server.port, INFO_HASH, PEER_ID, timeout=2)
    assert (result.ok, result.detail) == (False, "the tracker refused the announce: torrent not on whitelist")


def test_http_announce_reports_garbage(http_server: FakeHttp) -> None:
    http_server.routes["/announce"] = lambda _p, _q: (200, b"d8:intervali")
    result = check_http_announce("127.0.0.1", http_server.port, INFO_HASH, PEER_ID, timeout=2)
    assert not result.ok and "bencoded" in result.detail


def test_http_scrape_reads_the_torrent_counters(http_server: FakeHttp) -> None:
    def scrape(_path: str, query: dict[str, list[bytes]]) -> tuple[int, bytes]:
        assert query == {"info_hash": [INFO_HASH]}
        files: probe.Bencoded = {INFO_HASH: {b"complete": 1, b"downloaded": 0, b"incomplete": 2}}
        return 200, bencode({b"files": files})

    http_server.routes["/scrape"] = scrape
    result = check_http_scrape("127.0.0.1", http_server.port, INFO_HASH, timeout=2)
    assert result.ok
    assert result.stats == {"complete": 1, "downloaded": 0, "incomplete": 2}
    assert result.detail == "1 complete, 2 incomplete, 0 downloaded"


def test_http_scrape_fails_when_the_torrent_is_not_listed(http_server: FakeHttp) -> None:
    http_server.routes["/scrape"] = lambda _p, _q: (200, bencode({b"files": {}}))
    result = check_http_scrape("127.0.0.1", http_server.port, INFO_HASH, timeout=2)
    assert (result.ok, result.detail) == (False, "the scrape reply does not list the probed torrent")


# --- UDP tracker -----------------------------------------------------------------------------------------


def test_udp_request_formats_follow_bep15() -> None:
    assert probe.udp_connect_request(7) == bytes.fromhex("00000417271019800000000000000007")
    announce = probe.udp_announce_request(CONNECTION_ID, 9, INFO_HASH, PEER_ID, key=5, port=6881)
    assert len(announce) == 98
    assert announce[:16] == bytes.fromhex("11223344556677880000000100000009")
    assert announce[16:56] == INFO_HASH + PEER_ID
    assert announce[56:80] == struct.pack(">QQQ", 0, 1, 0)
    assert announce[80:] == struct.pack(">IIIiH", 2, 0, 5, -1, 6881)
    assert probe.udp_scrape_request(CONNECTION_ID, 3, [INFO_HASH]) == (
        bytes.fromhex("11223344556677880000000200000003") + INFO_HASH
    )


def test_udp_announce_reply_parsing() -> None:
    payload = struct.pack(">III", 120, 1, 2) + bytes([10, 0, 0, 7, 0x1A, 0xE1])
    assert probe.parse_udp_announce(payload) == (120, 1, 2, (("10.0.0.7", 6881),))
    with pytest.raises(probe.ProbeError, match="another transaction id"):
        probe.parse_udp_reply(struct.pack(">II", 1, 5), 6, 1)
    with pytest.raises(probe.ProbeError, match="error: go away"):
        probe.parse_udp_reply(struct.pack(">II", 3, 5) + b"go away", 5, 1)


def test_udp_connect_announce_scrape_pass_against_a_bep15_tracker(udp_server: FakeUdp) -> None:
    udp_server.handler = bep15_tracker(interval=77, peers=bytes([127, 0, 0, 1, 0x1A, 0xE2]))
    connect, announce, scrape = check_udp_connect_announce_scrape(
        "127.0.0.1", udp_server.port, INFO_HASH, PEER_ID, timeout=2
    )
    assert [r.name for r in (connect, announce, scrape)] == [
        f"UDP connect :{udp_server.port}",
        f"UDP announce :{udp_server.port}",
        f"UDP scrape :{udp_server.port}",
    ]
    assert connect.ok and announce.ok and scrape.ok, (connect, announce, scrape)
    assert announce.interval_s == 77
    assert announce.peers == (("127.0.0.1", 6882),)
    assert announce.detail == "interval 77 s, 2 seeders, 1 leecher, 1 peer"
    assert scrape.stats == {"complete": 2, "downloaded": 7, "incomplete": 1}
    assert len(udp_server.received) == 3


def test_udp_retransmits_lost_requests(udp_server: FakeUdp) -> None:
    udp_server.handler = bep15_tracker(drop_first=2)
    results = check_udp_connect_announce_scrape("127.0.0.1", udp_server.port, INFO_HASH, PEER_ID, timeout=3)
    assert all(r.ok for r in results), results
    assert len(udp_server.received) == 5  # two lost connect requests, then connect, announce, scrape
    assert 0.7 < results[0].duration_s < 1.5  # waited 0.25 s + 0.5 s before the third attempt


def test_udp_ignores_replies_with_another_transaction_id(udp_server: FakeUdp) -> None:
    udp_server.handler = bep15_tracker(stale_first=True)
    results = check_udp_connect_announce_scrape("127.0.0.1", udp_server.port, INFO_HASH, PEER_ID, timeout=2)
    assert all(r.ok for r in results), results
    assert len(udp_server.received) == 3  # the stale replies caused no retransmission


def test_udp_reports_the_trackers_error_action(udp_server: FakeUdp) -> None:
    udp_server.handler = bep15_tracker(announce_error=b"connection id could not be verified")
    connect, announce, scrape = check_udp_connect_announce_scrape(
        "127.0.0.1", udp_server.port, INFO_HASH, PEER_ID, timeout=2
    )
    assert connect.ok and scrape.ok
    assert (announce.ok, announce.detail) == (
        False,
        "the tracker answered an error: connection id could not be verified",
    )


def test_udp_times_out_and_skips_the_rest_when_connect_gets_no_answer(udp_server: FakeUdp) -> None:
    udp_server.handler = lambda _data: []
    started = time.monotonic()
    connect, announce, scrape = check_udp_connect_announce_scrape(
        "127.0.0.1", udp_server.port, INFO_HASH, PEER_ID, timeout=0.8
    )
    assert 0.7 < time.monotonic() - started < 1.5
    assert (connect.ok, connect.detail) == (False, "no answer in time")
    assert len(udp_server.received) == 3  # sent at 0, 0.25 s and 0.75 s
    assert (announce.ok, announce.detail) == (False, "not run: the UDP connect failed")
    assert not scrape.ok


def test_udp_reports_a_closed_port() -> None:
    connect, *_ = check_udp_connect_announce_scrape(
        "127.0.0.1", _free_port(socket.SOCK_DGRAM), INFO_HASH, PEER_ID, timeout=1
    )
    assert (connect.ok, connect.detail) == (False, "connection refused: nothing listens on that port")


def test_udp_reports_an_unresolvable_host(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_such_host(*_args: object, **_kwargs: object) -> object:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)  # no resolver is asked
    results = check_udp_connect_announce_scrape("tracker.example", 6969, INFO_HASH, PEER_ID, timeout=1)
    assert [r.ok for r in results] == [False, False, False]
    assert results[0].detail.startswith("cannot resolve the host")


# --- all checks ------------------------------------------------------------------------------------------


def test_run_checks_covers_every_port_with_one_info_hash(
    http_server: FakeHttp, more_http_servers: Callable[[], FakeHttp], udp_server: FakeUdp
) -> None:
    announced: list[bytes] = []

    def announce(_path: str, query: dict[str, list[bytes]]) -> tuple[int, bytes]:
        announced.append(query["info_hash"][0])
        return 200, bencode({b"interval": 33, b"peers": b""})

    def scrape(_path: str, query: dict[str, list[bytes]]) -> tuple[int, bytes]:
        return 200, bencode({b"files": {query["info_hash"][0]: {b"complete": 0, b"incomplete": 1}}})

    http_server.routes.update({"/announce": announce, "/scrape": scrape})
    health, api = more_http_servers(), more_http_servers()
    health.routes["/health_check"] = _json(200, {"status": "Ok"})
    api.routes["/api/v1/stats"] = _json(200, {"torrents": 1, "seeders": 0, "leechers": 1})
    udp_server.handler = bep15_tracker(interval=44, peer_id=None)
    settings = TrackerSettings(
        udp_ports=(udp_server.port,),
        http_ports=(http_server.port,),
        api_port=api.port,
        health_check_port=health.port,
    )
    results = run_checks("127.0.0.1", settings, "token", timeout=2, info_hash=INFO_HASH)
    assert [(r.name, r.ok) for r in results if not r.ok] == []
    assert [r.name.split(" :")[0] for r in results] == [
        "health check",
        "HTTP announce",
        "HTTP scrape",
        "UDP connect",
        "UDP announce",
        "UDP scrape",
        "REST API stats",
    ]
    assert announced == [INFO_HASH]
    assert probe.announce_intervals(results) == {
        f"HTTP announce :{http_server.port}": 33,
        f"UDP announce :{udp_server.port}": 44,
    }


def test_run_checks_uses_a_new_random_info_hash_per_run(http_server: FakeHttp) -> None:
    announced: list[bytes] = []

    def announce(_path: str, query: dict[str, list[bytes]]) -> tuple[int, bytes]:
        announced.append(query["info_hash"][0])
        return 200, bencode({b"interval": 1, b"peers": b""})

    http_server.routes["/announce"] = announce
    udp_port = _free_port(socket.SOCK_DGRAM)
    settings = TrackerSettings(
        udp_ports=(udp_port,), http_ports=(http_server.port,), api_port=1, health_check_port=2, reserved_ports=()
    )
    for _ in range(2):
        results = run_checks("127.0.0.1", settings, "token", timeout=1)
        assert len(results) == 7
        assert not results[0].ok  # nothing on the health-check port: a failed result, no exception
    assert len(announced) == 2 and announced[0] != announced[1]
    assert all(len(value) == 20 for value in announced)


# --- private mode ----------------------------------------------------------------------------------------

AUTH_FAILURE = (
    b"Authentication error: Missing authentication key param for private tracker. Error in "
    b"/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/torrust-tracker-3.0.0/src/servers/http/v1/"
    b"handlers/announce.rs:95:31"
)


def test_failure_reasons_lose_torrusts_source_location(http_server: FakeHttp) -> None:
    http_server.routes["/announce"] = lambda _p, _q: (200, bencode({b"failure reason": AUTH_FAILURE}))
    result = check_http_announce("127.0.0.1", http_server.port, INFO_HASH, PEER_ID, timeout=2)
    assert result.detail == (
        "the tracker refused the announce: Authentication error: Missing authentication key param for private tracker"
    )


def test_a_key_goes_into_the_announce_and_scrape_paths(http_server: FakeHttp) -> None:
    http_server.routes["/announce/k3y"] = lambda _p, _q: (200, bencode({b"interval": 9, b"peers": b""}))
    http_server.routes["/scrape/k3y"] = lambda _p, q: (200, bencode({b"files": {q["info_hash"][0]: {}}}))
    assert check_http_announce("127.0.0.1", http_server.port, INFO_HASH, PEER_ID, timeout=2, key="k3y").ok
    assert check_http_scrape("127.0.0.1", http_server.port, INFO_HASH, timeout=2, key="k3y").ok
    assert [path.split("?")[0] for path in http_server.requests] == ["/announce/k3y", "/scrape/k3y"]


def test_announce_without_key_passes_when_a_private_tracker_refuses_it(http_server: FakeHttp) -> None:
    http_server.routes["/announce"] = lambda _p, _q: (200, bencode({b"failure reason": AUTH_FAILURE}))
    result = probe.check_http_announce_needs_key("127.0.0.1", http_server.port, INFO_HASH, PEER_ID, timeout=2)
    assert (result.name, result.ok) == (f"HTTP announce without key :{http_server.port}", True)
    assert result.detail == "refused without a key, as a private tracker must"


def test_announce_without_key_fails_when_the_tracker_is_open(http_server: FakeHttp) -> None:
    http_server.routes["/announce"] = lambda _p, _q: (200, bencode({b"interval": 9, b"peers": b""}))
    result = probe.check_http_announce_needs_key("127.0.0.1", http_server.port, INFO_HASH, PEER_ID, timeout=2)
    assert (result.ok, result.detail) == (False, "announced without a key (interval 9 s): the tracker is not private")


def test_announce_without_key_fails_on_another_refusal(http_server: FakeHttp) -> None:
    http_server.routes["/announce"] = lambda _p, _q: (200, bencode({b"failure reason": b"torrent not whitelisted"}))
    result = probe.check_http_announce_needs_key("127.0.0.1", http_server.port, INFO_HASH, PEER_ID, timeout=2)
    assert (result.ok, result.detail) == (False, "the tracker refused the announce: torrent not whitelisted")


def test_run_checks_on_a_private_tracker_without_key(http_server: FakeHttp) -> None:
    http_server.routes["/announce"] = lambda _p, _q: (200, bencode({b"failure reason": AUTH_FAILURE}))
    # a private tracker has no UDP ports: the domain refuses them (torrust runs UDP only in public mode)
    settings = TrackerSettings(
        private=True, udp_ports=(), http_ports=(http_server.port,), api_port=1, health_check_port=2
    )
    results = {r.name: r for r in run_checks("127.0.0.1", settings, "token", timeout=1)}
    assert results[f"HTTP announce without key :{http_server.port}"].ok
    assert not any(name.startswith("UDP") for name in results)
