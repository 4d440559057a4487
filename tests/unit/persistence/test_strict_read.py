"""`strict_read` (standard library only) agrees with the repository (pydantic + domain) whenever it answers,
and gives up (None) on everything else: it may accept less than the repository, never more."""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

import pytest

from orchestrator.domain import (
    IN_PROGRESS,
    STATE_TYPES_BY_TAG,
    Configured,
    ConfigureFailed,
    ConfigureStep,
    Configuring,
    Created,
    Destroyed,
    DestroyFailed,
    Destroying,
    DestroyStep,
    Environment,
    EnvironmentName,
    FailureContext,
    InstanceType,
    InvalidEnvironmentNameError,
    InvalidInstanceIpError,
    InvalidSshCredentialsError,
    InvalidTrackerSettingsError,
    Provisioned,
    ProvisionFailed,
    Provisioning,
    ProvisionStep,
    Released,
    ReleaseFailed,
    ReleaseStep,
    Releasing,
    RunFailed,
    Running,
    RunStep,
    SshCredentials,
    Starting,
    State,
    TrackerSettings,
)
from orchestrator.domain import failure as domain_failure
from orchestrator.domain import names as domain_names
from orchestrator.persistence import JsonFileRepository, strict_read
from orchestrator.persistence.models import dump_document, parse_document, to_environment
from orchestrator.persistence.strict_read import (
    FAILURE_STEPS,
    INSTANCE_TYPES,
    MAX_NAME_LENGTH,
    MAX_SUMMARY_LENGTH,
    NEEDS_IP,
    SCHEMA_VERSION,
    STATE_FILE,
    STATE_NAMES,
    decode_environment,
    environment_names,
    plain_path,
    plain_timestamp,
    read_environment,
    valid_environment_name,
    valid_posix_user,
    valid_tracker_version,
)
from tests.support.environments import BUILDERS, VARIANTS

if TYPE_CHECKING:
    from orchestrator.persistence.strict_read import StoredEnvironment

ALL_BUILDERS = {**BUILDERS, **VARIANTS}


def stored_of(env: Environment[Any]) -> StoredEnvironment:
    """What `strict_read` should return for `env`, from the domain objects."""
    context, failure = env.context, getattr(env.state, "failure", None)
    ssh, lxd, tracker = context.ssh, context.lxd, context.tracker

    def text(path: Path | None) -> str | None:
        return None if path is None else str(path)

    return {
        "name": str(env.name),
        "state": type(env.state).__name__,
        "state_since": env.state_since,
        "last_seq": env.last_seq,
        "instance_name": context.instance_name,
        "instance_ip": context.instance_ip,
        "created_at": context.created_at,
        "registered": context.registered,
        "ssh": {
            "private_key_path": str(ssh.private_key_path),
            "public_key_path": str(ssh.public_key_path),
            "username": ssh.username,
            "port": ssh.port,
        },
        "lxd": {
            "endpoint": lxd.endpoint,
            "client_cert_path": text(lxd.client_cert_path),
            "client_key_path": text(lxd.client_key_path),
            "server_cert_path": text(lxd.server_cert_path),
            "image_alias": lxd.image_alias,
            "instance_type": lxd.instance_type,
            "profile_name": lxd.profile_name,
            "network": lxd.network,
            "storage_pool": lxd.storage_pool,
        },
        "failure": None
        if failure is None
        else {
            "step": None if failure.step is None else failure.step.value,
            "error_kind": failure.error_kind,
            "summary": failure.summary,
            "started_at": failure.started_at,
            "failed_at": failure.failed_at,
            "trace_path": text(failure.trace_path),
        },
        "tracker": None
        if tracker is None
        else {
            "version": tracker.version,
            "image": tracker.image,
            "udp_ports": list(tracker.udp_ports),
            "http_ports": list(tracker.http_ports),
            "api_port": tracker.api_port,
            "health_check_port": tracker.health_check_port,
            "private": tracker.private,
            "announce_interval_s": tracker.announce_interval_s,
            "database": tracker.database,
        },
    }


def reference(raw: bytes, name: str) -> StoredEnvironment | None:
    """What `JsonFileRepository.load` makes of `raw`, or None when it fails."""
    path = Path("environment.json")
    try:
        env = to_environment(parse_document(raw, path), path)
    except Exception:
        return None
    return stored_of(env) if str(env.name) == name else None


# --- agreement on what torrust-deploy writes ---------------------------------------------------------


