"""The release playbooks on a real Configured lab instance, through the real ansible adapter.

upload-tracker-release → load-tracker-image (offline: the cached rootfs tar, `docker import`) →
start-tracker; from the controller the health check answers Ok and the REST API answers with the token;
a second run changes nothing; stop keeps the database volume; a tracker that cannot start fails with its
log lines in the error's tool output, and the next good release starts at once.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shlex
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orchestrator.api import Deployer
from orchestrator.commands.playbook_run import PlaybookRun
from orchestrator.config import EnvironmentConfig, parse_config
from orchestrator.domain import Configured, EnvironmentContext
from orchestrator.domain.tracker import TrackerSettings
from orchestrator.infrastructure.ansible.playbooks import AnsiblePlaybooks, PlaybookFailedError
from orchestrator.infrastructure.tracker.artifact import TrackerArtifacts
from orchestrator.infrastructure.tracker.release import (
    COMPOSE_PROJECT,
    DATABASE_VOLUME,
    REMOTE_RELEASE_DIR,
    ReleaseFiles,
    TrackerImageSource,
    release_extravars,
    render_release,
)
from tests.support.e2e import ssh_run
from tests.support.keys import make_keypair

pytestmark = pytest.mark.e2e

RELEASE = ["upload-tracker-release.yml", "load-tracker-image.yml", "start-tracker.yml"]
VOLUME_DIR = f"/var/lib/docker/volumes/{COMPOSE_PROJECT}_{DATABASE_VOLUME}/_data"


@dataclass
class Lab:
    deployer: Deployer
    config: EnvironmentConfig
    context: EnvironmentContext
    ip: str
    image: TrackerImageSource
    playbooks: AnsiblePlaybooks

    @property
    def release_dir(self) -> Path:
        return self.deployer.layout.build_dir / self.config.name / "release"

    def render(self, settings: TrackerSettings, token: str) -> ReleaseFiles:
        return render_release(settings, self.image.tag, token, self.release_dir)

    def run(self, files: ReleaseFiles, playbooks: list[str], **overrides: object) -> dict[str, tuple[int, float]]:
        """Run `playbooks` in one ansible process (as a command does); each one's changed count and seconds."""
        extravars = {**release_extravars(files, self.image), **overrides}
        results: dict[str, tuple[int, float]] = {}
        with PlaybookRun(self.playbooks, self.context, playbooks, extravars) as run:
            for playbook in playbooks:
                started = time.monotonic()
                changed = run.wait(playbook)
                results[playbook] = (changed, round(time.monotonic() - started, 1))
        print(results)
        return results

    def ssh(self, *command: str) -> str:
        result = ssh_run(self.config, self.ip, shlex.join(command))  # the remote shell splits it again
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()


@pytest.fixture(scope="module")
def lab_env(tmp_path_factory: pytest.TempPathFactory, lab: Any) -> Iterator[Lab]:
    """A Configured environment (provision + configure), and the tracker image from the artifact cache."""
    import pylxd

    base = tmp_path_factory.mktemp("release")
    keypair = make_keypair(base / "id_ed25519", comment="torrust-deploy-e2e")
    name = f"e2e-rel-{secrets.token_hex(3)}"
    document = {
        "name": name,
        "ssh": {"private_key_path": str(keypair.private_key), "public_key_path": str(keypair.public_key_path)},
        "lxd": {},
    }
    config = parse_config(document, base)
    deployer = Deployer(working_dir=base / "work", ssh_timeout_s=60.0)
    try:
        deployer.create(config)
        configured = deployer.configure(deployer.provision(config.name))
        assert isinstance(configured.state, Configured)
        assert configured.instance_ip is not None
        image = TrackerImageSource.from_artifact(TrackerArtifacts().ensure_image(TrackerSettings().version))
        yield Lab(
            deployer,
            config,
            configured.context,
            configured.instance_ip,
            image,
            AnsiblePlaybooks(deployer.layout.build_dir),
        )
    finally:
        try:
            if deployer.repository.exists(config.environment_name()):
                deployer.destroy(config.name)
        except Exception as error:  # cleanup goes on; the test has reported what matters
            print(f"cleanup: destroy of {name} failed: {error}")
        client = pylxd.Client()
        instance_name = f"torrust-{name}"
        if client.instances.exists(instance_name):
            instance = client.instances.get(instance_name)
            if instance.status == "Running":
                instance.stop(force=True, wait=True)
            instance.delete(wait=True)
        if client.profiles.exists(instance_name):
            client.profiles.get(instance_name).delete()


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _token() -> str:
    return "t" + secrets.token_urlsafe(32)  # a leading letter: the renderer wants one


