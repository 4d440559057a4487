"""environment.json read with the standard library only, strictly — for the CLI's quick path.

`JsonFileRepository.load` (pydantic models, then the domain objects) is the reference reader. This one
answers only when it is sure to agree with it, and gives None on any doubt: a field missing, extra or of
another JSON type than the one torrust-deploy writes, a value the domain would reject or normalize
(paths, summaries), an unknown schema version or state, a file that cannot be read. The caller then asks
the repository, which reports the problem properly. It accepts a subset of what the repository accepts,
never more, and returns what the domain objects would hold, as plain values (`StoredEnvironment`).

Importing it costs little more than `datetime`: no pydantic, no filelock, no `typing`, no `dataclasses`,
and no `re` or `json` (`re` and the `enum` it builds on cost half as much as starting the interpreter, and
`json` imports `re`). The rules are spelled as character checks, and the UTF-8 documents torrust-deploy
writes are parsed by the C scanner `json` itself parses with (`_json_document`).
"""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime

from orchestrator.domain import vocabulary

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypedDict

    class StoredSsh(TypedDict):
        private_key_path: str
        public_key_path: str
        username: str
        port: int

    class StoredLxd(TypedDict):
        endpoint: str | None
        client_cert_path: str | None
        client_key_path: str | None
        server_cert_path: str | None
        image_alias: str
        instance_type: str
        profile_name: str | None
        network: str
        storage_pool: str

    class StoredFailure(TypedDict):
        step: str | None
        error_kind: str
        summary: str
        started_at: datetime
        failed_at: datetime
        trace_path: str | None

    class StoredTracker(TypedDict):
        version: str
        image: str | None
        udp_ports: list[int]
        http_ports: list[int]
        api_port: int
        health_check_port: int
        private: bool
        announce_interval_s: int
        database: str

    class StoredEnvironment(TypedDict):
        """An environment as the domain would hold it; times in UTC, paths as `str(Path(...))` gives them."""

        name: str
        state: str
        """The domain state's class name (`ProvisionFailed`)."""
        state_since: datetime
        last_seq: int
        instance_name: str
        instance_ip: str | None
        created_at: datetime
        registered: bool
        ssh: StoredSsh
        lxd: StoredLxd
        failure: StoredFailure | None
        tracker: StoredTracker | None


# The layout of an environment's directory (shared with `repository`).
STATE_FILE = "environment.json"
LOCK_FILE = "environment.json.lock"
SCHEMA_VERSION = 2
"""What this version writes: 2 added the tracker (context.tracker) and the release/run states."""
READABLE_SCHEMA_VERSIONS = (1, 2)

# From the domain's vocabulary (standard library only, imports nothing).
STATE_NAMES = vocabulary.DISPLAY_NAME
FAILURE_STEPS = {tag: vocabulary.COMMAND_STEPS[vocabulary.COMMAND_OF[tag]] for tag in vocabulary.FAILED_TAGS}
NEEDS_IP = frozenset(vocabulary.WITH_INSTANCE)
# Copies of domain rules, each checked against the domain by tests/unit/persistence/test_strict_read.py.
INSTANCE_TYPES = ("container", "virtual-machine")
MAX_NAME_LENGTH = 63
MAX_POSIX_USER_LENGTH = 32
MAX_SUMMARY_LENGTH = 500
DATABASE_DRIVERS = ("sqlite3",)

_DIGITS = frozenset("0123456789")
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_NAME_CHARACTERS = _LOWER | _DIGITS | {"-"}
_USER_CHARACTERS = _LOWER | _DIGITS | {"_", "-"}
_PRERELEASE_CHARACTERS = _LOWER | _DIGITS | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ.-")
_JSON_WHITESPACE = " \t\n\r"
_DOCUMENT_KEYS = frozenset({"schema_version", "name", "state", "state_since", "last_seq", "context"})
_CONTEXT_KEYS = frozenset({"instance_name", "instance_ip", "created_at", "ssh", "lxd"})
_SSH_KEYS = frozenset({"private_key_path", "public_key_path", "username", "port"})
_LXD_KEYS = frozenset(
    {
        "endpoint",
        "client_cert_path",
        "client_key_path",
        "server_cert_path",
        "image_alias",
        "instance_type",
        "profile_name",
        "network",
        "storage_pool",
    }
)
_TRACKER_KEYS = frozenset(
    {
        "version",
        "image",
        "udp_ports",
        "http_ports",
        "api_port",
        "health_check_port",
        "private",
        "announce_interval_s",
        "database",
    }
)
_FAILURE_KEYS = frozenset({"step", "error_kind", "summary", "started_at", "failed_at", "trace_path"})


