"""The read-only paths stay fast: `--help`, `list` and `show` never import Pulumi, Ansible,
ansible-runner or pylxd (they run in a fresh interpreter; `sys.modules` is checked at exit). The console
script answers their common forms on its quick path, which imports no framework at all (typer, rich,
pydantic, filelock) and none of the standard modules that cost as much as starting the interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.persistence import JsonFileRepository
from tests.support.environments import BUILDERS

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


READ_ONLY_RUNS = [  # the command line, and its exit code: 0 with a result on stdout, 4 (no such environment) without
    (("--help",), 0),
    (("show", "--help"), 0),
    (("list",), 0),
    (("--json", "list"), 0),
    (("show", "e2e"), 0),
    (("--json", "show", "e2e"), 0),
    (("show", "ghost"), 4),
]


@pytest.mark.parametrize(("args", "expected_code"), READ_ONLY_RUNS, ids=[" ".join(args) for args, _ in READ_ONLY_RUNS])
def test_read_only_path_imports_no_infrastructure_package(
    work: Path, args: tuple[str, ...], expected_code: int
) -> None:
    code, heavy, stdout = _heavy_imports("-C", str(work), *args)

    assert code == expected_code
    assert heavy == []
    assert (stdout != "") is (expected_code == 0)


def test_the_check_would_notice_a_heavy_import(work: Path) -> None:
    code, heavy, _ = _heavy_imports("-C", str(work), "list", prelude="import pylxd\n")

    assert code == 0
    assert heavy == ["pylxd"]


# --- the console script's quick path -------------------------------------------------------------------

SCRIPT = str(Path(sys.executable).parent / "torrust-deploy")
# The frameworks the full CLI needs, and what only commands that change things need.
FRAMEWORKS = ("typer", "rich", "click", "pydantic", "pydantic_core", "filelock", *HEAVY)
# Standard modules that each cost about as much as starting the interpreter, or half as much (`re`, the
# `enum` it builds on, and `json`, which imports `re`), and so do the domain's modules, built on them: the
# quick path's budget is three times that start. Of the domain it reads only the state vocabulary, which
# imports nothing (the package itself imports its names on first use).
COSTLY = ("typing", "dataclasses", "inspect", "logging", "pathlib", "re", "json", "enum")
DOMAIN_ALLOWED = {"orchestrator.domain", "orchestrator.domain.vocabulary"}


def _script_imports(*args: str, cwd: Path) -> tuple[int, set[str], str]:
    """Exit code, the modules the installed console script imported (`-X importtime`), and its stdout."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", SCRIPT, *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )
    rows = [line.split("|") for line in result.stderr.splitlines() if line.startswith("import time:")]
    modules = {row[2].strip() for row in rows if len(row) == 3 and row[1].strip().isdigit()}
    return result.returncode, modules, result.stdout


@pytest.mark.parametrize(
    "args",
    [(), ("--help",), ("-h",), ("list",), ("show", "e2e"), ("-C", ".", "list"), ("--working-dir", ".", "show", "e2e")],
    ids=lambda args: " ".join(args) or "no-arguments",
)
def test_quick_path_imports_no_framework_and_no_costly_module(work: Path, args: tuple[str, ...]) -> None:
    code, modules, stdout = _script_imports(*args, cwd=work)

    assert code == (2 if not args else 0)
    assert stdout or not args
    assert not {name.split(".")[0] for name in modules} & set(FRAMEWORKS)
    assert not modules & set(COSTLY)
    assert {name for name in modules if name.startswith("orchestrator.domain")} <= DOMAIN_ALLOWED


def test_the_script_import_check_sees_the_full_cli_behind_a_handed_over_command(work: Path) -> None:
    code, modules, _ = _script_imports("--json", "list", cwd=work)

    assert code == 0
    assert {"typer", "pydantic", "typing", "orchestrator.domain"} <= modules
