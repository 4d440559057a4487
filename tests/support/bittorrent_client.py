"""A real BitTorrent client for tests: libtorrent (PyPI `libtorrent`, the rasterbar library), one process each.

Each `BitTorrentClient` runs libtorrent in its own child process (this file run as a script): libtorrent
keeps one UDP-tracker connection-id cache per process, and torrust ties a connection id to the client's
source address, so a second session in the same process is refused ("connection id could not be verified").

    url = f"udp://{ip}:6969/announce"          # or f"http://{ip}:7070/announce"
    with BitTorrentClient(url, info_hash, listen_host=bridge_ip) as first:
        first.announce()                        # event=started; waits for the tracker's reply
        with BitTorrentClient(url, info_hash, listen_host=bridge_ip) as second:
            reply = second.announce()
    assert reply.ok and reply.num_peers == 1 and first.listen_port in {port for _, port in reply.peers}

Against an LXD instance, listen on the controller's address on the instance's bridge (`bridge_ip`, e.g.
10.200.77.1): the tracker records the address it sees the announce come from, and libtorrent announces
only over listen sockets that can reach the tracker (a loopback socket cannot reach an instance).
On loopback the tracker must be told `[core.net] external_ip = "127.0.0.1"` (tracker_process does), else
it hands out loopback peers as 0.0.0.0.

The client adds the torrent by info-hash only (no metadata, no files written), with DHT, local peer discovery,
UPnP and NAT-PMP off: its only peer source is the tracker. It listens on `listen_host` (port chosen by the
system). Every wait is bounded by `timeout`.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import math
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

WORKER = Path(__file__).resolve()
_MAX_LIFETIME_S = 600.0
"""A worker exits on its own after this long, whatever its parent does."""


class BitTorrentClientError(Exception):
    """The client process did not start, did not answer in time, or libtorrent failed; names its stderr."""


@dataclass(frozen=True)
class TrackerReply:
    """What libtorrent saw after one announce."""

    tracker_url: str
    ok: bool
    """True when libtorrent got a reply (tracker_reply_alert); False on a tracker error or no reply in time."""
    message: str
    """libtorrent's alert message (e.g. `... received peers: 1`) or the error / failure reason."""
    num_peers: int | None
    """How many peers the tracker's reply held (tracker_reply_alert.num_peers)."""
    interval_s: int | None
    """Seconds until libtorrent's next announce, right after the reply: the tracker's interval (±1 s)."""
    peers: tuple[tuple[str, int], ...]
    """(address, port) of the peers libtorrent connected to from the tracker's list (waits up to peer_wait_s)."""
    listen_port: int
    warnings: tuple[str, ...] = ()
    """tracker_warning_alert messages that came with the reply."""
    duration_s: float = 0.0


def libtorrent_available() -> bool:
    try:
        importlib.import_module("libtorrent")
    except ImportError:
        return False
    return True


def require_libtorrent() -> None:
    """Skip the test when the `libtorrent` package is missing (fail under CI: it is a dev dependency)."""
    from tests.support.ci import skip_unless_ci_fails

    if not libtorrent_available():
        skip_unless_ci_fails("the Python package `libtorrent` is not installed (pip install -e '.[dev]')")


