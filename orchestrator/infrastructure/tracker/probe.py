"""What `torrust-deploy test ENV` runs from the controller against a running tracker.

Read-only checks, except that the announces register one throwaway test peer under a random info-hash:
the health-check API, the REST API's stats (with the admin token), a BitTorrent announce and scrape on every
HTTP tracker port (BEP 3 / BEP 48, bencoded replies) and a connect, announce and scrape on every UDP
tracker port (BEP 15). Standard library only.

No check raises for a network or protocol failure: each returns a `CheckResult` whose `ok` says whether it
passed and whose `detail` is one line for the user. The token never appears in a detail.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import re
import secrets
import socket
import struct
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import TypeAlias

from orchestrator.domain.tracker import TrackerSettings

Bencoded: TypeAlias = "int | bytes | list[Bencoded] | dict[bytes, Bencoded]"
Peer: TypeAlias = tuple[str, int]

UDP_PROTOCOL_ID = 0x41727101980
"""BEP 15's magic constant that opens a connect request."""
UDP_ACTION_CONNECT = 0
UDP_ACTION_ANNOUNCE = 1
UDP_ACTION_SCRAPE = 2
UDP_ACTION_ERROR = 3
UDP_EVENT_STARTED = 2
UDP_FIRST_WAIT_S = 0.25
"""The first UDP retransmission wait; it doubles per attempt (BEP 15's 15 s base is far too slow for a check)."""

PROBE_PEER_PORT = 6881
"""The port the throwaway test peer claims to listen on (nothing listens: the tracker does not connect)."""
PROBE_LEFT = 1
"""Bytes the test peer claims it still needs: it is a leecher, so the tracker hands it the seeders it knows."""
PEER_ID_PREFIX = b"-TD0001-"
"""Azureus-style client prefix of the probe's peer ids ("TD" = torrust-deploy)."""


@dataclasses.dataclass(frozen=True, slots=True)
class CheckResult:
    """One check's outcome. `interval_s`, `peers`, `stats` carry what an announce or the API answered."""

    name: str
    ok: bool
    detail: str
    duration_s: float
    interval_s: int | None = None
    """The announce interval the tracker asked for (announce checks)."""
    peers: tuple[Peer, ...] = ()
    """The peers an announce returned (address, port)."""
    stats: Mapping[str, int] = dataclasses.field(default_factory=dict)
    """The REST API's counters (`torrents`, `seeders`, `leechers`, …) or a scrape's (`complete`, …)."""


class ProbeError(Exception):
    """A protocol failure inside one check; turned into a failed `CheckResult`, never raised to callers."""


# --- identifiers -------------------------------------------------------------------------------------------


def random_info_hash() -> bytes:
    """20 random bytes: a torrent nobody else announces, so the probe's peer meets no real swarm."""
    return secrets.token_bytes(20)


def random_peer_id() -> bytes:
    """A 20-byte peer id with the probe's client prefix."""
    return PEER_ID_PREFIX + secrets.token_bytes(20 - len(PEER_ID_PREFIX))


# --- bencode (BEP 3) ---------------------------------------------------------------------------------------


def bdecode(data: bytes) -> Bencoded:
    """Decode one bencoded value that spans all of `data`; `ValueError` for anything malformed."""
    value, end = _bdecode_at(data, 0, depth=0)
    if end != len(data):
        raise ValueError(f"{len(data) - end} trailing bytes after the bencoded value")
    return value


def bencode(value: Bencoded | str) -> bytes:
    """Encode a value (str as UTF-8 bytes; dict keys sorted as BEP 3 requires)."""
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bool):
        raise TypeError("bencode has no booleans")
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(bencode(item) for item in value) + b"e"
    if isinstance(value, dict):
        return b"d" + b"".join(bencode(key) + bencode(item) for key, item in sorted(value.items())) + b"e"
    raise TypeError(f"cannot bencode {type(value).__name__}")


_MAX_DEPTH = 64


