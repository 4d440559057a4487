from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from orchestrator.domain import EnvironmentName
from orchestrator.persistence import JsonFileRepository
from orchestrator.persistence import files as files_module
from orchestrator.persistence.files import append_then_replace, atomic_write, temp_name
from tests.support.environments import BUILDERS, created


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_state_events_and_lock_files_are_0600_and_directories_0700(repo: JsonFileRepository, data_dir: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        env = created()
        with repo.lock(env.name):
            repo.save(env)
            assert mode(repo.lock_path(env.name).with_name("environment.json.lock.pid")) == 0o600
    finally:
        os.umask(old_umask)

    assert mode(data_dir) == 0o700
    assert mode(repo.environment_dir(env.name)) == 0o700
    assert mode(repo.state_path(env.name)) == 0o600
    assert mode(repo.events_path(env.name)) == 0o600
    assert mode(repo.lock_path(env.name)) == 0o600


def test_an_existing_data_dir_keeps_its_mode(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    JsonFileRepository(tmp_path).save(created())

    assert mode(tmp_path) == 0o755
    assert mode(tmp_path / "e2e") == 0o700


def test_temp_files_left_by_an_interrupted_save_do_not_break_load_and_are_cleaned_by_the_next_save(
    repo: JsonFileRepository,
) -> None:
    env = BUILDERS["provisioned"]()
    repo.save(env)
    leftover = temp_name(repo.state_path(env.name))
    leftover.write_bytes(b'{"half": ')

    assert repo.load(env.name) == env
    assert repo.list() == [env.name]

    repo.save(env)

    assert not leftover.exists()
    assert sorted(p.name for p in repo.environment_dir(env.name).iterdir()) == [
        "environment.json",
        "environment.json.lock",
        "environment.json.lock.pid",
        "events.jsonl",
    ]


def test_atomic_write_replaces_the_whole_file_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    target.write_bytes(b"old content that is longer")

    atomic_write(target, b"new")

    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_atomic_write_that_fails_keeps_the_old_file_and_removes_its_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "f.json"
    target.write_bytes(b"old")

    def failing_fsync(fd: int) -> None:
        raise OSError(5, "I/O error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="I/O error"):
        atomic_write(target, b"new")

    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_delete_removes_traces_and_other_files_of_the_environment(repo: JsonFileRepository) -> None:
    env = created()
    repo.save(env)
    traces = repo.environment_dir(env.name) / "traces"
    traces.mkdir()
    (traces / "t.log").write_text("trace")

    repo.delete(EnvironmentName("e2e"))

    assert not repo.environment_dir(env.name).exists()


def test_append_then_replace_appends_the_lines_then_replaces_the_file(tmp_path: Path) -> None:
    log, target = tmp_path / "events.jsonl", tmp_path / "f.json"
    target.write_bytes(b"old")

    append_then_replace(log, b"one\n", target, b"new")
    append_then_replace(log, b"two\n", target, b"newer")

    assert log.read_bytes() == b"one\ntwo\n"
    assert mode(log) == 0o600
    assert target.read_bytes() == b"newer"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.jsonl", "f.json"]


def test_append_then_replace_keeps_the_old_file_when_the_lines_cannot_be_appended(tmp_path: Path) -> None:
    log, target = tmp_path / "events.jsonl", tmp_path / "f.json"
    log.mkdir()  # not a file: the append fails
    target.write_bytes(b"old")

    with pytest.raises(IsADirectoryError):
        append_then_replace(log, b"one\n", target, b"new")

    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.jsonl", "f.json"]


def test_append_then_replace_raises_an_fsync_failure_of_either_file_and_keeps_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log, target = tmp_path / "events.jsonl", tmp_path / "f.json"
    log.write_bytes(b"")
    target.write_bytes(b"old")
    real_fsync = os.fsync
    log_inode = log.stat().st_ino
    for failing in ("log", "target"):

        def fsync(fd: int, failing: str = failing) -> None:
            is_log = os.fstat(fd).st_ino == log_inode
            if is_log == (failing == "log"):
                raise OSError(5, f"I/O error ({failing})")
            real_fsync(fd)

        monkeypatch.setattr(os, "fsync", fsync)
        with pytest.raises(OSError, match=f"I/O error \\({failing}\\)"):
            append_then_replace(log, b"line\n", target, b"new")
        monkeypatch.undo()

        assert target.read_bytes() == b"old"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["events.jsonl", "f.json"]


def test_append_then_replace_completes_where_the_writeback_hint_is_refused_or_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log, target = tmp_path / "events.jsonl", tmp_path / "f.json"

    def refused(*_: object) -> None:
        raise OSError(22, "Invalid argument")

    for hint, text in ((refused, b"one"), (None, b"two")):
        monkeypatch.setattr(files_module, "_FADVISE", hint)
        append_then_replace(log, text + b"\n", target, text)

        assert target.read_bytes() == text
    assert log.read_bytes() == b"one\ntwo\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.jsonl", "f.json"]