class _NotSureError(Exception):
    """Not sure to agree with the repository: the caller asks it instead."""


def valid_environment_name(name: str) -> bool:
    """Whether `EnvironmentName(name)` accepts `name`: `[a-z](?:[a-z0-9-]*[a-z0-9])?`, at most 63 long."""
    return (
        0 < len(name) <= MAX_NAME_LENGTH
        and name[0] in _LOWER
        and name[-1] != "-"
        and all(character in _NAME_CHARACTERS for character in name)
    )


def valid_posix_user(username: str) -> bool:
    """Whether `SshCredentials` accepts `username`: `[a-z_][a-z0-9_-]{0,31}`."""
    return (
        0 < len(username) <= MAX_POSIX_USER_LENGTH
        and username[0] not in _DIGITS
        and username[0] != "-"
        and all(character in _USER_CHARACTERS for character in username)
    )


def valid_tracker_version(version: str) -> bool:
    """Whether `version` is `N.N.N` or `N.N.N-PRERELEASE` in ASCII digits and letters (the domain's rule,
    `\\d+\\.\\d+\\.\\d+(-[0-9A-Za-z.-]+)?`, also takes other Unicode digits: those go to the full CLI)."""
    release, dash, prerelease = version.partition("-")
    parts = release.split(".")
    return (
        len(parts) == 3
        and all(part and all(character in _DIGITS for character in part) for part in parts)
        and (not dash or (prerelease != "" and all(character in _PRERELEASE_CHARACTERS for character in prerelease)))
    )


def plain_timestamp(text: str) -> bool:
    """Whether `text` is spelled `YYYY-MM-DDTHH:MM:SS[.F{1,6}](Z|±HH:MM)` (hours of the offset 00-23,
    minutes 00-59), ASCII digits: what torrust-deploy writes (pydantic's UTC `Z`, or an offset), and what
    `datetime.fromisoformat` and pydantic both read the same."""
    if text.endswith("Z"):
        body = text[:-1]
    else:
        body, zone = text[:-6], text[-6:]
        hours, minutes = zone[1:3], zone[4:]
        if not (
            len(zone) == 6
            and zone[0] in "+-"
            and zone[3] == ":"
            and _digits(hours)
            and _digits(minutes)
            and hours <= "23"
            and minutes <= "59"
        ):
            return False
    seconds, dot, fraction = body.partition(".")
    if dot and not (1 <= len(fraction) <= 6 and _digits(fraction)):
        return False
    return len(seconds) == 19 and all(
        (character in _DIGITS) if shape == "d" else (character == shape)
        for character, shape in zip(seconds, "dddd-dd-ddTdd:dd:dd", strict=True)
    )


def _digits(text: str) -> bool:
    return text != "" and all(character in _DIGITS for character in text)


def environment_names(data_dir: str) -> list[str] | None:
    """What `JsonFileRepository(data_dir).list()` returns, as strings; None when not sure."""
    try:
        if not stat.S_ISDIR(os.stat(data_dir).st_mode):
            return []
        entries = os.listdir(data_dir)
    except (FileNotFoundError, NotADirectoryError):
        return []
    except (OSError, ValueError):
        return None
    names = []
    for entry in entries:
        if not valid_environment_name(entry):
            continue
        try:
            mode = os.stat(os.path.join(data_dir, entry, STATE_FILE)).st_mode
        except (FileNotFoundError, NotADirectoryError):
            continue
        except (OSError, ValueError):
            return None
        if stat.S_ISREG(mode):
            names.append(entry)
    return sorted(names)


def read_environment(data_dir: str, name: str) -> StoredEnvironment | None:
    """What `JsonFileRepository(data_dir).load(EnvironmentName(name))` holds, as plain values.

    None when the repository would answer anything else (no such environment, an unreadable file, …) or
    when not sure.
    """
    if not valid_environment_name(name):
        return None
    try:
        with open(os.path.join(data_dir, name, STATE_FILE), "rb") as file:
            raw = file.read()
    except (OSError, ValueError):
        return None
    return decode_environment(raw, name)