def _bdecode_at(data: bytes, index: int, depth: int) -> tuple[Bencoded, int]:
    if depth > _MAX_DEPTH:
        raise ValueError("bencoded value nested too deeply")
    if index >= len(data):
        raise ValueError("bencoded value ends early")
    lead = data[index : index + 1]
    if lead == b"i":
        end = data.find(b"e", index)
        if end < 0:
            raise ValueError("unterminated bencoded integer")
        digits = data[index + 1 : end]
        if not digits or digits in (b"-", b"-0") or (digits.lstrip(b"-").startswith(b"0") and digits != b"0"):
            raise ValueError(f"malformed bencoded integer {digits!r}")
        try:
            return int(digits), end + 1
        except ValueError:
            raise ValueError(f"malformed bencoded integer {digits!r}") from None
    if lead == b"l":
        items: list[Bencoded] = []
        index += 1
        while data[index : index + 1] != b"e":
            item, index = _bdecode_at(data, index, depth + 1)
            items.append(item)
        return items, index + 1
    if lead == b"d":
        result: dict[bytes, Bencoded] = {}
        index += 1
        while data[index : index + 1] != b"e":
            key, index = _bdecode_at(data, index, depth + 1)
            if not isinstance(key, bytes):
                raise ValueError("bencoded dictionary key is not a string")
            result[key], index = _bdecode_at(data, index, depth + 1)
        return result, index + 1
    if lead.isdigit():
        colon = data.find(b":", index)
        if colon < 0 or not data[index:colon].isdigit():
            raise ValueError("malformed bencoded string length")
        length = int(data[index:colon])
        start = colon + 1
        if start + length > len(data):
            raise ValueError("bencoded string ends early")
        return data[start : start + length], start + length
    raise ValueError(f"unexpected byte {lead!r} at offset {index} of the bencoded value")


# --- helpers -----------------------------------------------------------------------------------------------


def _timed(name: str, check: Callable[[], CheckResult]) -> CheckResult:
    """Run one check body; any network or protocol failure becomes a failed result named `name`."""
    started = time.monotonic()
    try:
        result = check()
    except (OSError, http.client.HTTPException, ProbeError, ValueError) as error:
        return CheckResult(name, False, _describe(error), time.monotonic() - started)
    return dataclasses.replace(result, duration_s=time.monotonic() - started)


def _describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "no answer in time"
    if isinstance(error, json.JSONDecodeError):
        return f"the answer is not JSON ({error.msg} at offset {error.pos})"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused: nothing listens on that port"
    if isinstance(error, socket.gaierror):
        return f"cannot resolve the host: {error}"
    text = str(error) or type(error).__name__
    return " ".join(text.split())


