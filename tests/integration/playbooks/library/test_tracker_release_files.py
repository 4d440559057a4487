"""The shipped module `playbooks/library/tracker_release_files.py`, run by ansible over real SSH (sshd on
loopback, as root): files written with their modes and owner, nothing changed on a second run, a changed
file replaced alone, the secret file's content in no ansible artifact, a bad name refused."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestrator.domain import EnvironmentContext
from orchestrator.infrastructure.ansible.playbooks import AnsiblePlaybooks, PlaybookFailedError
from orchestrator.resources import shipped_dir
from tests.support.sshd import Sshd

pytestmark = pytest.mark.integration

SECRET = "tSecretToken0123456789abcdef"


def _playbook(dest: Path, files: dict[str, tuple[str, str]], secret: tuple[str, str]) -> str:
    """A play running the module as the shipped upload playbook does (without `become`: the user is root)."""
    task = {
        "name": "Write the release",
        "tracker_release_files": {
            "dest": str(dest),
            "files": [{"name": n, "content": c, "mode": m} for n, (c, m) in files.items()],
            "secret_files": [{"name": "tracker.env", "content": secret[0], "mode": secret[1]}],
        },
    }
    return yaml.safe_dump([{"name": "Release", "hosts": "all", "gather_facts": False, "tasks": [task]}])


def _adapter(tmp_path: Path, sshd: Sshd) -> tuple[AnsiblePlaybooks, EnvironmentContext, Path]:
    start: Any = sshd.start
    start()
    playbooks_dir = tmp_path / "playbooks"
    shutil.copytree(shipped_dir("playbooks") / "library", playbooks_dir / "library")
    adapter = AnsiblePlaybooks(tmp_path / "build", playbooks_dir)
    context = sshd.context("module-it")
    adapter.render_inventory(context, "127.0.0.1")
    return adapter, context, playbooks_dir


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_release_files_are_written_once_then_only_what_changed(sshd: Sshd, tmp_path: Path) -> None:
    adapter, context, playbooks_dir = _adapter(tmp_path, sshd)
    dest = tmp_path / "opt" / "torrust-tracker"
    files = {"docker-compose.yml": ("services: {}\n", "0644"), "tracker.toml": ("[core]\n", "0644")}
    secret = (f"TOKEN={SECRET}\n", "0600")
    (playbooks_dir / "write.yml").write_text(_playbook(dest, files, secret))

    events: list[str] = []
    assert adapter.run(context, "write.yml", events.append) == 1
    assert _mode(dest) == 0o750 and dest.stat().st_uid == 0
    assert (dest / "docker-compose.yml").read_text() == "services: {}\n"
    assert (dest / "tracker.env").read_text() == secret[0]
    assert [_mode(dest / n) for n in ("docker-compose.yml", "tracker.toml", "tracker.env")] == [0o644, 0o644, 0o600]
    assert sorted(p.name for p in dest.iterdir()) == ["docker-compose.yml", "tracker.env", "tracker.toml"]

    assert adapter.run(context, "write.yml") == 0  # nothing differs

    (dest / "tracker.toml").chmod(0o666)
    files["docker-compose.yml"] = ("services: {tracker: {}}\n", "0644")
    (playbooks_dir / "write.yml").write_text(_playbook(dest, files, secret))
    inode = (dest / "tracker.env").stat().st_ino
    assert adapter.run(context, "write.yml") == 1
    assert (dest / "docker-compose.yml").read_text() == "services: {tracker: {}}\n"
    assert _mode(dest / "tracker.toml") == 0o644
    assert (dest / "tracker.env").stat().st_ino == inode  # the unchanged file was left alone

    artifacts = adapter.private_data_dir(str(context.name))
    leaked = [p for p in artifacts.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert leaked == [] and not any(SECRET in line for line in events)


def test_a_file_name_with_a_slash_is_refused_and_nothing_is_written(sshd: Sshd, tmp_path: Path) -> None:
    adapter, context, playbooks_dir = _adapter(tmp_path, sshd)
    dest = tmp_path / "release"
    (playbooks_dir / "write.yml").write_text(_playbook(dest, {"../escape": ("x\n", "0644")}, ("T=x\n", "0600")))
    with pytest.raises(PlaybookFailedError, match="invalid release file name"):
        adapter.run(context, "write.yml")
    assert not dest.exists() and not (tmp_path / "escape").exists()
