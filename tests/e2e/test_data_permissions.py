"""After a full lifecycle on the real lab (create → deploy to Running → test → destroy), nothing under
`data/` is readable by group or others and no folder under it is open to them — including what the
Pulumi CLI (the file backend in data/ENV/pulumi: checkpoints, backups, meta.yaml, locks) and
ansible-runner write, which only inherit the command's umask. `build/` is disposable: what it holds is
reported, not asserted."""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.api import Deployer
from orchestrator.config import EnvironmentConfig, parse_config
from orchestrator.domain import Destroyed, Running
from tests.support.keys import SshKeypair

pytestmark = pytest.mark.e2e

OPEN_TO_OTHERS = stat.S_IRWXG | stat.S_IRWXO


def _modes(root: Path) -> dict[Path, int]:
    """Mode of every folder and file under `root` (symlinks are reported as such, not followed)."""
    found: dict[Path, int] = {}
    for folder, folders, files in os.walk(root):
        for name in [*folders, *files]:
            path = Path(folder) / name
            found[path] = os.lstat(path).st_mode
    return found


def _open_to_others(modes: dict[Path, int]) -> list[str]:
    return sorted(
        f"{path} {stat.filemode(mode)}"
        for path, mode in modes.items()
        if not stat.S_ISLNK(mode) and mode & OPEN_TO_OTHERS
    )


def _report(label: str, work: Path, modes: dict[Path, int]) -> None:
    by_mode: dict[str, int] = {}
    for mode in modes.values():
        by_mode[stat.filemode(mode)] = by_mode.get(stat.filemode(mode), 0) + 1
    print(f"{label}: {len(modes)} entries under {work.name}/ by mode: {dict(sorted(by_mode.items()))}")
    for line in _open_to_others(modes):
        print(f"  open to group/others: {line.removeprefix(f'{work}/')}")


@pytest.fixture
def deployer(tmp_path: Path, lab: Any) -> Deployer:
    return Deployer(working_dir=tmp_path / "work", ssh_timeout_s=60.0)


@pytest.fixture
def config(tmp_path: Path, ssh_keypair: SshKeypair, deployer: Deployer, lab: Any) -> Iterator[EnvironmentConfig]:
    """A fresh environment with a tracker; destroyed (and its LXD leftovers removed) at the end."""
    import pylxd

    document = {
        "name": f"perm-{secrets.token_hex(3)}",
        "ssh": {
            "private_key_path": str(ssh_keypair.private_key),
            "public_key_path": str(ssh_keypair.private_key.with_suffix(".pub")),
        },
        "lxd": {},
        "tracker": {},
    }
    made = parse_config(document, tmp_path)
    yield made
    try:
        name = made.environment_name()
        if deployer.repository.exists(name) and not isinstance(deployer.show(made.name).state, Destroyed):
            deployer.destroy(made.name)
    except Exception as error:  # cleanup must go on; the test already reported what matters
        print(f"cleanup: destroy of {made.name} failed: {error}")
    client = pylxd.Client()
    instance_name = made.instance_name or f"torrust-{made.name}"
    if client.instances.exists(instance_name):
        instance = client.instances.get(instance_name)
        if instance.status == "Running":
            instance.stop(force=True, wait=True)
        instance.delete(wait=True)
    profile = made.lxd.profile_name or f"torrust-{made.name}"
    if client.profiles.exists(profile):
        client.profiles.get(profile).delete()


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """The test runs under the usual 022: the product must make its files private itself."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_nothing_under_data_is_open_to_group_or_others_after_a_full_lifecycle(
    deployer: Deployer, config: EnvironmentConfig, permissive_umask: None
) -> None:
    work = deployer.layout.working_dir
    data = deployer.layout.data_dir
    backend = deployer.layout.pulumi_backend_dir(config.name)

    deployer.create(config)
    running = deployer.deploy(config.name)
    assert isinstance(running.state, Running), running.state
    assert deployer.test(config.name).passed

    while_running = _modes(work)
    _report("running", work, while_running)
    pulumi_files = [path for path, mode in while_running.items() if path.is_relative_to(backend) and stat.S_ISREG(mode)]
    assert any(path.name.endswith(".json") for path in pulumi_files), "no Pulumi checkpoint under data/ENV/pulumi"
    assert any(path.name == "meta.yaml" for path in pulumi_files), "no meta.yaml under data/ENV/pulumi"

    destroyed = deployer.destroy(config.name)
    assert isinstance(destroyed.state, Destroyed)
    after_destroy = _modes(work)
    _report("destroyed", work, after_destroy)

    everything = {**while_running, **after_destroy}
    under_data = {path: mode for path, mode in everything.items() if path.is_relative_to(data)}
    assert _open_to_others(under_data) == []
    assert stat.S_IMODE(os.stat(data).st_mode) & OPEN_TO_OTHERS == 0, stat.filemode(os.stat(data).st_mode)