def test_a_release_starts_a_healthy_tracker_and_a_second_run_changes_nothing(lab_env: Lab) -> None:
    settings = TrackerSettings()
    token = _token()
    files = lab_env.render(settings, token)

    first = lab_env.run(files, RELEASE)
    assert all(changed > 0 for changed, _ in first.values()), first

    status, body = _get(f"http://{lab_env.ip}:{settings.health_check_port}/health_check")
    assert status == 200 and json.loads(body)["status"] == "Ok", body
    status, body = _get(f"http://{lab_env.ip}:{settings.api_port}/api/v1/stats?token={token}")
    assert status == 200 and "torrents" in json.loads(body), body
    assert _get(f"http://{lab_env.ip}:{settings.api_port}/api/v1/stats?token=wrong")[0] != 200

    second = lab_env.run(files, RELEASE)
    assert {playbook: changed for playbook, (changed, _) in second.items()} == dict.fromkeys(RELEASE, 0)

    modes = lab_env.ssh(
        "sudo",
        "stat",
        "-c",
        "%n %a %U",
        REMOTE_RELEASE_DIR,
        *(f"{REMOTE_RELEASE_DIR}/{n}" for n in ("docker-compose.yml", "tracker.toml", "tracker.env")),
    )
    assert modes.splitlines() == [
        f"{REMOTE_RELEASE_DIR} 750 root",
        f"{REMOTE_RELEASE_DIR}/docker-compose.yml 644 root",
        f"{REMOTE_RELEASE_DIR}/tracker.toml 644 root",
        f"{REMOTE_RELEASE_DIR}/tracker.env 600 root",
    ]
    # the image's copy was deleted after the import
    assert lab_env.ssh("sudo", "sh", "-c", f"ls -A {REMOTE_RELEASE_DIR}").split() == [
        "docker-compose.yml",
        "tracker.env",
        "tracker.toml",
    ]

    # the token is in no ansible artifact, no extravars, no event
    ansible_dir = lab_env.playbooks.private_data_dir(lab_env.config.name)
    leaked = [p for p in ansible_dir.rglob("*") if p.is_file() and token.encode() in p.read_bytes()]
    assert leaked == []

    # a new token: the env file is replaced, Compose recreates the container, the new token works
    new_token = _token()
    rotated = lab_env.run(lab_env.render(settings, new_token), ["upload-tracker-release.yml", "start-tracker.yml"])
    assert rotated["upload-tracker-release.yml"][0] > 0 and rotated["start-tracker.yml"][0] > 0
    assert _get(f"http://{lab_env.ip}:{settings.api_port}/api/v1/stats?token={new_token}")[0] == 200
    assert _get(f"http://{lab_env.ip}:{settings.api_port}/api/v1/stats?token={token}")[0] != 200


def test_stop_keeps_the_database_and_a_start_brings_the_tracker_back(lab_env: Lab) -> None:
    settings = TrackerSettings()
    files = lab_env.render(settings, _token())
    lab_env.run(files, RELEASE)
    database = f"{VOLUME_DIR}/sqlite3.db"
    inode = lab_env.ssh("sudo", "stat", "-c", "%i", database)

    stopped = lab_env.run(files, ["stop-tracker.yml"])
    assert stopped["stop-tracker.yml"][0] > 0
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://{lab_env.ip}:{settings.health_check_port}/health_check", timeout=3)
    assert lab_env.run(files, ["stop-tracker.yml"])["stop-tracker.yml"][0] == 0

    started = lab_env.run(files, ["start-tracker.yml"])
    assert started["start-tracker.yml"][0] > 0
    assert _get(f"http://{lab_env.ip}:{settings.health_check_port}/health_check")[0] == 200
    assert lab_env.ssh("sudo", "stat", "-c", "%i", database) == inode


def test_a_tracker_that_cannot_start_fails_with_its_log_lines_and_the_next_release_starts(lab_env: Lab) -> None:
    settings = TrackerSettings()
    token = _token()
    files = lab_env.render(settings, token)
    # a configuration the tracker refuses; the compose label follows it, as a real change would
    good = files.config.read_text()
    bad = good.replace('schema_version = "2.0.0"', 'schema_version = "9.9.9"')
    files.config.write_text(bad)
    label = (hashlib.sha256(good.encode()).hexdigest(), hashlib.sha256(bad.encode()).hexdigest())
    files.compose.write_text(files.compose.read_text().replace(*label))

    started = time.monotonic()
    with pytest.raises(PlaybookFailedError) as raised:
        lab_env.run(files, RELEASE, tracker_health_timeout_s=5)
    print(f"failed start reported after {time.monotonic() - started:.1f} s")
    error = raised.value
    assert error.playbook == "start-tracker.yml"
    assert "\n" not in str(error)
    assert "the tracker did not start" in str(error) and "healthy" in str(error)
    assert any("UnsupportedVersion" in line for line in error.tool_output), error.tool_output
    assert token not in "\n".join(error.tool_output)

    repaired = lab_env.run(lab_env.render(settings, token), RELEASE)
    assert repaired["start-tracker.yml"][0] > 0
    assert repaired["start-tracker.yml"][1] < 20  # the stopped container starts at once (no crash back-off)
    assert _get(f"http://{lab_env.ip}:{settings.health_check_port}/health_check")[0] == 200
