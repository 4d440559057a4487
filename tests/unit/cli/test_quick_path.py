"""The console script (`quick_path`) prints what the full CLI prints — stdout, stderr and exit code, byte
for byte — for environments in every state and for every doubtful case. It answers the common forms itself
(`--help`, `-h`, no arguments, `list`, `show NAME`) and hands everything else to the full CLI.

Both run as real processes; the full CLI is `orchestrator.cli.main.main`, the console script's target
before the quick path existed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from orchestrator.cli import render
from orchestrator.cli.environment_view import environment_document
from orchestrator.cli.quick_path import facts, quick_answer
from orchestrator.domain import EnvironmentName
from orchestrator.persistence import JsonFileRepository
from orchestrator.persistence.locking import pid_path
from orchestrator.persistence.models import dump_document
from orchestrator.persistence.strict_read import read_environment
from tests.support.environments import BUILDERS, VARIANTS

SCRIPT = str(Path(sys.executable).parent / "torrust-deploy")
FULL_CLI = "import sys; sys.argv[0] = sys.argv.pop(1); from orchestrator.cli.main import main; main()"
Result = tuple[str, str, int]


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    """`{good}`, `{bad}`, `{empty}`, `{missing}` name the working dirs of `dirs`; the current dir is good."""
    quick: bool
    """Whether the quick path answers it itself."""
    env: Mapping[str, str] = field(default_factory=dict)
    compare: bool = True
    """Whether to run both processes. Not for command lines the quick path hands over whatever the files
    say: `quick_answer` returning None proves that the console script then runs the full CLI."""

    def argv(self, dirs: Mapping[str, Path]) -> list[str]:
        return [arg.format(**{key: str(value) for key, value in dirs.items()}) for arg in self.args]


# Readable environments, one per state and variant; `held-*` are locked by this test process, the note of
# `stale-holder` names a process that is gone.
GOOD = {  # name: what it is (a key of BUILDERS or VARIANTS)
    **{tag.replace("_", "-"): tag for tag in BUILDERS},
    **{variant: variant for variant in VARIANTS},
    "held-provisioning": "provisioning",
    "held-configured": "configured",
    "stale-holder": "configuring",
}
BAD = (
    "state-is-a-folder",
    "state-loops",
    "not-json",
    "newer-schema",
    "older-schema",
    "port-as-text",
    "extra-field",
    "odd-key-path",
    "other-name",
    "garbled-pid-note",
)

CASES = [
    Case("no-arguments", (), quick=True),
    Case("help", ("--help",), quick=True),
    Case("h", ("-h",), quick=True),
    *(Case(f"show-{name}", ("-C", "{good}", "show", name), quick=True) for name in GOOD),
    Case("list", ("-C", "{good}", "list"), quick=True),
    Case("list-here", ("list",), quick=True),
    Case("show-here", ("show", "registered"), quick=True),
    Case("list-working-dir", ("--working-dir", "{good}", "list"), quick=True),
    Case("show-working-dir-equals", ("--working-dir={good}", "show", "remote-lxd"), quick=True),
    Case("list-no-data-folder", ("-C", "{empty}", "list"), quick=True),
    Case("list-no-working-dir", ("-C", "{missing}", "list"), quick=True),
    Case("show-missing", ("-C", "{good}", "show", "ghost"), quick=False),
    Case("show-invalid-name", ("-C", "{good}", "show", "Bad_Name"), quick=False),
    Case("show-no-working-dir", ("-C", "{missing}", "show", "created"), quick=False),
    *(Case(f"show-{name}", ("-C", "{bad}", "show", name), quick=False) for name in BAD),
    Case("list-unreadable", ("-C", "{bad}", "list"), quick=False),
    Case("json-show", ("-C", "{good}", "--json", "show", "created"), quick=False),
    Case("json-list", ("--json", "list"), quick=False, compare=False),
    Case("verbose-show", ("-C", "{good}", "-v", "show", "configured"), quick=False, compare=False),
    Case("attached-working-dir", ("-C{good}", "list"), quick=False, compare=False),
    Case("option-after-command", ("show", "created", "--json"), quick=False, compare=False),
    Case("double-dash", ("show", "--", "created"), quick=False, compare=False),
    Case("show-no-name", ("show",), quick=False, compare=False),
    Case("list-extra", ("list", "extra"), quick=False, compare=False),
    Case("command-help", ("show", "--help"), quick=False, compare=False),
    Case("help-after-option", ("-C", "{good}", "--help"), quick=False, compare=False),
    Case("version", ("--version",), quick=False, compare=False),
    Case("unknown-command", ("shw", "created"), quick=False, compare=False),
    Case(
        "completion",
        ("list",),
        quick=False,
        env={"_TORRUST_DEPLOY_COMPLETE": "bash_complete", "COMP_WORDS": "torrust-deploy sh", "COMP_CWORD": "1"},
    ),
]


def _write(data_dir: Path, name: str, document: dict[str, object]) -> Path:
    folder = data_dir / name
    folder.mkdir(parents=True)
    (folder / "environment.json").write_text(json.dumps(document, indent=2))
    return folder


def _document(kind: str = "configured", name: str = "x") -> dict[str, object]:
    document: dict[str, object] = json.loads(dump_document({**BUILDERS, **VARIANTS}[kind]()))
    document["name"] = name
    return document


def _make_bad(data_dir: Path) -> None:
    (data_dir / "state-is-a-folder" / "environment.json").mkdir(parents=True)
    (data_dir / "state-loops").mkdir()
    os.symlink("environment.json", data_dir / "state-loops" / "environment.json")
    _write(data_dir, "not-json", {}).joinpath("environment.json").write_text("{")
    _write(data_dir, "newer-schema", {**_document(name="newer-schema"), "schema_version": 3})
    _write(data_dir, "older-schema", {**_document(name="older-schema"), "schema_version": 0})
    port_as_text = _document(name="port-as-text")
    port_as_text["context"]["ssh"]["port"] = "22"  # type: ignore[index]  # pydantic takes it, the quick path not
    _write(data_dir, "port-as-text", port_as_text)
    _write(data_dir, "extra-field", {**_document(name="extra-field"), "note": "hand-edited"})
    odd_path = _document(name="odd-key-path")
    odd_path["context"]["ssh"]["private_key_path"] = "keys//./id"  # type: ignore[index]  # the domain normalizes it
    _write(data_dir, "odd-key-path", odd_path)
    _write(data_dir, "other-name", _document(name="someone-else"))
    folder = _write(data_dir, "garbled-pid-note", _document(name="garbled-pid-note"))
    pid_path(folder / "environment.json.lock").write_bytes(b"\xff\xfe")


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def _run(argv: list[str], cwd: Path, env: Mapping[str, str]) -> Result:
    result = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    return result.stdout, result.stderr, result.returncode


@pytest.fixture(scope="module")
def dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """The working dirs; the `held-*` environments stay locked by this process while the tests run."""
    base = tmp_path_factory.mktemp("quick-path")
    found = {key: base / key for key in ("good", "bad", "empty", "missing")}
    good_data = found["good"] / "data"
    for name, kind in GOOD.items():
        _write(good_data, name, _document(kind, name))
    (good_data / "Not_An_Env").mkdir()
    (good_data / "Not_An_Env" / "environment.json").write_text("{}")
    (good_data / "no-state").mkdir()
    pid_path(good_data / "stale-holder" / "environment.json.lock").write_text(f"{_dead_pid()}\n")
    _make_bad(found["bad"] / "data")
    found["empty"].mkdir()
    repository = JsonFileRepository(good_data)
    with repository.lock(EnvironmentName("held-provisioning")), repository.lock(EnvironmentName("held-configured")):
        yield found


@pytest.fixture(scope="module")
def outputs(dirs: dict[str, Path]) -> dict[str, tuple[Result, Result]]:
    """Each case run by the console script and by the full CLI (in parallel: each full run takes a while)."""

    def both(case: Case) -> tuple[Result, Result]:
        argv = case.argv(dirs)
        quick = _run([SCRIPT, *argv], dirs["good"], case.env)
        full = _run([sys.executable, "-c", FULL_CLI, SCRIPT, *argv], dirs["good"], case.env)
        return quick, full

    compared = [case for case in CASES if case.compare]
    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(zip((case.id for case in compared), pool.map(both, compared), strict=True))


@pytest.mark.parametrize("case", [case for case in CASES if case.compare], ids=lambda case: case.id)
def test_console_script_prints_what_the_full_cli_prints(outputs: dict[str, tuple[Result, Result]], case: Case) -> None:
    quick, full = outputs[case.id]

    assert quick == full


@pytest.mark.parametrize("case", [case for case in CASES if case.quick], ids=lambda case: case.id)
def test_quick_path_answers_the_common_forms_itself(
    outputs: dict[str, tuple[Result, Result]], dirs: dict[str, Path], case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(dirs["good"])
    _, full = outputs[case.id]

    assert quick_answer(case.argv(dirs), case.env) == full


@pytest.mark.parametrize("case", [case for case in CASES if not case.quick], ids=lambda case: case.id)
def test_quick_path_hands_everything_else_to_the_full_cli(
    dirs: dict[str, Path], case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(dirs["good"])

    assert quick_answer(case.argv(dirs), case.env) is None


def test_cases_cover_every_state_shown_and_listed(outputs: dict[str, tuple[Result, Result]]) -> None:
    (listed, _, code), _ = outputs["list"]
    states = {line.split()[1] for line in listed.splitlines()[1:]}

    assert code == 0
    assert states == {builder().state.__class__.__name__ for builder in BUILDERS.values()}
    assert "Running:     process" in outputs["show-held-provisioning"][0][0]
    assert "Interrupted:" in outputs["show-stale-holder"][0][0]


@pytest.mark.parametrize("kind", [*BUILDERS, *VARIANTS])
@pytest.mark.parametrize("running_pid", [None, 4242])
def test_quick_path_builds_the_document_the_full_cli_builds(tmp_path: Path, kind: str, running_pid: int | None) -> None:
    repository = JsonFileRepository(tmp_path)
    repository.save({**BUILDERS, **VARIANTS}[kind]())
    loaded = repository.load(EnvironmentName("e2e"))
    stored = read_environment(str(tmp_path), "e2e")
    assert loaded is not None and stored is not None

    assert environment_document(facts(stored), running_pid) == render.environment_document(loaded, running_pid)
