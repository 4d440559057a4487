from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.lab.processes import (
    PidRecord,
    PidStore,
    ProcessInfo,
    find_daemons,
    is_daemon_process,
    is_recorded_process,
    parse_stat,
    read_process,
)


def _stat(pid: int, comm: str, state: str, start_time: int) -> str:
    # pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
    # cutime cstime priority nice num_threads itrealvalue starttime …
    rest = [state, "1", str(pid), str(pid), "0", "-1", "4194560"] + ["0"] * 12 + [str(start_time), "0", "0"]
    return f"{pid} ({comm}) " + " ".join(rest) + "\n"


def _fake_process(proc: Path, pid: int, argv: list[str], *, state: str = "S", start_time: int = 1000) -> None:
    base = proc / str(pid)
    base.mkdir(parents=True)
    comm = Path(argv[0]).name if argv else "kworker"
    (base / "stat").write_text(_stat(pid, comm, state, start_time))
    (base / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + (b"\0" if argv else b""))


def _record(pid: int = 42, program: str = "lxd", start_time: int = 1000) -> PidRecord:
    return PidRecord(program=program, pid=pid, start_time=start_time, argv=(program,), log="/tmp/x.log")


def test_parse_stat_handles_command_names_with_spaces_and_parentheses() -> None:
    assert parse_stat(_stat(7, "weird ) name", "S", 123456)) == ("S", 123456)


def test_read_process_reads_state_start_time_and_argv(tmp_path: Path) -> None:
    _fake_process(tmp_path, 42, ["lxd", "--group", "lxd"], start_time=777)

    info = read_process(42, tmp_path)

    assert info == ProcessInfo(pid=42, state="S", start_time=777, argv=("lxd", "--group", "lxd"))
    assert read_process(43, tmp_path) is None


def test_recorded_pid_is_ours_when_pid_start_time_and_program_match() -> None:
    info = ProcessInfo(pid=42, state="S", start_time=1000, argv=("/usr/bin/lxd", "--group", "lxd"))

    assert is_recorded_process(_record(), info)


@pytest.mark.parametrize(
    "info",
    [
        None,
        ProcessInfo(pid=42, state="S", start_time=2000, argv=("lxd",)),  # PID reused later
        ProcessInfo(pid=42, state="S", start_time=1000, argv=("bash",)),  # another program
        ProcessInfo(pid=42, state="Z", start_time=1000, argv=()),  # exited, not yet reaped
        ProcessInfo(pid=43, state="S", start_time=1000, argv=("lxd",)),
    ],
    ids=["gone", "pid-reused", "other-program", "zombie", "other-pid"],
)
def test_recorded_pid_is_not_ours_otherwise(info: ProcessInfo | None) -> None:
    assert not is_recorded_process(_record(), info)


def test_pid_store_reports_the_live_process_it_recorded(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    _fake_process(proc, 42, ["lxd", "--logfile=/x"], start_time=1000)
    store = PidStore(tmp_path / "state", proc=proc)
    store.save(_record(42, "lxd", 1000))

    owned = store.owned("lxd")

    assert owned is not None
    assert owned.pid == 42


def test_pid_store_ignores_a_stale_record_whose_pid_was_reused(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    _fake_process(proc, 42, ["lxd"], start_time=5000)
    store = PidStore(tmp_path / "state", proc=proc)
    store.save(_record(42, "lxd", 1000))

    assert store.owned("lxd") is None


def test_pid_store_without_record_or_with_garbage_owns_nothing(tmp_path: Path) -> None:
    store = PidStore(tmp_path, proc=tmp_path / "proc")
    assert store.owned("lxd") is None

    store.path("lxd").write_text("not json")
    assert store.load("lxd") is None
    assert store.owned("lxd") is None


def test_pid_record_round_trips_through_json() -> None:
    record = _record()

    assert PidRecord.from_json(record.to_json()) == record


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("lxd", "--group", "lxd", "--logfile=/x"), True),
        (("/usr/bin/lxd",), True),
        (("lxd", "waitready", "--timeout=5"), False),
        (("lxd", "forkexec", "c1"), False),
        (("lxc", "list"), False),
    ],
)
def test_lxd_daemon_is_told_apart_from_its_subcommands(argv: tuple[str, ...], expected: bool) -> None:
    info = ProcessInfo(pid=1, state="S", start_time=1, argv=argv)

    assert is_daemon_process(info, "lxd") is expected


def test_find_daemons_lists_only_running_daemons_oldest_first(tmp_path: Path) -> None:
    _fake_process(tmp_path, 10, ["lxd", "--group", "lxd"], start_time=300)
    _fake_process(tmp_path, 11, ["lxd", "waitready"], start_time=100)
    _fake_process(tmp_path, 12, ["lxd"], start_time=200)
    _fake_process(tmp_path, 13, ["lxd"], state="Z", start_time=50)
    _fake_process(tmp_path, 14, ["lxcfs", "/var/lib/lxcfs"], start_time=10)
    (tmp_path / "self").mkdir()

    assert [p.pid for p in find_daemons("lxd", tmp_path)] == [12, 10]
    assert [p.pid for p in find_daemons("lxcfs", tmp_path)] == [14]
