"""`Deployer` with fake adapters: one path per lifecycle command — a wrong state or an unknown name fails
before any adapter is built, the environment is read once under one hold of its lock (through the CLI too),
an interrupted earlier run is recorded, and the result carries the stale-state flag."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from orchestrator.api import Adapters, CommandResult, Deployer, EnvironmentNotFoundError
from orchestrator.config import config_template, load_config
from orchestrator.domain import (
    Configured,
    Environment,
    EnvironmentName,
    ExitCode,
    InvalidEnvironmentNameError,
    Provisioned,
    ProvisionFailed,
    Running,
    WrongStateError,
    vocabulary,
)
from orchestrator.domain.vocabulary import DISPLAY_NAME
from orchestrator.persistence import JsonFileRepository, models, repository, strict_read
from orchestrator.persistence.locking import EnvironmentLocks
from tests.support.cli import ENV, run_cli, snapshot, write_config
from tests.support.environments import BUILDERS
from tests.support.fakes import BrokenSaveRepository, fake_adapters
from tests.support.keys import make_keypair

LIFECYCLE = ("provision", "configure", "release", "run", "deploy", "destroy")
NAME = "e2e"  # the name tests.support.environments builds


class AdaptersBuiltError(AssertionError):
    pass


def _no_adapters(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any use of the adapters or the trace writer fails the test."""

    def refuse(self: Deployer) -> Any:
        raise AdaptersBuiltError("the adapters were built")

    monkeypatch.setattr(Deployer, "adapters", property(refuse))
    monkeypatch.setattr(Deployer, "traces", property(refuse))


def _stored(tmp_path: Path, tag: str) -> Deployer:
    """A Deployer over `tmp_path` holding environment `e2e` in state `tag`, with fake adapters."""
    JsonFileRepository(tmp_path / "data").save(BUILDERS[tag]())
    return Deployer(working_dir=tmp_path, adapters=fake_adapters())


def _wrong_states(command: str) -> list[str]:
    """The resting and failed states `command` does not start from. (An in-progress state found unlocked is
    an interrupted run: recorded as failed first, then checked — see the tests of interrupted runs.)"""
    return [
        tag
        for tag in vocabulary.TAGS
        if tag not in vocabulary.ACCEPTED[command] and tag not in vocabulary.IN_PROGRESS_TAGS
    ]


WRONG = [(command, tag) for command in LIFECYCLE for tag in _wrong_states(command)]


# --- the state check --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("command", "tag"), WRONG, ids=[f"{c}-from-{t}" for c, t in WRONG])
def test_a_wrong_state_fails_before_any_adapter_is_built_and_names_every_accepted_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, tag: str
) -> None:
    deployer = _stored(tmp_path, tag)
    _no_adapters(monkeypatch)
    before = snapshot(tmp_path)

    with pytest.raises(WrongStateError) as raised:
        deployer.run_command(command, NAME)

    message = str(raised.value)
    assert f"is in state {vocabulary.DISPLAY_NAME[tag]}, but `{command}` starts from " in message  # as show spells it
    for accepted in vocabulary.ACCEPTED[command]:
        assert DISPLAY_NAME[accepted] in message, (accepted, message)
    assert raised.value.exit_code == ExitCode.USAGE and raised.value.tip
    assert snapshot(tmp_path) == before


def test_every_lifecycle_command_refuses_some_state_except_destroy() -> None:
    assert {command for command, _ in WRONG} == set(LIFECYCLE) - {"destroy"}


def test_a_method_with_a_typed_signature_checks_the_state_the_same_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployer = _stored(tmp_path, "created")
    _no_adapters(monkeypatch)

    with pytest.raises(WrongStateError) as raised:
        deployer.configure(NAME)

    accepted = [DISPLAY_NAME[tag] for tag in vocabulary.ACCEPTED["configure"]]
    assert f"`configure` starts from {', '.join(accepted[:-1])} or {accepted[-1]}" in str(raised.value)


def test_an_unknown_command_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a lifecycle command: 'purge'"):
        Deployer(working_dir=tmp_path, adapters=fake_adapters()).run_command("purge", NAME)


# --- what names an environment ------------------------------------------------------------------------------


