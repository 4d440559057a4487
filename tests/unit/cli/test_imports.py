"""The read-only paths stay fast: `--help`, `list` and `show` never import Pulumi, Ansible,
ansible-runner or pylxd (they run in a fresh interpreter; `sys.modules` is checked at exit)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.persistence import JsonFileRepository
from tests.unit.domain.environments import BUILDERS

HEAVY = ("pulumi", "ansible", "ansible_runner", "pylxd")
ROOT = Path(__file__).resolve().parents[3]

# Runs the CLI like the console script does, then reports the heavy top-level packages it imported.
WRAPPER = """
import atexit, json, sys
watched = set(sys.argv[1].split(','))
def report():
    heavy = sorted({name.split('.')[0] for name in sys.modules} & watched)
    sys.__stderr__.write('\\nHEAVY=' + json.dumps(heavy) + '\\n')
atexit.register(report)
sys.argv = ['torrust-deploy', *sys.argv[2:]]
from orchestrator.cli.main import main
main()
"""


def _heavy_imports(*args: str, prelude: str = "") -> tuple[int, list[str], str]:
    result = subprocess.run(
        [sys.executable, "-c", prelude + WRAPPER, ",".join(HEAVY), *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )
    marker = result.stderr.rsplit("HEAVY=", 1)
    assert len(marker) == 2, result.stderr
    return result.returncode, json.loads(marker[1]), result.stdout


@pytest.fixture
def work(tmp_path: Path) -> Path:
    repository = JsonFileRepository(tmp_path / "data")
    repository.save(BUILDERS["configured"]())  # environment `e2e`, with an IP and an SSH command
    return tmp_path


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("show", "--help"),
        ("list",),
        ("--json", "list"),
        ("show", "e2e"),
        ("--json", "show", "e2e"),
        ("show", "ghost"),
    ],
    ids=" ".join,
)
def test_read_only_path_imports_no_infrastructure_package(work: Path, args: tuple[str, ...]) -> None:
    code, heavy, stdout = _heavy_imports("-C", str(work), *args)

    assert code in (0, 4)
    assert heavy == []
    assert stdout or code == 4


def test_the_check_would_notice_a_heavy_import(work: Path) -> None:
    code, heavy, _ = _heavy_imports("-C", str(work), "list", prelude="import pylxd\n")

    assert code == 0
    assert heavy == ["pylxd"]
