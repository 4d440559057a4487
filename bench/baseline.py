"""Another revision of this repository, set up to be timed beside today's code in the same run.

`prepared(rev)` unpacks `git archive REV` into `~/.cache/torrust-deploy/bench-baseline/REV/` with its own
venv (`pip install -e .`) and runs its `toolchain ensure` and `artifact ensure` (found in the shared caches
when the versions match), once per revision; `batch` runs `bench/baseline_worker.py` with that venv's
Python: COUNT deploys to Running at once with that revision's code, on the same lab and pool.

FILING_REV is main when issue 15 was filed (the tracker's release/run had landed; the copy-on-write pool
had not). Issue 15 asks that 4 deploys at once be "no worse than today's ratio with the tracker included":
that revision's total(4)/total(1), to Running, measured here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

FILING_REV = "9f8f675"
REPO = Path(__file__).resolve().parent.parent
WORKER = Path(__file__).resolve().with_name("baseline_worker.py")
Log = Callable[[str], None]


def cache_dir() -> Path:
    from orchestrator.infrastructure.cache import cache_root

    return cache_root() / "bench-baseline"


def _run(argv: list[str], cwd: Path) -> None:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"baseline set-up: {' '.join(argv)} failed: {' / '.join(tail)}")


def prepared(rev: str, log: Log) -> Path:
    """The root of revision `rev`'s checkout with a ready `.venv` (made once, cached by full commit)."""
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{rev}^{{commit}}"], cwd=REPO, capture_output=True, text=True, check=False
    )
    if commit.returncode != 0:
        raise RuntimeError(f"baseline revision {rev!r} is not in this clone's history ({commit.stderr.strip()})")
    root = cache_dir() / commit.stdout.strip()
    stamp = root / ".bench-baseline-ready"
    if stamp.exists():
        return root
    log(f"  baseline {rev}: unpacking and installing into {root} (once)")
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit.stdout.strip()], cwd=REPO, capture_output=True, check=False
    )
    if archive.returncode != 0:
        raise RuntimeError(f"baseline set-up: git archive {rev} failed: {archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", str(root)], input=archive.stdout, check=True)
    _run([sys.executable, "-m", "venv", ".venv"], root)
    _run([".venv/bin/pip", "install", "--quiet", "-e", "."], root)
    _run([".venv/bin/torrust-deploy", "toolchain", "ensure"], root)
    _run([".venv/bin/torrust-deploy", "artifact", "ensure"], root)
    stamp.touch()
    return root


def batch(root: Path, working_dir: Path, count: int, private_key: Path, pool: str, prefix: str) -> dict[str, Any]:
    """`count` deploys to Running at once with the code at `root` (see baseline_worker)."""
    working_dir.mkdir(parents=True, exist_ok=True)
    argv = [str(root / ".venv/bin/python"), "-P", str(WORKER), str(root), str(working_dir), str(count)]
    done = subprocess.run(
        [*argv, str(private_key), pool, prefix], cwd=root, capture_output=True, text=True, check=False, timeout=3600
    )
    lines = done.stdout.strip().splitlines()
    result: dict[str, Any] = json.loads(lines[-1]) if lines else {"error": done.stderr.strip()[-500:]}
    if done.returncode != 0 or "error" in result:
        raise RuntimeError(f"baseline batch of {count} failed: {result.get('error', done.stderr.strip()[-500:])}")
    return result
