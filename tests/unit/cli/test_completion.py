"""Shell completion (typer's): the script, and the completion protocol for commands and environment names."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from orchestrator.persistence import JsonFileRepository
from tests.support.environments import created

CLI = str(Path(sys.executable).with_name("torrust-deploy"))


def _complete(words: str, cword: int, cwd: Path) -> list[str]:
    env = {**os.environ, "_TORRUST_DEPLOY_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    result = subprocess.run([CLI], capture_output=True, text=True, env=env, cwd=cwd, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_show_completion_prints_a_bash_script() -> None:
    result = subprocess.run([CLI, "--show-completion", "bash"], capture_output=True, text=True, check=False)

    assert result.returncode == 0, result.stderr
    assert "_TORRUST_DEPLOY_COMPLETE=complete_bash" in result.stdout
    assert "complete " in result.stdout and "torrust-deploy" in result.stdout


def test_command_names_complete(tmp_path: Path) -> None:
    assert _complete("torrust-deploy pro", 1, tmp_path) == ["provision"]
    assert set(_complete("torrust-deploy lab ", 2, tmp_path)) >= {"up", "status", "down", "image"}


def test_environment_names_complete_from_the_working_dir(tmp_path: Path) -> None:
    repository = JsonFileRepository(tmp_path / "work" / "data")
    for name in ("alpha", "beta", "alps"):
        repository.save(created(name))

    assert _complete("torrust-deploy -C work show al", 4, tmp_path) == ["alpha", "alps"]
    assert _complete("torrust-deploy --working-dir work destroy b", 4, tmp_path) == ["beta"]
    assert not (tmp_path / "data").exists()  # completion has no side effects
