"""The README's code blocks are consistent with the CLI (no daemon needed): the quick start exists,
follows the newcomer's path, and every `torrust-deploy` command the README shows exists.
tests/e2e/test_readme.py executes the marked blocks against the real lab."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.main import get_command

from orchestrator.cli.main import app
from orchestrator.cli.render import EXIT_CODES

README = Path(__file__).resolve().parents[2] / "README.md"
FENCE = re.compile(r"```(?P<lang>\w*)\n(?P<body>.*?)```", re.S)


def marked_block(marker: str) -> str:
    """The body of the first fenced block after `<!-- readme-test: MARKER -->`."""
    text = README.read_text(encoding="utf-8")
    at = text.index(f"<!-- readme-test: {marker} -->")
    match = FENCE.search(text, at)
    assert match is not None
    return match["body"]


def quickstart_lines() -> list[str]:
    return [line.strip() for line in marked_block("quickstart").splitlines() if line.strip()]


def _command_of(line: str) -> list[str]:
    """The command path of a `torrust-deploy …` line (`['create', 'environment']`), checked against the CLI."""
    words = shlex.split(line, comments=True)[1:]
    group = get_command(app)
    path: list[str] = []
    for word in words:
        if word.startswith("-"):
            if path:
                break
            continue
        sub = group.get_command(None, word)  # type: ignore[attr-defined]
        if sub is None:
            break
        path.append(word)
        group = sub
        if not hasattr(sub, "commands"):
            break
    return path


def test_quickstart_is_the_newcomers_path() -> None:
    commands = [" ".join(_command_of(line)) for line in quickstart_lines() if line.startswith("torrust-deploy ")]

    assert commands == [
        "create template",
        "validate",
        "create environment",
        "deploy",
        "show",
        "list",
        "destroy",
        "purge",
    ]
    assert all("my-env" in line for line in quickstart_lines() if line.startswith(("torrust-deploy d", "ssh-keygen")))


def test_every_torrust_deploy_command_in_the_readme_exists() -> None:
    text = README.read_text(encoding="utf-8")
    lines = [
        line.strip()
        for match in FENCE.finditer(text)
        if match["lang"] in ("sh", "")
        for line in match["body"].splitlines()
        if line.strip().startswith("torrust-deploy ")
    ]
    assert len(lines) >= 15
    for line in lines:
        if "|" in line.split("#")[0]:  # `toolchain ensure|status|build` style summaries
            continue
        assert _command_of(line), line


def test_the_python_example_is_marked_for_the_e2e_test() -> None:
    block = marked_block("e2e")

    assert "deployer.configure(deployer.provision(env))" in block
    assert 'load_config(Path("env.json"))' in block


def test_the_readme_documents_every_exit_code() -> None:
    text = README.read_text(encoding="utf-8")

    for code in EXIT_CODES:
        if code < 100:
            assert f"`{code}`" in text, code


def test_the_state_machine_example_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the example writes ./data
    exec(compile(marked_block("unit"), "README.md (state machine example)", "exec"), {})
    assert (tmp_path / "data" / "staging" / "events.jsonl").read_text().count("\n") == 3