def _http_get(host: str, port: int, target: str, timeout: float) -> tuple[int, bytes]:
    """GET `target`; (status, body). The body is read up to 1 MiB: a tracker's answers are small."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", target, headers={"User-Agent": "torrust-deploy-probe"})
        response = connection.getresponse()
        return response.status, response.read(1 << 20)
    finally:
        connection.close()


def _ints(data: Mapping[str, object]) -> dict[str, int]:
    return {key: value for key, value in data.items() if isinstance(value, int) and not isinstance(value, bool)}


def _compact_peers(blob: bytes, ipv6: bool) -> tuple[Peer, ...]:
    size = 18 if ipv6 else 6
    if len(blob) % size:
        raise ProbeError(f"compact peer list of {len(blob)} bytes is not a multiple of {size}")
    family = socket.AF_INET6 if ipv6 else socket.AF_INET
    return tuple(
        (socket.inet_ntop(family, blob[at : at + size - 2]), int.from_bytes(blob[at + size - 2 : at + size], "big"))
        for at in range(0, len(blob), size)
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


_SOURCE_LOCATION = re.compile(r"\.?\s*Error in \S+\.rs:\d+:\d+\s*$")
"""torrust appends the Rust source location to its failure reasons: no use to the user."""


def _text(value: Bencoded | None) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return _SOURCE_LOCATION.sub("", " ".join(text.split()))


# --- health check and REST API -----------------------------------------------------------------------------


def check_health(host: str, port: int, timeout: float = 5.0) -> CheckResult:
    """GET /health_check on the health-check API: passes when it answers JSON `{"status": "Ok", …}`."""

    def run() -> CheckResult:
        status, body = _http_get(host, port, "/health_check", timeout)
        if status != 200:
            return CheckResult("health check", False, f"HTTP {status} from /health_check", 0.0)
        reply = json.loads(body)
        if not isinstance(reply, dict):
            raise ProbeError("the health check did not answer a JSON object")
        details = reply.get("details")
        checked = f" ({_plural(len(details), 'service')} checked)" if isinstance(details, list) else ""
        if reply.get("status") != "Ok":
            message = " ".join(str(reply.get("message") or "").split())
            return CheckResult("health check", False, f"status {reply.get('status')!r}{checked}: {message}", 0.0)
        return CheckResult("health check", True, f"status Ok{checked}", 0.0)

    return _timed("health check", run)


def check_api_stats(host: str, port: int, token: str, timeout: float = 5.0) -> CheckResult:
    """GET /api/v1/stats with the admin token: passes with the tracker's counters in `stats`."""

    def run() -> CheckResult:
        target = "/api/v1/stats?token=" + urllib.parse.quote(token, safe="")
        status, body = _http_get(host, port, target, timeout)
        if status in (401, 403, 500):
            # torrust-tracker 3.0.0 answers a wrong or missing token with 500, later ones with 401/403.
            return CheckResult(
                "REST API stats", False, f"HTTP {status}: the API refused the request (is the token right?)", 0.0
            )
        if status != 200:
            return CheckResult("REST API stats", False, f"HTTP {status} from /api/v1/stats", 0.0)
        reply = json.loads(body)
        if not isinstance(reply, dict) or not isinstance(reply.get("torrents"), int):
            raise ProbeError("/api/v1/stats did not answer the tracker's counters")
        stats = _ints(reply)
        detail = (
            f"{_plural(stats['torrents'], 'torrent')}, {_plural(stats.get('seeders', 0), 'seeder')}, "
            f"{_plural(stats.get('leechers', 0), 'leecher')}"
        )
        return CheckResult("REST API stats", True, detail, 0.0, stats=stats)

    return _timed("REST API stats", run)


# --- HTTP tracker (BEP 3, BEP 23 compact peers, BEP 48 scrape) ----------------------------------------------


def announce_query(info_hash: bytes, peer_id: bytes, port: int = PROBE_PEER_PORT, left: int = PROBE_LEFT) -> str:
    """The query string of an HTTP announce (`event=started`, compact peers)."""
    return (
        f"info_hash={urllib.parse.quote_from_bytes(info_hash, safe='')}"
        f"&peer_id={urllib.parse.quote_from_bytes(peer_id, safe='')}"
        f"&port={port}&uploaded=0&downloaded=0&left={left}&compact=1&event=started"
    )


def parse_http_announce(body: bytes) -> tuple[int, tuple[Peer, ...], dict[str, int]]:
    """(interval, peers, counters) of a bencoded announce reply; `ProbeError` for a failure reason."""
    reply = bdecode(body)
    if not isinstance(reply, dict):
        raise ProbeError("the announce reply is not a bencoded dictionary")
    if b"failure reason" in reply:
        raise ProbeError(f"the tracker refused the announce: {_text(reply[b'failure reason'])}")
    interval = reply.get(b"interval")
    if not isinstance(interval, int):
        raise ProbeError("the announce reply has no interval")
    peers: list[Peer] = []
    for key, ipv6 in ((b"peers", False), (b"peers6", True)):
        value = reply.get(key)
        if isinstance(value, bytes):
            peers.extend(_compact_peers(value, ipv6))
        elif isinstance(value, list):
            for entry in value:
                if isinstance(entry, dict) and isinstance(entry.get(b"ip"), bytes):
                    port = entry.get(b"port")
                    peers.append((_text(entry[b"ip"]), port if isinstance(port, int) else 0))
        elif key == b"peers":
            raise ProbeError("the announce reply has no peers")
    counters = {
        name: value
        for name, value in ((k.decode(), v) for k, v in reply.items() if k in (b"complete", b"incomplete"))
        if isinstance(value, int)
    }
    return interval, tuple(peers), counters


