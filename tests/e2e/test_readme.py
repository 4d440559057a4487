"""The README, executed against the real lab:

- the quick start block (`<!-- readme-test: quickstart -->`), line by line as written, in an empty
  folder with `.venv/bin` first on PATH; the placeholder `my-env` is replaced by a unique name so that
  runs never collide;
- the Python example (`<!-- readme-test: e2e -->`), with an `env.json` (and its key pair) beside it;
- the threads example (`<!-- readme-test: e2e-threads -->`), with `a.json` and `b.json` beside it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from orchestrator.infrastructure.ssh.wait import ssh_command
from tests.e2e.cli.helpers import Cleanup, cleanup, cli_env, run, unique_name
from tests.support.keys import make_keypair
from tests.support.readme import marked_block, quickstart_lines

pytestmark = pytest.mark.e2e

PLACEHOLDER = "my-env"
__all__ = ["cleanup"]  # the fixture, shared with tests/e2e/cli


def test_quickstart_runs_as_written(tmp_path: Path, lab: Any, cleanup: Cleanup) -> None:
    name = cleanup.add(tmp_path, unique_name("readme"))
    outputs: dict[str, str] = {}

    for line in quickstart_lines():
        step = line.replace(PLACEHOLDER, name)
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", step],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
            env=cli_env(),
            stdin=subprocess.DEVNULL,
            timeout=900,
        )
        assert result.returncode == 0, f"README step failed: {step}\n{result.stdout}\n{result.stderr}"
        outputs[step.split("#")[0].strip()] = result.stdout
        if step.startswith(f"torrust-deploy show {name}"):
            # Between show and destroy: the tracker runs, and the host really has Docker Compose.
            assert "State:       Running" in result.stdout
            assert "Announce:    udp://10.200.77." in result.stdout
            _assert_docker_compose_runs(tmp_path, name)
        if step.startswith(f"torrust-deploy test {name}"):
            assert result.stdout.splitlines()[-1] == "All 7 checks passed."

    assert json.loads((tmp_path / "env.json").read_text())["name"] == name
    assert f"{name}" in outputs["torrust-deploy list"]
    assert outputs[f"torrust-deploy purge {name} --force"].strip() == f"Purged environment '{name}'."
    assert not (tmp_path / "data" / name).exists()


def _assert_docker_compose_runs(work: Path, name: str) -> None:
    shown = json.loads(run(["-C", str(work), "--json", "show", name], work).stdout)["environment"]
    ssh = shown["ssh"]
    result = subprocess.run(
        ssh_command(
            shown["instance_ip"], ssh["port"], ssh["username"], Path(ssh["private_key_path"]), "docker compose version"
        ),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert "Docker Compose version" in result.stdout


def _new_config(folder: Path, cleanup: Cleanup, prefix: str, config_file: str) -> str:
    """A fresh environment's config from `create template`, written to `folder/config_file`, with its key
    pair; the examples keep their data in `folder/work`."""
    name = cleanup.add(folder / "work", unique_name(prefix))
    make_keypair(folder / "keys" / name)
    template = run(["create", "template", "--name", name], folder)
    (folder / config_file).write_text(template.stdout, encoding="utf-8")
    return name


def _run_example(work: Path, marker: str) -> subprocess.CompletedProcess[str]:
    """The README's Python block marked `marker`, run as a script in `work`."""
    (work / "example.py").write_text(marked_block(marker), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "example.py"],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
        stdin=subprocess.DEVNULL,
    )


def _state(work: Path, name: str) -> dict[str, Any]:
    shown: dict[str, Any] = json.loads(run(["-C", "work", "--json", "show", name], work).stdout)["environment"]
    return shown


def test_python_example_runs_as_written(tmp_path: Path, lab: Any, cleanup: Cleanup) -> None:
    name = _new_config(tmp_path, cleanup, "readme-py", "env.json")

    result = _run_example(tmp_path, "e2e")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("10.200.77.")  # print(running.instance_ip), on the lab bridge
    assert _state(tmp_path, name)["state"] == "Destroyed"


def test_threads_example_deploys_two_environments_at_once_as_written(
    tmp_path: Path, lab: Any, cleanup: Cleanup
) -> None:
    names = [_new_config(tmp_path, cleanup, f"readme-{side}", f"{side}.json") for side in ("a", "b")]

    result = _run_example(tmp_path, "e2e-threads")

    assert result.returncode == 0, result.stderr
    ips = result.stdout.split()
    assert len(set(ips)) == 2 and all(ip.startswith("10.200.77.") for ip in ips), result.stdout
    for name in names:
        shown = _state(tmp_path, name)
        assert shown["state"] == "Running" and shown["instance_ip"] in ips
