"""The lab's two daemons, lxcfs and lxd: whether each runs and who started it, starting it detached
when it doesn't (recording its PID), waiting until lxd is ready, and stopping only what the lab started."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from orchestrator.lab.errors import DaemonStartError, LabError, tail
from orchestrator.lab.lxd_api import lxd_answers
from orchestrator.lab.processes import PidRecord, PidStore, find_daemons, start_detached, terminate, wait_gone
from orchestrator.lab.settings import LXCFS_DIR, LXD_DIR, LabSettings

DAEMON_READY_TIMEOUT = 120.0
_DAEMON_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class DaemonStatus:
    """One daemon: whether it runs, its PID, and whether the lab started it."""

    program: str
    running: bool
    pid: int | None = None
    started_by_lab: bool = False
    log: str | None = None

    @property
    def who(self) -> str:
        if not self.running:
            return "not running"
        return "started by the lab" if self.started_by_lab else "started outside the lab"


@dataclass(frozen=True)
class LabDown:
    """What ``down()`` stopped and what it left running because the lab didn't start it."""

    stopped: tuple[str, ...] = ()
    left_running: tuple[str, ...] = ()


def is_lxcfs_mounted(mount_point: Path = LXCFS_DIR) -> bool:
    try:
        lines = Path("/proc/self/mountinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        return False
    target = str(mount_point)
    for line in lines:
        left, _, right = line.partition(" - ")
        fields = left.split()
        if len(fields) >= 5 and fields[4] == target and right.split()[:1] == ["fuse.lxcfs"]:
            return True
    return False


def daemon_env(lxd_dir: Path | None = None) -> dict[str, str]:
    """The environment of the daemons and of the ``lxd`` commands the lab runs (``LXD_DIR`` when not the default)."""
    env = dict(os.environ)
    env["PATH"] = _DAEMON_PATH + (":" + env["PATH"] if env.get("PATH") else "")
    if lxd_dir is not None and lxd_dir != LXD_DIR:
        env["LXD_DIR"] = str(lxd_dir)
    return env


def _group_exists(name: str) -> bool:
    import grp

    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"(no log at {path})"
    return f"--- {path} ---\n" + tail(text, lines)


class Daemons:
    """lxcfs and lxd as the lab sees them; ``pids`` holds the records of the ones it started."""

    def __init__(self, settings: LabSettings, pids: PidStore) -> None:
        self.settings = settings
        self.pids = pids

    def status(self, program: str, *, running: bool) -> DaemonStatus:
        owned = self.pids.owned(program)
        if owned is not None:
            log = self.settings.state_dir / ("lxd.log" if program == "lxd" else f"{program}.log")
            return DaemonStatus(program, running=running, pid=owned.pid, started_by_lab=True, log=str(log))
        if not running:
            return DaemonStatus(program, running=False)
        others = find_daemons(program)
        return DaemonStatus(program, running=True, pid=others[0].pid if others else None)

    # --------------------------------------------------------------------------------------- start

    def ensure_lxcfs(self, say: Callable[[str], None]) -> str:
        if is_lxcfs_mounted():
            status = self.status("lxcfs", running=True)
            return f"running, pid {status.pid} ({status.who})"
        self.pids.forget("lxcfs")
        LXCFS_DIR.mkdir(parents=True, exist_ok=True)
        # A dead lxcfs leaves a broken FUSE mount behind ("Transport endpoint is not connected").
        subprocess.run(["umount", "-l", str(LXCFS_DIR)], capture_output=True, check=False)
        log = self.settings.state_dir / "lxcfs.log"
        say(f"starting lxcfs {LXCFS_DIR} (log {log})")
        record = start_detached(["lxcfs", str(LXCFS_DIR)], log, env=daemon_env())
        self.pids.save(record)
        deadline = time.monotonic() + 15
        while not is_lxcfs_mounted():
            if wait_gone(record, 0) or time.monotonic() > deadline:
                self.pids.forget("lxcfs")
                raise DaemonStartError(f"lxcfs did not come up (log {log})", detail=_log_tail(Path(record.log)))
            time.sleep(0.2)
        return f"started, pid {record.pid}"

    def ensure_lxd(self, say: Callable[[str], None]) -> str:
        s = self.settings
        if lxd_answers(s.socket_path):
            self.wait_ready(None)
            status = self.status("lxd", running=True)
            return f"running, pid {status.pid} ({status.who})"
        if self.pids.owned("lxd") is None:
            self.pids.forget("lxd")
        starting = find_daemons("lxd")
        if starting:
            say(f"an lxd daemon (pid {starting[0].pid}) runs but doesn't answer yet; waiting")
            self.wait_ready(None)
            return f"running, pid {starting[0].pid} (started outside the lab)"
        logfile = s.state_dir / "lxd.log"
        argv = ["lxd", f"--logfile={logfile}"]
        if _group_exists("lxd"):
            argv[1:1] = ["--group", "lxd"]
        say(f"starting {' '.join(argv)}")
        record = start_detached(argv, s.state_dir / "lxd.out", env=daemon_env(s.lxd_dir))
        self.pids.save(record)
        self.wait_ready(record)
        return f"started, pid {record.pid}"

    def wait_ready(self, record: PidRecord | None) -> None:
        """``lxd waitready`` in short rounds, failing early when the daemon we started died."""
        s = self.settings
        deadline = time.monotonic() + DAEMON_READY_TIMEOUT
        while True:
            if self._waitready(5):
                return
            died = record is not None and wait_gone(record, 0)
            if died or time.monotonic() > deadline:
                if record is not None:
                    self.pids.forget("lxd")
                what = "exited" if died else f"did not become ready within {DAEMON_READY_TIMEOUT:.0f} s"
                logs = [Path(record.log), s.state_dir / "lxd.log"] if record else [s.state_dir / "lxd.log"]
                raise DaemonStartError(
                    f"the LXD daemon {what} (log {s.state_dir / 'lxd.log'})",
                    detail="\n".join(_log_tail(p) for p in logs if p.exists()),
                )

    def _waitready(self, timeout: int) -> bool:
        """One round of ``lxd waitready``: True once the daemon says it is ready."""
        try:
            result = subprocess.run(
                ["lxd", "waitready", f"--timeout={timeout}"],
                capture_output=True,
                text=True,
                env=daemon_env(self.settings.lxd_dir),
                check=False,
                timeout=timeout + 10,
            )
        except (OSError, subprocess.TimeoutExpired):
            time.sleep(1)
            return False
        return result.returncode == 0

    # ---------------------------------------------------------------------------------------- stop

    def stop(self, say: Callable[[str], None]) -> LabDown:
        """Stop the daemons the lab started (by recorded PID); leave any other daemon alone."""
        stopped: list[str] = []
        left: list[str] = []
        record = self.pids.load("lxd")
        if record is not None and self.pids.owned("lxd") is not None:
            say(f"stopping lxd (pid {record.pid}): lxd shutdown")
            subprocess.run(
                ["lxd", "shutdown", "--timeout=60"],
                capture_output=True,
                env=daemon_env(self.settings.lxd_dir),
                check=False,
                timeout=90,
            )
            if not wait_gone(record, 30) and not terminate(record):
                raise LabError(
                    f"lxd (pid {record.pid}) did not stop",
                    tip=f"Stop it by hand: `kill {record.pid}`.",
                )
            stopped.append(f"lxd (pid {record.pid})")
        self.pids.forget("lxd")
        left.extend(f"lxd (pid {p.pid}), not started by the lab" for p in find_daemons("lxd"))

        record = self.pids.load("lxcfs")
        if record is not None and self.pids.owned("lxcfs") is not None:
            if left:
                left.append(f"lxcfs (pid {record.pid}): kept for the LXD daemon that still runs")
            else:
                say(f"stopping lxcfs (pid {record.pid})")
                if not terminate(record):
                    raise LabError(
                        f"lxcfs (pid {record.pid}) did not stop",
                        tip=f"Stop it by hand: `kill {record.pid}`.",
                    )
                if is_lxcfs_mounted():
                    subprocess.run(["umount", "-l", str(LXCFS_DIR)], capture_output=True, check=False)
                stopped.append(f"lxcfs (pid {record.pid})")
                self.pids.forget("lxcfs")
        else:
            self.pids.forget("lxcfs")
            left.extend(f"lxcfs (pid {p.pid}), not started by the lab" for p in find_daemons("lxcfs"))
        return LabDown(stopped=tuple(stopped), left_running=tuple(left))