REFS: dict[str, Callable[[Deployer], object]] = {
    "str": lambda deployer: NAME,
    "EnvironmentName": lambda deployer: EnvironmentName(NAME),
    "Environment": lambda deployer: deployer.show(NAME),
}


@pytest.mark.parametrize("kind", REFS)
def test_an_environment_is_named_by_a_str_an_environment_name_or_the_environment(tmp_path: Path, kind: str) -> None:
    deployer = _stored(tmp_path, "created")

    provisioned = deployer.provision(REFS[kind](deployer))  # type: ignore[arg-type]

    assert isinstance(provisioned.state, Provisioned)
    assert isinstance(deployer.show(NAME).state, Provisioned)


@pytest.mark.parametrize(
    "call",
    [
        lambda deployer: deployer.provision(42),
        lambda deployer: deployer.run_command("destroy", 42),
        lambda deployer: deployer.show(None),
        lambda deployer: deployer.history(3.5),
        lambda deployer: deployer.purge(b"e2e"),
    ],
    ids=["provision", "run_command", "show", "history", "purge"],
)
def test_anything_else_is_a_type_error_saying_what_to_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: Callable[[Deployer], object]
) -> None:
    deployer = _stored(tmp_path, "created")
    _no_adapters(monkeypatch)

    with pytest.raises(TypeError, match=r"expected an environment, an EnvironmentName or a str, got "):
        call(deployer)


def test_create_takes_a_config_and_says_where_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"create needs an EnvironmentConfig \(see orchestrator.config.load_config\)"):
        Deployer(working_dir=tmp_path).create({"name": NAME})  # type: ignore[arg-type]


# --- an unknown or invalid name ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", LIFECYCLE)
def test_an_unknown_name_fails_and_leaves_nothing_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    deployer = _stored(tmp_path, "created")
    _no_adapters(monkeypatch)
    before = snapshot(tmp_path)

    with pytest.raises(EnvironmentNotFoundError) as raised:
        deployer.run_command(command, "ghost")

    assert raised.value.exit_code == ExitCode.NOT_FOUND
    assert "environment 'ghost' does not exist" in str(raised.value)
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "data" / "ghost").exists()


def test_an_invalid_name_is_refused_before_anything_is_touched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_adapters(monkeypatch)

    with pytest.raises(InvalidEnvironmentNameError):
        Deployer(working_dir=tmp_path).provision("Not A Name")

    assert list(tmp_path.iterdir()) == []


# --- interrupted runs ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("tag", vocabulary.IN_PROGRESS_TAGS)
def test_an_interrupted_run_is_recorded_as_failed_and_its_command_goes_on(tmp_path: Path, tag: str) -> None:
    deployer = _stored(tmp_path, tag)  # left by a process that is gone: nobody holds the lock
    command = vocabulary.COMMAND_OF[tag]
    assert deployer.is_interrupted(deployer.show(NAME))

    result = deployer.run_command(command, NAME)

    resting = next(rest for rest, by in vocabulary.HAPPY_PATH if by == command) if command != "destroy" else "destroyed"
    assert result.environment.state.tag == resting
    events = deployer.history(NAME)
    assert [event.to_state for event in events[-3:]] == [f"{command}_failed", tag, resting]
    assert events[-3].command == command and events[-3].step == "unknown"  # where a killed run was is unknown


def test_an_interrupted_run_is_recorded_even_when_the_command_then_refuses_the_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployer = _stored(tmp_path, "provisioning")
    _no_adapters(monkeypatch)

    with pytest.raises(WrongStateError, match="is in state ProvisionFailed"):
        deployer.configure(NAME)

    current = deployer.show(NAME)
    assert isinstance(current.state, ProvisionFailed)
    assert current.state.failure.error_kind == "Interrupted"


# --- the stale-state flag ----------------------------------------------------------------------------------


def test_run_command_returns_the_environment_with_the_stale_flag_clear_after_good_saves(tmp_path: Path) -> None:
    result = _stored(tmp_path, "created").run_command("provision", NAME)

    assert isinstance(result, CommandResult)
    assert isinstance(result.environment.state, Provisioned)
    assert result.stale_state is False


