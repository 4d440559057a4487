"""The wheel ships `stacks/` and `playbooks/` (and the build script, the image recipe): an installed copy
works outside the checkout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]

CHECK = """
import orchestrator
from orchestrator.resources import shipped_dir
from orchestrator.infrastructure.pulumi.stacks import load_environment_program
from orchestrator.infrastructure.pulumi.toolchain import BUILD_SCRIPT
print(orchestrator.__file__)
print(shipped_dir("stacks"))
print(sorted(str(p.relative_to(shipped_dir("playbooks"))) for p in shipped_dir("playbooks").rglob("*.yml")))
print(load_environment_program().__name__, BUILD_SCRIPT.exists())
"""


def test_installed_wheel_finds_its_stacks_playbooks_and_build_script_outside_the_checkout(tmp_path: Path) -> None:
    wheels, target = tmp_path / "wheels", tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(REPO)],
        check=True,
        timeout=300,
    )
    wheel = next(wheels.glob("torrust_deploy-*.whl"))
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        timeout=300,
    )
    result = subprocess.run(
        [sys.executable, "-c", CHECK],
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert lines[0].startswith(str(target))
    assert lines[1] == str(target / "orchestrator" / "_shipped" / "stacks")
    playbooks = REPO / "playbooks"
    shipped = sorted(str(path.relative_to(playbooks)) for path in playbooks.rglob("*.yml"))
    assert lines[2] == str(shipped)  # every playbook of the checkout, and the variables they read
    assert "start-tracker.yml" in shipped
    assert "vars/apt.yml" in shipped
    assert lines[3] == "environment_program True"