@pytest.mark.parametrize("kind", ALL_BUILDERS)
def test_reads_every_saved_environment_as_the_repository_loads_it(data_dir: Path, kind: str) -> None:
    repository = JsonFileRepository(data_dir)
    repository.save(ALL_BUILDERS[kind]())
    loaded = repository.load(EnvironmentName("e2e"))
    assert loaded is not None

    assert read_environment(str(data_dir), "e2e") == stored_of(loaded)


@pytest.mark.parametrize(
    "problem",
    ["missing", "directory", "invalid-name", "name-mismatch", "not-json", "newer-schema"],
)
def test_gives_up_where_the_repository_reports_a_problem(data_dir: Path, problem: str) -> None:
    raw = dump_document(BUILDERS["configured"]())
    state_file = data_dir / "e2e" / STATE_FILE
    state_file.parent.mkdir(parents=True)
    name = "e2e"
    if problem == "directory":
        state_file.mkdir()
    elif problem == "invalid-name":
        name = "E2E"
    elif problem == "name-mismatch":
        state_file.write_bytes(raw.replace(b'"name": "e2e"', b'"name": "other"'))
    elif problem == "not-json":
        state_file.write_bytes(raw[:-20])
    elif problem == "newer-schema":
        state_file.write_bytes(raw.replace(b'"schema_version": 2', b'"schema_version": 3'))

    assert read_environment(str(data_dir), name) is None


# --- never more than the repository: mutated documents -------------------------------------------------

ODD_VALUES: list[Any] = [
    None,
    "",
    " ",
    0,
    -1,
    22,
    65536,
    True,
    1.0,
    "22",
    "true",
    [],
    {},
    "x",
    "a//b",
    "./a",
    "a/",
    "/",
    "Root",
    "a b",
    "a  b",
    "x" * (MAX_SUMMARY_LENGTH + 1),
    "https://h:8443",
    "http://h",
    "virtual-machine",
    "provisioned",
    "provision_failed",
    "wait_ssh",
    "install_docker",
    "pulumi_destroy",
    "2025-03-01T12:00:00Z",
    "2025-03-01T12:00:00.5+02:00",
    "2025-03-01T11:59:59-00:30",
    "2025-03-01 12:00:00Z",
    "2025-03-01T12:00:00",
    "2025-02-30T12:00:00Z",
    "2025-03-01T12:00:00.1234567Z",
    "0001-01-01T00:00:00+01:00",
    "２０２５-03-01T12:00:00Z",
]