def decode_environment(raw: bytes, name: str) -> StoredEnvironment | None:
    """The environment `name` that environment.json bytes describe, or None when not sure."""
    try:
        return _environment(_json_document(raw), name)
    except Exception:  # _NotSureError, and anything unexpected: the repository will know better
        return None


class _ScannerSettings:
    """What `json.JSONDecoder()` hands its scanner: `json.loads`'s defaults."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = float  # NaN, Infinity, -Infinity: the values json.loads gives them


def _json_document(raw: bytes) -> Any:
    """`json.loads(raw)`: same value, same refusals (as some exception).

    UTF-8 without a byte order mark, what torrust-deploy writes, is parsed by the C scanner `json.loads`
    itself uses (`_json`, settings as `JSONDecoder`'s), without importing `json`; anything else (another
    encoding, an interpreter without that scanner) by `json.loads`.
    """
    try:
        from _json import make_scanner

        text = None if b"\x00" in raw[:4] else raw.decode("utf-8")  # json.loads reads NULs as UTF-16 or 32
    except (ImportError, UnicodeDecodeError):  # e.g. a surrogate, which json.loads lets pass
        text = None
    if text is None or text.startswith("\ufeff"):  # UTF-8 with a byte order mark
        import json

        return json.loads(raw)
    start = len(text) - len(text.lstrip(_JSON_WHITESPACE))
    try:
        # typeshed types the context as a scanner; the C code reads the six attributes JSONDecoder has
        value, end = make_scanner(_ScannerSettings())(text, start)  # type: ignore[arg-type]
    except StopIteration as error:  # nothing a value begins with, where json.loads says "Expecting value"
        raise ValueError(f"no JSON value at {error.value}") from None
    if text[end:].strip(_JSON_WHITESPACE):
        raise ValueError(f"extra data at {end}")
    return value


def _environment(data: Any, name: str) -> StoredEnvironment:
    tag = data.get("state") if type(data) is dict else None
    if tag not in STATE_NAMES:
        raise _NotSureError
    failed = tag in FAILURE_STEPS
    _keys(data, (_DOCUMENT_KEYS | {"failure"}) if failed else _DOCUMENT_KEYS)
    version = _int(data["schema_version"])
    if version not in READABLE_SCHEMA_VERSIONS or _str(data["name"]) != name:
        raise _NotSureError
    last_seq = _int(data["last_seq"])
    context = data["context"]
    if context.get("drift") is not None if type(context) is dict else False:
        raise _NotSureError  # a noted `check` finding: the full CLI shows it
    context = {key: value for key, value in context.items() if key != "drift"} if type(context) is dict else context
    _keys(context, _CONTEXT_KEYS | {"tracker"} if version >= 2 else _CONTEXT_KEYS, optional="registered")
    instance_ip = _optional_str(context["instance_ip"])
    registered = context.get("registered", False)
    if last_seq < 0 or (tag in NEEDS_IP and instance_ip is None) or type(registered) is not bool:
        raise _NotSureError
    return {
        "name": name,
        "state": STATE_NAMES[tag],
        "state_since": _time(data["state_since"]),
        "last_seq": last_seq,
        "instance_name": _str(context["instance_name"]),
        "instance_ip": instance_ip,
        "created_at": _time(context["created_at"]),
        "registered": registered,
        "ssh": _ssh(context["ssh"]),
        "lxd": _lxd(context["lxd"]),
        "failure": _failure(data["failure"], FAILURE_STEPS[tag]) if failed else None,
        "tracker": None if context.get("tracker") is None else _tracker(context["tracker"], context["ssh"]["port"]),
    }


def _ssh(data: Any) -> StoredSsh:
    _keys(data, _SSH_KEYS)
    username, port = _str(data["username"]), _int(data["port"])
    if not valid_posix_user(username) or not 1 <= port <= 65535:
        raise _NotSureError
    return {
        "private_key_path": _path(data["private_key_path"]),
        "public_key_path": _path(data["public_key_path"]),
        "username": username,
        "port": port,
    }


def _lxd(data: Any) -> StoredLxd:
    _keys(data, _LXD_KEYS)
    endpoint = _optional_str(data["endpoint"])
    client_cert, client_key = _optional_path(data["client_cert_path"]), _optional_path(data["client_key_path"])
    profile_name = _optional_str(data["profile_name"])
    instance_type = _str(data["instance_type"])
    image_alias, network, storage_pool = _str(data["image_alias"]), _str(data["network"]), _str(data["storage_pool"])
    if (
        (endpoint is not None and not endpoint.startswith("https://"))
        or (client_cert is None) != (client_key is None)
        or instance_type not in INSTANCE_TYPES
        or not (image_alias and network and storage_pool)
        or profile_name == ""
    ):
        raise _NotSureError
    return {
        "endpoint": endpoint,
        "client_cert_path": client_cert,
        "client_key_path": client_key,
        "server_cert_path": _optional_path(data["server_cert_path"]),
        "image_alias": image_alias,
        "instance_type": instance_type,
        "profile_name": profile_name,
        "network": network,
        "storage_pool": storage_pool,
    }


def _failure(data: Any, steps: tuple[str, ...]) -> StoredFailure:
    _keys(data, _FAILURE_KEYS)
    step = _optional_str(data["step"])
    summary = _str(data["summary"])
    started_at, failed_at = _time(data["started_at"]), _time(data["failed_at"])
    if (
        (step is not None and step not in steps)
        or failed_at < started_at
        or summary != " ".join(summary.split())  # the domain folds it to one line …
        or len(summary) > MAX_SUMMARY_LENGTH  # … and shortens it
    ):
        raise _NotSureError
    return {
        "step": step,
        "error_kind": _str(data["error_kind"]),
        "summary": summary,
        "started_at": started_at,
        "failed_at": failed_at,
        "trace_path": _optional_path(data["trace_path"]),
    }


def _tracker(data: Any, ssh_port: int) -> StoredTracker:
    _keys(data, _TRACKER_KEYS)
    version, image = _str(data["version"]), _optional_str(data["image"])
    udp, http = _ports(data["udp_ports"]), _ports(data["http_ports"])
    api, health = _int(data["api_port"]), _int(data["health_check_port"])
    interval, private, database = _int(data["announce_interval_s"]), data["private"], _str(data["database"])
    tcp = [*http, api, health]
    if (
        not valid_tracker_version(version)
        or (image is not None and (not image.strip() or any(c.isspace() for c in image)))
        or not (udp or http)
        or interval < 1
        or type(private) is not bool
        or (private and udp)
        or database not in DATABASE_DRIVERS
        or any(not 1 <= port <= 65535 or port == ssh_port for port in [*udp, *tcp])
        or len(set(udp)) != len(udp)
        or len(set(tcp)) != len(tcp)
    ):
        raise _NotSureError
    return {
        "version": version,
        "image": image,
        "udp_ports": udp,
        "http_ports": http,
        "api_port": api,
        "health_check_port": health,
        "private": private,
        "announce_interval_s": interval,
        "database": database,
    }


def _ports(value: Any) -> list[int]:
    if type(value) is not list:
        raise _NotSureError
    return [_int(port) for port in value]


def _keys(data: Any, required: frozenset[str], optional: str | None = None) -> None:
    if type(data) is not dict:
        raise _NotSureError
    keys = data.keys() - {optional} if optional in data else data.keys()
    if keys != required:
        raise _NotSureError


def _str(value: Any) -> str:
    if type(value) is not str:
        raise _NotSureError
    return value


def _optional_str(value: Any) -> str | None:
    return None if value is None else _str(value)


def _int(value: Any) -> int:
    if type(value) is not int:
        raise _NotSureError
    return value


def _time(value: Any) -> datetime:
    """An aware timestamp, in UTC like the repository returns it."""
    if not plain_timestamp(_str(value)):
        raise _NotSureError
    return datetime.fromisoformat(value).astimezone(UTC)


def _path(value: Any) -> str:
    path = _str(value)
    if not plain_path(path):
        raise _NotSureError
    return path


def _optional_path(value: Any) -> str | None:
    return None if value is None else _path(value)


def plain_path(path: str) -> bool:
    """Whether `str(Path(path)) == path`: the paths the domain holds are spelled so (not `a//b`, `./a`, `a/`)."""
    if path in (".", "/"):
        return True
    if not path or path.startswith("//") or path.endswith("/"):
        return False
    return all(part not in ("", ".") for part in path.removeprefix("/").split("/"))
