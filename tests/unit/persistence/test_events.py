from __future__ import annotations

import json
import os

import pytest

from orchestrator.domain import Destroying, Environment, Provisioned, State
from orchestrator.persistence import JsonFileRepository, StaleStateError, TransitionEvent
from orchestrator.persistence import repository as repository_module
from tests.support.environments import IP, created


def event_lines(repo: JsonFileRepository, env_name: str) -> list[dict[str, object]]:
    path = repo.data_dir / env_name / "events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def save_failing_after_the_append(
    repo: JsonFileRepository, env: Environment[State], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`repo.save(env)` with the disk full at the rename: the events are appended, environment.json is not
    replaced."""

    def disk_full(*_: object, **__: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", disk_full)
        with pytest.raises(OSError, match="No space"):
            repo.save(env)


def test_events_log_gets_one_line_per_transition_with_from_to_time_pid_command(repo: JsonFileRepository) -> None:
    env = created().start_provisioning().complete_provisioning(IP)

    repo.save(env)

    lines = event_lines(repo, "e2e")
    assert [(e["seq"], e["from"], e["to"], e["command"]) for e in lines] == [
        (1, None, "created", "create"),
        (2, "created", "provisioning", "provision"),
        (3, "provisioning", "provisioned", "provision"),
    ]
    assert {e["pid"] for e in lines} == {os.getpid()}
    assert all(isinstance(e["time"], str) and e["time"].endswith("Z") for e in lines)


def test_saving_the_same_object_twice_appends_each_transition_once(repo: JsonFileRepository) -> None:
    env = created().start_provisioning()

    repo.save(env)
    repo.save(env)

    assert [e["seq"] for e in event_lines(repo, "e2e")] == [1, 2]


def test_saving_successive_objects_appends_only_the_new_transitions(repo: JsonFileRepository) -> None:
    provisioning = created().start_provisioning()
    repo.save(provisioning)
    provisioned = provisioning.complete_provisioning(IP)
    repo.save(provisioned)
    repo.save(provisioning.complete_provisioning(IP).start_configuring())

    assert [e["to"] for e in event_lines(repo, "e2e")] == ["created", "provisioning", "provisioned", "configuring"]


def test_transitions_after_load_continue_the_sequence(repo: JsonFileRepository) -> None:
    repo.save(created().start_provisioning().complete_provisioning(IP))
    loaded = repo.load(created().name)
    assert loaded is not None

    repo.save(loaded.require(Provisioned).start_configuring())

    assert [e["seq"] for e in event_lines(repo, "e2e")] == [1, 2, 3, 4]
    assert [e.to_state for e in repo.read_events(loaded.name)][-1] == "configuring"


def test_a_save_that_failed_after_appending_events_does_not_duplicate_them_on_retry(
    repo: JsonFileRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = created().start_provisioning()

    save_failing_after_the_append(repo, env, monkeypatch)
    repo.save(env)

    assert [e["seq"] for e in event_lines(repo, "e2e")] == [1, 2]
    assert repo.load(env.name) == env


def test_a_failed_save_of_many_transitions_is_not_duplicated_on_retry_however_far_back_they_reach(
    repo: JsonFileRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = created()
    repo.save(first)
    env = first.start_destroying().complete_destroying()
    for _ in range(29):  # about 12 KB of events, three blocks of the tail read and more
        env = env.start_destroying().require(Destroying).complete_destroying()

    save_failing_after_the_append(repo, env, monkeypatch)
    assert repo.events_path(env.name).stat().st_size > 2.5 * repository_module._TAIL_BLOCK
    repo.save(env)

    assert [e["seq"] for e in event_lines(repo, "e2e")] == list(range(1, 62))


def test_a_failed_save_by_another_repository_is_not_duplicated_by_this_one(
    repo: JsonFileRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = created()
    repo.save(env)
    moved = env.start_provisioning()

    save_failing_after_the_append(JsonFileRepository(repo.data_dir), moved, monkeypatch)
    repo.save(moved)

    assert [e["seq"] for e in event_lines(repo, "e2e")] == [1, 2]


def test_the_next_save_skips_reading_the_log_tail_when_the_log_is_as_this_repository_left_it(
    repo: JsonFileRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = created()
    repo.save(env)

    def tail_read(*_: object) -> None:
        raise AssertionError("the log's tail was read")

    monkeypatch.setattr(repository_module, "_events_after", tail_read)
    moved = env.start_provisioning()
    repo.save(moved)
    repo.save(moved.complete_provisioning(IP))

    assert [e["seq"] for e in event_lines(repo, "e2e")] == [1, 2, 3]


def test_saving_an_older_copy_over_a_newer_state_is_refused(repo: JsonFileRepository) -> None:
    old = created()
    newer = old.start_provisioning()
    repo.save(newer)
    before = repo.state_path(old.name).read_bytes()

    with pytest.raises(StaleStateError) as caught:
        repo.save(old)

    assert caught.value.tip
    assert repo.state_path(old.name).read_bytes() == before


def test_a_torn_last_line_is_skipped_and_the_next_event_starts_on_its_own_line(repo: JsonFileRepository) -> None:
    env = created()
    repo.save(env)
    with repo.events_path(env.name).open("ab") as file:
        file.write(b'{"seq": 2, "environment": "e2e", "fr')

    repo.save(env.start_provisioning())

    events = repo.read_events(env.name)
    assert [e.seq for e in events] == [1, 2]
    assert all(isinstance(e, TransitionEvent) for e in events)