def _keyed(path: str, key: str | None) -> str:
    """`/announce` or `/announce/KEY` (torrust's private mode takes the key in the path)."""
    return path if key is None else f"{path}/{urllib.parse.quote(key, safe='')}"


def check_http_announce(
    host: str,
    port: int,
    info_hash: bytes,
    peer_id: bytes,
    timeout: float = 5.0,
    *,
    peer_port: int = PROBE_PEER_PORT,
    key: str | None = None,
) -> CheckResult:
    """GET /announce on an HTTP tracker: passes with a bencoded reply that has `interval` and `peers`.

    `key`: a private tracker's authentication key (sent as `/announce/KEY`).
    """
    name = f"HTTP announce :{port}"

    def run() -> CheckResult:
        target = _keyed("/announce", key) + "?" + announce_query(info_hash, peer_id, peer_port)
        status, body = _http_get(host, port, target, timeout)
        if status != 200:
            return CheckResult(name, False, f"HTTP {status} from /announce", 0.0)
        interval, peers, counters = parse_http_announce(body)
        detail = f"interval {interval} s, {_plural(len(peers), 'peer')}"
        return CheckResult(name, True, detail, 0.0, interval_s=interval, peers=peers, stats=counters)

    return _timed(name, run)


def check_http_scrape(
    host: str, port: int, info_hash: bytes, timeout: float = 5.0, *, key: str | None = None
) -> CheckResult:
    """GET /scrape for one info-hash: passes when the bencoded `files` has that torrent's counters.

    (A private tracker asked without a key answers zeros: the check still passes, the counters say 0.)
    """
    name = f"HTTP scrape :{port}"

    def run() -> CheckResult:
        target = _keyed("/scrape", key) + "?info_hash=" + urllib.parse.quote_from_bytes(info_hash, safe="")
        status, body = _http_get(host, port, target, timeout)
        if status != 200:
            return CheckResult(name, False, f"HTTP {status} from /scrape", 0.0)
        reply = bdecode(body)
        if not isinstance(reply, dict):
            raise ProbeError("the scrape reply is not a bencoded dictionary")
        if b"failure reason" in reply:
            raise ProbeError(f"the tracker refused the scrape: {_text(reply[b'failure reason'])}")
        files = reply.get(b"files")
        if not isinstance(files, dict):
            raise ProbeError("the scrape reply has no files")
        entry = files.get(info_hash)
        if not isinstance(entry, dict):
            raise ProbeError("the scrape reply does not list the probed torrent")
        counters = {key.decode(): value for key, value in entry.items() if isinstance(value, int)}
        return CheckResult(name, True, _scrape_detail(counters), 0.0, stats=counters)

    return _timed(name, run)


def _scrape_detail(counters: Mapping[str, int]) -> str:
    return (
        f"{counters.get('complete', 0)} complete, {counters.get('incomplete', 0)} incomplete, "
        f"{counters.get('downloaded', 0)} downloaded"
    )


def check_http_announce_needs_key(
    host: str, port: int, info_hash: bytes, peer_id: bytes, timeout: float = 5.0
) -> CheckResult:
    """A private tracker asked without a key: passes when it refuses the announce for want of authentication."""
    name = f"HTTP announce without key :{port}"

    def run() -> CheckResult:
        status, body = _http_get(host, port, "/announce?" + announce_query(info_hash, peer_id), timeout)
        if status != 200:
            return CheckResult(name, False, f"HTTP {status} from /announce", 0.0)
        try:
            interval, _, _ = parse_http_announce(body)
        except ProbeError as error:
            text = str(error)
            if "refused" in text and re.search(r"auth|key", text, re.IGNORECASE):
                return CheckResult(name, True, "refused without a key, as a private tracker must", 0.0)
            raise
        return CheckResult(
            name, False, f"announced without a key (interval {interval} s): the tracker is not private", 0.0
        )

    return _timed(name, run)