class BitTorrentClient:
    """One libtorrent session with one torrent, in its own process. Use as a context manager."""

    def __init__(
        self,
        tracker_url: str,
        info_hash: bytes,
        *,
        listen_host: str = "127.0.0.1",
        timeout: float = 20.0,
        python: str = sys.executable,
    ) -> None:
        if len(info_hash) != 20:
            raise ValueError("info_hash must be 20 bytes (a v1 SHA-1 info-hash)")
        self.tracker_url = tracker_url
        self.info_hash = info_hash
        self.listen_host = listen_host
        self.timeout = timeout
        self._python = python
        self._process: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: IO[str] | None = None
        self.listen_port = 0
        self.stop_reply: TrackerReply | None = None
        """After close(): the tracker's answer to event=stopped (None when the process could not be asked)."""

    # --- lifecycle ---

    def start(self) -> BitTorrentClient:
        """Start the process and wait until libtorrent listens (the torrent is added paused: no announce yet)."""
        self._stderr = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - closed in close()
        config = {
            "tracker_url": self.tracker_url,
            "info_hash": self.info_hash.hex(),
            "listen_host": self.listen_host,
            "timeout": self.timeout,
        }
        self._process = subprocess.Popen(
            [self._python, "-u", str(WORKER), json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            cwd=tempfile.gettempdir(),
        )
        threading.Thread(target=self._read_stdout, daemon=True).start()
        ready = self._receive(self.timeout + 5)
        self.listen_port = int(ready["listen_port"])
        return self

    def announce(self, *, peer_wait_s: float = 3.0) -> TrackerReply:
        """Announce now (the first call starts the torrent, later ones force a reannounce ignoring the tracker's
        minimum interval) and wait for the tracker's reply; then, if it listed peers, up to `peer_wait_s` for
        libtorrent to connect to them (that is how their addresses are seen)."""
        started = time.monotonic()
        self._send({"command": "announce", "peer_wait_s": peer_wait_s})
        return self._reply(self._receive(self.timeout + peer_wait_s + 5), started)

    def _reply(self, reply: dict[str, Any], started: float) -> TrackerReply:
        return TrackerReply(
            tracker_url=self.tracker_url,
            ok=bool(reply["ok"]),
            message=str(reply["message"]),
            num_peers=reply.get("num_peers"),
            interval_s=reply.get("interval_s"),
            peers=tuple((str(host), int(port)) for host, port in reply.get("peers", [])),
            listen_port=self.listen_port,
            warnings=tuple(reply.get("warnings", [])),
            duration_s=time.monotonic() - started,
        )

    def close(self) -> None:
        """Stop the torrent, wait (up to `timeout`) for the tracker's answer to event=stopped, which lands in
        `stop_reply`, then end the process. Never raises for a client that is gone or does not answer."""
        process = self._process
        if process is None:
            return
        try:
            if process.poll() is None and process.stdin is not None:
                started = time.monotonic()
                try:
                    self._send({"command": "stop"})
                    self.stop_reply = self._reply(self._receive(self.timeout + 5), started)
                except BitTorrentClientError:
                    self.stop_reply = None
                with contextlib.suppress(OSError):
                    process.stdin.close()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        finally:
            self._process = None
            if self._stderr is not None:
                self._stderr.close()
                self._stderr = None

    def __enter__(self) -> BitTorrentClient:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- the pipe to the worker ---

    def _read_stdout(self) -> None:
        process = self._process
        assert process is not None and process.stdout is not None
        for line in process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _send(self, message: dict[str, Any]) -> None:
        process = self._process
        if process is None or process.stdin is None:
            raise BitTorrentClientError("the client is not started")
        try:
            process.stdin.write(json.dumps(message) + "\n")
            process.stdin.flush()
        except OSError as error:
            raise BitTorrentClientError(f"the client process is gone: {error}; {self._stderr_tail()}") from error

    def _receive(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self._lines.get(timeout=max(remaining, 0.01))
            except queue.Empty:
                raise BitTorrentClientError(
                    f"the client process did not answer in {timeout:.0f} s; {self._stderr_tail()}"
                ) from None
            if line is None:
                raise BitTorrentClientError(f"the client process exited; {self._stderr_tail()}")
            message: dict[str, Any] = json.loads(line)
            if message.get("event") == "error":
                raise BitTorrentClientError(f"libtorrent: {message['message']}; {self._stderr_tail()}")
            return message

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return "no stderr"
        self._stderr.flush()
        self._stderr.seek(0)
        lines = self._stderr.read().strip().splitlines()[-5:]
        return "stderr: " + (" | ".join(lines) if lines else "(empty)")


def announce_once(
    tracker_url: str, info_hash: bytes, *, listen_host: str = "127.0.0.1", timeout: float = 20.0
) -> TrackerReply:
    """Start a client, announce once, stop it (event=stopped; close() waits for the tracker's answer)."""
    with BitTorrentClient(tracker_url, info_hash, listen_host=listen_host, timeout=timeout) as client:
        return client.announce()


# --- the worker: runs in the child process, imports only the standard library and libtorrent ---------------


def _emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _interval_s(lt: Any, handle: Any, url: str) -> int | None:
    """Seconds from now to libtorrent's next announce to `url` (its v1 endpoint), right after a reply."""
    for entry in handle.trackers():
        if entry.get("url") != url:
            continue
        for endpoint in entry.get("endpoints", []):
            for info in endpoint.get("info_hashes", [])[:1]:
                next_announce = info.get("next_announce")
                if isinstance(next_announce, int) and next_announce > 0:
                    return max(math.ceil(next_announce - time.time()), 0)
    return None


def _worker(config: dict[str, Any]) -> None:
    deadline_of_life = time.monotonic() + _MAX_LIFETIME_S
    threading.Thread(target=_die_at, args=(deadline_of_life,), daemon=True).start()
    try:
        lt: Any = importlib.import_module("libtorrent")
    except ImportError as error:
        _emit({"event": "error", "message": f"cannot import libtorrent: {error}"})
        return
    url, timeout = str(config["tracker_url"]), float(config["timeout"])
    host = str(config["listen_host"])
    session = lt.session(
        {
            "listen_interfaces": f"[{host}]:0" if ":" in host else f"{host}:0",
            "enable_dht": False,
            "enable_lsd": False,
            "enable_upnp": False,
            "enable_natpmp": False,
            "alert_mask": lt.alert_category.tracker
            | lt.alert_category.connect
            | lt.alert_category.status
            | lt.alert_category.error,
            "min_announce_interval": 1,  # else libtorrent waits at least 300 s, hiding the tracker's interval
            "stop_tracker_timeout": 1,
            "user_agent": "torrust-deploy-tests/libtorrent " + lt.__version__,
        }
    )
    listen_port = _wait_listening(lt, session, timeout)
    if listen_port is None:
        _emit({"event": "error", "message": f"no listen socket on {host} within {timeout:.0f} s"})
        return
    with tempfile.TemporaryDirectory(prefix="bt-client-") as save_path:
        params = lt.add_torrent_params()
        params.info_hashes = lt.info_hash_t(lt.sha1_hash(bytes.fromhex(config["info_hash"])))
        params.trackers = [url]
        params.save_path = save_path
        params.flags &= ~lt.torrent_flags.auto_managed
        params.flags |= lt.torrent_flags.paused
        handle = session.add_torrent(params)
        _emit({"event": "ready", "listen_port": listen_port})
        started = False
        for line in sys.stdin:
            command = json.loads(line)
            if command.get("command") != "announce":
                break
            _drain(session)
            if started:
                handle.force_reannounce(0, -1, lt.reannounce_flags_t.ignore_min_interval)
            else:
                handle.resume()
                started = True
            _emit(_await_reply(lt, session, handle, url, timeout, float(command.get("peer_wait_s", 3.0))))
        if started:
            # Pausing the torrent sends event=stopped and libtorrent reports the tracker's answer; removing it
            # (or ending the session) sends it too but gives up after stop_tracker_timeout without a word.
            _drain(session)
            handle.pause()
            _emit(_await_reply(lt, session, handle, url, timeout, 0.0))
        else:
            _emit({"ok": True, "message": "never announced: nothing to stop", "num_peers": None})
        session.remove_torrent(handle)
    del session


def _die_at(deadline: float) -> None:
    time.sleep(max(deadline - time.monotonic(), 0))
    os._exit(3)


def _wait_listening(lt: Any, session: Any, timeout: float) -> int | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        session.wait_for_alert(100)
        for alert in session.pop_alerts():
            if isinstance(alert, lt.listen_succeeded_alert):
                return int(alert.port)
            if isinstance(alert, lt.listen_failed_alert):
                return None
    port = session.listen_port()
    return int(port) if port else None


def _drain(session: Any) -> None:
    session.pop_alerts()


def _await_reply(lt: Any, session: Any, handle: Any, url: str, timeout: float, peer_wait_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    warnings: list[str] = []
    outcome: dict[str, Any] | None = None
    peers: dict[tuple[str, int], None] = {}
    while outcome is None and time.monotonic() < deadline:
        session.wait_for_alert(100)
        for alert in session.pop_alerts():
            if isinstance(alert, lt.tracker_reply_alert):
                outcome = {
                    "ok": True,
                    "message": alert.message(),
                    "num_peers": int(alert.num_peers),
                    "interval_s": _interval_s(lt, handle, url),
                }
            elif isinstance(alert, lt.tracker_error_alert):
                outcome = {"ok": False, "message": alert.message(), "num_peers": None}  # holds the failure reason
            elif isinstance(alert, lt.tracker_warning_alert):
                warnings.append(alert.message())
            elif isinstance(alert, lt.peer_connect_alert) and "outgoing" in alert.message():
                peers[(str(alert.ip[0]), int(alert.ip[1]))] = None
            if outcome is not None:
                break
    if outcome is None:
        outcome = {"ok": False, "message": f"no tracker reply within {timeout:.0f} s", "num_peers": None}
    wanted = outcome.get("num_peers") or 0
    peer_deadline = time.monotonic() + peer_wait_s
    while len(peers) < wanted and time.monotonic() < peer_deadline:
        session.wait_for_alert(100)
        for alert in session.pop_alerts():
            if isinstance(alert, lt.peer_connect_alert) and "outgoing" in alert.message():
                peers[(str(alert.ip[0]), int(alert.ip[1]))] = None
        for info in handle.get_peer_info():
            if info.source & lt.peer_info.tracker:
                peers[(str(info.ip[0]), int(info.ip[1]))] = None
    outcome["warnings"] = warnings
    outcome["peers"] = [list(peer) for peer in peers]
    return outcome


if __name__ == "__main__":
    _worker(json.loads(sys.argv[1]))