def test_a_failed_save_sets_the_stale_flag_and_the_command_still_succeeds(tmp_path: Path) -> None:
    JsonFileRepository(tmp_path / "data").save(BUILDERS["created"]())
    broken = BrokenSaveRepository(tmp_path / "data", allowed=1)  # Provisioning is saved, Provisioned is not
    deployer = Deployer(working_dir=tmp_path, repository=broken, adapters=fake_adapters())

    result = deployer.run_command("provision", NAME)

    assert isinstance(result.environment.state, Provisioned)
    assert result.stale_state is True
    assert type(deployer.show(NAME).state).__name__ == "Provisioning"  # what is on disk is behind


def test_the_stale_flag_of_one_run_does_not_leak_into_the_next(tmp_path: Path) -> None:
    JsonFileRepository(tmp_path / "data").save(BUILDERS["created"]())
    broken = BrokenSaveRepository(tmp_path / "data", allowed=1)
    deployer = Deployer(working_dir=tmp_path, repository=broken, adapters=fake_adapters())
    assert deployer.run_command("provision", NAME).stale_state is True

    broken.allowed = 10

    assert deployer.run_command("provision", NAME).stale_state is False


# --- one read, one lock: through the CLI ----------------------------------------------------------------------


class Reads:
    """Counts, through the repository, the parses of environment.json (by the repository's models or the
    standard-library reader) and the outermost holds of its lock (a nested hold takes nothing)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        parse = models.parse_document
        strict = strict_read.read_environment
        lock = JsonFileRepository.lock

        def counted_parse(raw: bytes, path: Path) -> models.EnvironmentDocument:
            self.counts["parse"] += 1
            return parse(raw, path)

        def counted_strict(data_dir: str, name: str) -> strict_read.StoredEnvironment | None:
            self.counts["parse"] += 1
            return strict(data_dir, name)

        def counted_lock(repo: JsonFileRepository, name: EnvironmentName) -> AbstractContextManager[None]:
            if not EnvironmentLocks.held_here(repo.lock_path(name)):
                self.counts["lock"] += 1
            return lock(repo, name)

        monkeypatch.setattr(models, "parse_document", counted_parse)
        monkeypatch.setattr(repository, "parse_document", counted_parse)
        monkeypatch.setattr(strict_read, "read_environment", counted_strict)
        monkeypatch.setattr(JsonFileRepository, "lock", counted_lock)


@pytest.fixture
def cli_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Adapters]]:
    """A working dir with a key pair, `env.json` (with a tracker) and environment `demo` created; every
    Deployer the CLI builds gets the same fake adapters."""
    work = tmp_path / "work"
    make_keypair(work / "keys" / ENV, comment=ENV)
    write_config(work, config_template(ENV))
    adapters = fake_adapters()
    monkeypatch.setattr(Deployer, "adapters", property(lambda self: adapters))
    Deployer(working_dir=work).create(load_config(work / "env.json"))
    yield work, adapters


CLI_RUNS = [
    ("provision", "created", Provisioned),
    ("deploy", "created", Running),
    ("configure", "provisioned", Configured),
]


@pytest.mark.parametrize(("command", "start", "ends"), CLI_RUNS, ids=[f"{c}-from-{s}" for c, s, _ in CLI_RUNS])
def test_a_cli_lifecycle_command_parses_environment_json_once_and_takes_its_lock_once(
    cli_work: tuple[Path, Adapters], monkeypatch: pytest.MonkeyPatch, command: str, start: str, ends: type
) -> None:
    work, _ = cli_work
    if start == "provisioned":
        Deployer(working_dir=work).provision(ENV)
    reads = Reads()
    reads.install(monkeypatch)

    result = run_cli(work, command, ENV)

    assert result.exit_code == 0, result.output
    assert reads.counts == Counter(parse=1, lock=1)
    assert isinstance(Deployer(working_dir=work).show(ENV).state, ends)


def test_a_deploy_from_created_through_the_api_reads_once_too(
    cli_work: tuple[Path, Adapters], monkeypatch: pytest.MonkeyPatch
) -> None:
    work, adapters = cli_work
    reads = Reads()
    reads.install(monkeypatch)

    env = Deployer(working_dir=work).deploy(ENV)

    assert isinstance(env, Environment) and isinstance(env.state, Running)
    assert reads.counts == Counter(parse=1, lock=1)
    assert "up" in adapters.provisioner.calls  # type: ignore[attr-defined]