# --- UDP tracker (BEP 15) ----------------------------------------------------------------------------------


def udp_connect_request(transaction_id: int) -> bytes:
    return struct.pack(">QII", UDP_PROTOCOL_ID, UDP_ACTION_CONNECT, transaction_id)


def udp_announce_request(
    connection_id: int,
    transaction_id: int,
    info_hash: bytes,
    peer_id: bytes,
    *,
    key: int,
    port: int = PROBE_PEER_PORT,
    left: int = PROBE_LEFT,
) -> bytes:
    """98 bytes: ids, info-hash, peer id, downloaded/left/uploaded, event started, IP 0, key, num_want -1, port."""
    return struct.pack(
        ">QII20s20sQQQIIIiH",
        connection_id,
        UDP_ACTION_ANNOUNCE,
        transaction_id,
        info_hash,
        peer_id,
        0,
        left,
        0,
        UDP_EVENT_STARTED,
        0,
        key,
        -1,
        port,
    )


def udp_scrape_request(connection_id: int, transaction_id: int, info_hashes: list[bytes]) -> bytes:
    return struct.pack(">QII", connection_id, UDP_ACTION_SCRAPE, transaction_id) + b"".join(info_hashes)


def parse_udp_reply(data: bytes, transaction_id: int, action: int) -> bytes:
    """The payload after action and transaction id; `ProbeError` for an error reply or a wrong action."""
    if len(data) < 8:
        raise ProbeError(f"UDP reply of {len(data)} bytes is too short")
    got_action, got_transaction = struct.unpack_from(">II", data)
    if got_transaction != transaction_id:
        raise ProbeError("UDP reply has another transaction id")
    if got_action == UDP_ACTION_ERROR:
        message = data[8:].decode("utf-8", "replace").strip() or "no message"
        raise ProbeError(f"the tracker answered an error: {message}")
    if got_action != action:
        raise ProbeError(f"UDP reply has action {got_action}, expected {action}")
    return data[8:]