def _leaves(document: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for key, value in document.items():
        yield (*path, key)
        if isinstance(value, dict):
            yield from _leaves(value, (*path, key))


def _mutations(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Each field removed, or replaced by each odd value; an extra field in each object."""
    for path in _leaves(document):
        for value in [_REMOVE, *ODD_VALUES]:
            mutated = copy.deepcopy(document)
            parent = mutated
            for key in path[:-1]:
                parent = parent[key]
            if value is _REMOVE:
                del parent[path[-1]]
            else:
                parent[path[-1]] = value
            yield mutated
    for path in [(), *(p for p in _leaves(document) if isinstance(_get(document, p), dict))]:
        mutated = copy.deepcopy(document)
        _get(mutated, path)["extra"] = None
        yield mutated


_REMOVE = object()


def _get(document: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        document = document[key]
    return document


@pytest.mark.parametrize(
    "kind",
    ["created", "configure_failed", "provision_failed", "destroy_failed", "registered", "remote-lxd", "running"],
)
def test_never_accepts_a_document_the_repository_would_read_differently(kind: str) -> None:
    document = json.loads(dump_document(ALL_BUILDERS[kind]()))
    answered = 0
    for mutated in _mutations(document):
        raw = json.dumps(mutated).encode()
        quick = decode_environment(raw, "e2e")
        if quick is not None:
            answered += 1
            assert quick == reference(raw, "e2e"), mutated

    assert answered > 0  # the odd values include valid ones: the comparison is not vacuous


@pytest.mark.parametrize(
    "raw",
    [b"", b"null", b"[]", b"{", b"\xff\xfe{}", "\ufeff{}".encode(), b'{"state": ["created"]}'],
    ids=["empty", "null", "list", "torn", "bad-utf8", "bom", "unhashable-state"],
)
def test_gives_up_on_bytes_that_are_not_an_environment(raw: bytes) -> None:
    assert decode_environment(raw, "e2e") is None


def test_reads_a_document_in_another_json_encoding_like_the_repository() -> None:
    raw = dump_document(BUILDERS["configured"]()).decode().encode("utf-16")

    assert decode_environment(raw, "e2e") == reference(raw, "e2e") is not None


# --- the copies of domain rules -----------------------------------------------------------------------


def test_state_tables_match_the_domain_states() -> None:
    assert {tag: cls.__name__ for tag, cls in STATE_TYPES_BY_TAG.items()} == STATE_NAMES
    steps = {
        "provision_failed": ProvisionStep,
        "configure_failed": ConfigureStep,
        "release_failed": ReleaseStep,
        "run_failed": RunStep,
        "destroy_failed": DestroyStep,
    }
    assert {tag: tuple(step.value for step in enum) for tag, enum in steps.items()} == FAILURE_STEPS
    assert set(get_args(InstanceType)) == set(INSTANCE_TYPES)
    assert json.loads(dump_document(BUILDERS["created"]()))["schema_version"] == SCHEMA_VERSION
    assert {cls.__name__ for cls in IN_PROGRESS} <= set(STATE_NAMES.values())


def test_states_that_need_an_address_match_the_domain() -> None:
    created = BUILDERS["created"]()
    when = created.context.created_at
    failure = FailureContext(None, "Interrupted", "stopped", when, when)
    states: list[State] = [
        Created(),
        Provisioning(),
        Provisioned(),
        ProvisionFailed(failure),
        Configuring(),
        Configured(),
        ConfigureFailed(failure),
        Releasing(),
        Released(),
        ReleaseFailed(failure),
        Starting(),
        Running(),
        RunFailed(failure),
        Destroying(),
        Destroyed(),
        DestroyFailed(failure),
    ]
    needs_ip = set()
    for state in states:
        try:
            Environment.restore(created.context, state, state_since=when, last_seq=1)
        except InvalidInstanceIpError:
            needs_ip.add(state.tag)

    assert {state.tag for state in states} == set(STATE_TYPES_BY_TAG)
    assert needs_ip == NEEDS_IP


def test_rule_constants_match_the_domain() -> None:
    assert MAX_NAME_LENGTH == domain_names.MAX_NAME_LENGTH
    assert MAX_SUMMARY_LENGTH == domain_failure.MAX_SUMMARY_LENGTH


def test_spells_the_domain_rules_without_regular_expressions() -> None:
    assert "re" not in vars(strict_read)
    assert "json" not in vars(strict_read)


USERS = ["", "a", "_", "-", "1a", "a1", "a-b", "a_b", "A", "é", "a b", "a\n", "a" * 32, "a" * 33, "torrust", "_-9"]


@pytest.mark.parametrize("username", USERS, ids=repr)
def test_accepts_the_ssh_users_the_domain_accepts(username: str) -> None:
    try:
        SshCredentials(Path("k"), Path("k.pub"), username=username)
        valid = True
    except InvalidSshCredentialsError:
        valid = False

    assert valid_posix_user(username) is valid


VERSIONS = ["3.0.0", "10.20.30", "3.0.0-rc.1", "3.0.0-A-b.c", "3.0", "3.0.0.0", "3..0", "", "3.0.0-", "3.0.0+1"]
VERSIONS += ["v3.0.0", "3.0.0-é", "3.0.0 ", "3.0.0\n", "3.0.0-rc 1", "３.0.0", "\u0663.0.0"]  # wide and Arabic digits


@pytest.mark.parametrize("version", VERSIONS, ids=repr)
def test_accepts_a_tracker_version_only_where_the_domain_does(version: str) -> None:
    try:
        TrackerSettings(version=version)
        valid = True
    except InvalidTrackerSettingsError:
        valid = False

    assert valid_tracker_version(version) is (valid and version.isascii() and not version.endswith("\n"))


# What torrust-deploy writes (pydantic's UTC `Z`, or an offset): the spelling `plain_timestamp` checks.
TIMESTAMP_SPELLING = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
)
TIMESTAMPS = ["2026-12-03T13:06:54Z", "2026-12-03T13:06:54.123456Z", "2026-12-03T13:06:54.1+05:30"]
TIMESTAMPS += ["2026-12-03T13:06:54-23:59", "2026-12-03T13:06:54+24:00", "2026-12-03T13:06:54+05:60"]
TIMESTAMPS += ["2026-12-03T13:06:54", "2026-12-03 13:06:54Z", "2026-12-03T13:06:54.Z", "2026-12-03T13:06:54.1234567Z"]
TIMESTAMPS += ["2026-12-3T13:06:54Z", "2026-12-03T13:06:54+0530", "2026-12-03T13:06:54z", "", "Z", "+05:30"]
TIMESTAMPS += ["２026-12-03T13:06:54Z", "2026-12-03T13:06:54ZZ", "2026-12-03T13:06:54Z+00:00", "2026-12-03T13:06:5xZ"]


@pytest.mark.parametrize("text", TIMESTAMPS, ids=repr)
def test_takes_a_timestamp_only_as_torrust_deploy_spells_it(text: str) -> None:
    assert plain_timestamp(text) is (TIMESTAMP_SPELLING.fullmatch(text) is not None)


JSON_TEXTS = ['{"a": [1, 2.5, -3e2, true, false, null, "x\\u00e9\\n"]}', " \n{}\r\t", "[]", "0", '"s"', "{}"]
JSON_TEXTS += ['{"a": NaN, "b": Infinity, "c": -Infinity}', '{"a": 1, "a": 2}', '{"é": "ü"}', "1e999"]
JSON_TEXTS += ["", " ", "{", "}", "{} {}", "{}x", "[1,]", "{'a': 1}", '"\t"', "nan", "01", '{"a" 1}', "\u00a0{}"]


@pytest.mark.parametrize(
    "raw",
    [text.encode() for text in JSON_TEXTS]
    + [b"\xef\xbb\xbf{}", "{}".encode("utf-16"), "{}".encode("utf-16-le"), "{}".encode("utf-32"), b'"\xed\xa0\x80"'],
    ids=repr,
)
def test_parses_json_as_json_loads_does(raw: bytes) -> None:
    try:
        expected: Any = json.loads(raw)
    except ValueError:
        expected = ValueError

    try:
        parsed: Any = strict_read._json_document(raw)
    except ValueError:
        parsed = ValueError

    assert repr(parsed) == repr(expected)  # repr: NaN is not equal to itself


NAMES = ["", "a", "a-", "-a", "1a", "a1", "a-b", "a--b", "A", "a_b", "é", "a b", "a\n", "a" * 63, "a" * 64, "e2e"]


@pytest.mark.parametrize("name", NAMES, ids=repr)
def test_accepts_the_environment_names_the_domain_accepts(name: str) -> None:
    try:
        EnvironmentName(name)
        valid = True
    except InvalidEnvironmentNameError:
        valid = False

    assert valid_environment_name(name) is valid


PATHS = [".", "/", "", "a", "a/b", "/a/b", "..", "../a", "a/../b", ".a", "a.", "/..", "a\\b", " a", "ä/ö"]
ODD_PATHS = ["a//b", "//a", "///a", "a/", "./a", "a/./b", "/./a", "a/.", "/a/"]


@pytest.mark.parametrize("path", PATHS + ODD_PATHS, ids=repr)
def test_takes_a_path_only_as_the_domain_spells_it(path: str) -> None:
    if plain_path(path):
        assert str(Path(path)) == path
    assert plain_path(path) is (path in PATHS and path != "")


# --- list ------------------------------------------------------------------------------------------------


def test_lists_the_names_the_repository_lists(data_dir: Path) -> None:
    repository = JsonFileRepository(data_dir)
    for name in ("b-env", "a-env"):
        repository.save(Environment.new(EnvironmentName(name), SshCredentials(Path("k"), Path("k.pub"))))
    (data_dir / "Not_Valid").mkdir()
    (data_dir / "Not_Valid" / STATE_FILE).write_text("{}")
    (data_dir / "no-state").mkdir()
    (data_dir / "state-is-a-dir" / STATE_FILE).mkdir(parents=True)
    (data_dir / "a-file").write_text("")
    (data_dir / "corrupt").mkdir()
    (data_dir / "corrupt" / STATE_FILE).write_text("{")

    names = environment_names(str(data_dir))

    assert names == [str(name) for name in repository.list()] == ["a-env", "b-env", "corrupt"]


def test_lists_nothing_without_a_data_folder(tmp_path: Path) -> None:
    assert environment_names(str(tmp_path / "data")) == []
    (tmp_path / "file").write_text("")
    assert environment_names(str(tmp_path / "file")) == []


def test_gives_up_listing_a_folder_it_cannot_walk(tmp_path: Path) -> None:
    loop = tmp_path / "loop"
    os.symlink(loop, loop)

    assert environment_names(str(loop)) is None