def _udp_exchange(sock: socket.socket, request: bytes, transaction_id: int, action: int, deadline: float) -> bytes:
    """Send and retransmit (waits 0.25 s, 0.5 s, 1 s, … until the deadline); skip replies of other requests."""
    wait = UDP_FIRST_WAIT_S
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no UDP answer in time")
        sock.send(request)
        attempt_end = time.monotonic() + min(wait, remaining)
        wait *= 2
        while (left := attempt_end - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                data = sock.recv(65536)
            except TimeoutError:
                break
            if len(data) >= 8 and struct.unpack_from(">I", data, 4)[0] == transaction_id:
                return parse_udp_reply(data, transaction_id, action)
            # A late answer to an earlier request (or noise): keep waiting for ours.


def _transaction_id() -> int:
    return int.from_bytes(os.urandom(4), "big")


def check_udp_connect_announce_scrape(
    host: str, port: int, info_hash: bytes, peer_id: bytes, timeout: float = 5.0, *, peer_port: int = PROBE_PEER_PORT
) -> list[CheckResult]:
    """BEP 15 connect, announce and scrape on one socket: three results (later ones fail when connect does)."""
    names = (f"UDP connect :{port}", f"UDP announce :{port}", f"UDP scrape :{port}")
    results: list[CheckResult] = []
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
        sock = socket.socket(family, socket.SOCK_DGRAM)
    except (OSError, ValueError) as error:
        return [CheckResult(name, False, _describe(error), 0.0) for name in names]
    ipv6 = family == socket.AF_INET6
    connection_id = 0

    def connect() -> CheckResult:
        nonlocal connection_id
        sock.connect(address)
        tid = _transaction_id()
        payload = _udp_exchange(sock, udp_connect_request(tid), tid, UDP_ACTION_CONNECT, time.monotonic() + timeout)
        if len(payload) < 8:
            raise ProbeError("UDP connect reply is too short")
        (connection_id,) = struct.unpack_from(">Q", payload)
        return CheckResult(names[0], True, "connection id received", 0.0)

    def announce() -> CheckResult:
        tid = _transaction_id()
        request = udp_announce_request(connection_id, tid, info_hash, peer_id, key=_transaction_id(), port=peer_port)
        payload = _udp_exchange(sock, request, tid, UDP_ACTION_ANNOUNCE, time.monotonic() + timeout)
        interval, leechers, seeders, peers = parse_udp_announce(payload, ipv6)
        detail = f"interval {interval} s, {_plural(seeders, 'seeder')}, {_plural(leechers, 'leecher')}"
        detail += f", {_plural(len(peers), 'peer')}"
        return CheckResult(
            names[1],
            True,
            detail,
            0.0,
            interval_s=interval,
            peers=peers,
            stats={"seeders": seeders, "leechers": leechers},
        )

    def scrape() -> CheckResult:
        tid = _transaction_id()
        request = udp_scrape_request(connection_id, tid, [info_hash])
        payload = _udp_exchange(sock, request, tid, UDP_ACTION_SCRAPE, time.monotonic() + timeout)
        counters = parse_udp_scrape(payload)
        return CheckResult(names[2], True, _scrape_detail(counters), 0.0, stats=counters)

    with sock:
        for name, step in zip(names, (connect, announce, scrape), strict=True):
            if results and not results[0].ok:
                results.append(CheckResult(name, False, "not run: the UDP connect failed", 0.0))
                continue
            results.append(_timed(name, step))
    return results


def parse_udp_announce(payload: bytes, ipv6: bool = False) -> tuple[int, int, int, tuple[Peer, ...]]:
    """(interval, leechers, seeders, peers) of an announce reply's payload (after action and transaction id)."""
    if len(payload) < 12:
        raise ProbeError("UDP announce reply is too short")
    interval, leechers, seeders = struct.unpack_from(">III", payload)
    return interval, leechers, seeders, _compact_peers(payload[12:], ipv6)


def parse_udp_scrape(payload: bytes) -> dict[str, int]:
    """The first torrent's counters of a scrape reply's payload: complete, downloaded, incomplete."""
    if len(payload) < 12:
        raise ProbeError("UDP scrape reply is too short")
    complete, downloaded, incomplete = struct.unpack_from(">III", payload)
    return {"complete": complete, "downloaded": downloaded, "incomplete": incomplete}


# --- all checks --------------------------------------------------------------------------------------------


def run_checks(
    host: str,
    settings: TrackerSettings,
    token: str,
    timeout: float = 5.0,
    *,
    info_hash: bytes | None = None,
    key: str | None = None,
) -> list[CheckResult]:
    """Every check against the tracker at `host`: health, each HTTP and each UDP tracker port, the API stats.

    One random info-hash and peer id per run (unless `info_hash` is given), announced as a leecher; the API
    stats are read last so they count that torrent. A private tracker (`settings.private`) is announced to
    with `key` when one is given, else the check is that it refuses an announce without a key; torrust runs
    no UDP tracker in private mode, so each UDP port is then one failed result saying so.
    """
    info_hash = info_hash if info_hash is not None else random_info_hash()
    peer_id = random_peer_id()
    results = [check_health(host, settings.health_check_port, timeout)]
    for port in settings.http_ports:
        if settings.private and key is None:
            results.append(check_http_announce_needs_key(host, port, info_hash, peer_id, timeout))
        else:
            results.append(check_http_announce(host, port, info_hash, peer_id, timeout, key=key))
        results.append(check_http_scrape(host, port, info_hash, timeout, key=key))
    for port in settings.udp_ports:
        if settings.private:
            results.append(
                CheckResult(
                    f"UDP tracker :{port}",
                    False,
                    "not started: torrust-tracker runs no UDP tracker in private mode (drop udp_ports)",
                    0.0,
                )
            )
            continue
        results.extend(check_udp_connect_announce_scrape(host, port, info_hash, peer_id, timeout))
    results.append(check_api_stats(host, settings.api_port, token, timeout))
    return results


def announce_intervals(results: list[CheckResult]) -> dict[str, int]:
    """The interval each announce check got, by check name."""
    return {result.name: result.interval_s for result in results if result.interval_s is not None}
