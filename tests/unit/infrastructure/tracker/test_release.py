"""The rendered release: golden files (a changed rendering shows up as a diff), secrets kept out of the
TOML, the Compose file and the extravars, file modes, several ports, private mode.

Regenerate the golden files after an intended change with
`UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/infrastructure/tracker/test_release.py` and review the diff.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from orchestrator.domain.tracker import TrackerSettings
from orchestrator.infrastructure.tracker import container
from orchestrator.infrastructure.tracker.release import (
    COMPOSE_PROJECT,
    CONFIG_HASH_LABEL,
    REMOTE_RELEASE_DIR,
    SERVICE,
    TOKEN_ENV_VAR,
    ReleaseFiles,
    ReleaseRenderError,
    TrackerImageSource,
    release_extravars,
    render_release,
)

GOLDEN = Path(__file__).parent / "golden"
TOKEN = "Golden-Token_0123456789abcdefXYZ"
IMAGE = "torrust-deploy/tracker:3.0.0-b6287d656038"
MULTI = TrackerSettings(
    udp_ports=(6969, 6970),
    http_ports=(7070, 7071),
    api_port=1414,
    health_check_port=1515,
    announce_interval_s=300,
)
PRIVATE = TrackerSettings(udp_ports=(), http_ports=(7070,), private=True)
"""A private tracker serves HTTP only (the domain refuses UDP ports with private mode)."""
CASES = {"default": TrackerSettings(), "multi-port": MULTI, "private": PRIVATE}


def _render(settings: TrackerSettings, out_dir: Path, token: str = TOKEN) -> ReleaseFiles:
    return render_release(settings, IMAGE, token, out_dir)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_rendered_files_match_the_golden_files(case: str, tmp_path: Path) -> None:
    files = _render(CASES[case], tmp_path / "release")
    for path in (files.config, files.compose, files.env):
        golden = GOLDEN / case / path.name
        actual = path.read_text(encoding="utf-8")
        if os.environ.get("UPDATE_GOLDEN") == "1":
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(actual, encoding="utf-8")
        expected = golden.read_text(encoding="utf-8")
        diff = "".join(
            difflib.unified_diff(expected.splitlines(True), actual.splitlines(True), str(golden), "rendered")
        )
        assert actual == expected, f"{path.name} differs from its golden file:\n{diff}"


def test_rendering_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    first = _render(MULTI, tmp_path / "a")
    second = _render(MULTI, tmp_path / "b")
    for one, other in zip(
        (first.config, first.compose, first.env), (second.config, second.compose, second.env), strict=True
    ):
        assert one.read_bytes() == other.read_bytes()


def test_a_rerender_replaces_the_files_and_leaves_no_temp_files(tmp_path: Path) -> None:
    out = tmp_path / "release"
    _render(TrackerSettings(), out)
    files = _render(TrackerSettings(announce_interval_s=60), out, token="another-token-0123456789")
    assert "interval = 60\n" in files.config.read_text()
    assert "another-token-0123456789" in files.env.read_text()
    assert sorted(p.name for p in out.iterdir()) == ["docker-compose.yml", "tracker.env", "tracker.toml"]


def test_the_token_is_only_in_the_env_file(tmp_path: Path) -> None:
    files = _render(MULTI, tmp_path / "release")
    assert TOKEN not in files.config.read_text()
    assert TOKEN not in files.compose.read_text()
    assert files.env.read_text().splitlines()[-1] == f"{TOKEN_ENV_VAR}={TOKEN}"
    extravars = release_extravars(files, TrackerImageSource.registry(IMAGE))
    assert TOKEN not in json.dumps(extravars)


def test_the_env_file_is_private_and_the_others_readable(tmp_path: Path) -> None:
    files = _render(TrackerSettings(), tmp_path / "release")
    assert stat.S_IMODE(files.env.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.config.stat().st_mode) == 0o644
    assert stat.S_IMODE(files.compose.stat().st_mode) == 0o644
    assert stat.S_IMODE(files.directory.stat().st_mode) == 0o700


def test_the_env_file_stays_private_under_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        files = _render(TrackerSettings(), tmp_path / "release")
    finally:
        os.umask(old)
    assert stat.S_IMODE(files.env.stat().st_mode) == 0o600


def test_the_config_has_one_section_per_port_bound_to_all_interfaces(tmp_path: Path) -> None:
    config = tomllib.loads(_render(MULTI, tmp_path / "release").config.read_text())
    assert [t["bind_address"] for t in config["udp_trackers"]] == ["0.0.0.0:6969", "0.0.0.0:6970"]
    assert [t["bind_address"] for t in config["http_trackers"]] == ["0.0.0.0:7070", "0.0.0.0:7071"]
    assert config["http_api"] == {"bind_address": "0.0.0.0:1414"}  # no access_tokens: they come from the env
    assert config["health_check_api"] == {"bind_address": "0.0.0.0:1515"}


def test_the_config_carries_the_mandatory_options_and_the_settings(tmp_path: Path) -> None:
    config = tomllib.loads(_render(MULTI, tmp_path / "release").config.read_text())
    assert config["metadata"]["schema_version"] == "2.0.0"
    assert config["logging"]["threshold"] == "info"
    assert config["core"]["listed"] is False
    assert config["core"]["private"] is False
    assert config["core"]["announce_policy"] == {"interval": 300, "interval_min": 150}
    assert config["core"]["tracker_policy"]["max_peer_timeout"] >= 300
    assert config["core"]["database"] == {"driver": "sqlite3", "path": container.DATABASE_FILE}


def test_a_private_tracker_checks_key_expiry_and_has_no_udp_tracker(tmp_path: Path) -> None:
    config = tomllib.loads(_render(PRIVATE, tmp_path / "release").config.read_text())
    assert config["core"]["private"] is True
    assert config["core"]["private_mode"] == {"check_keys_expiration": True}
    assert "udp_trackers" not in config
    assert [t["bind_address"] for t in config["http_trackers"]] == ["0.0.0.0:7070"]
    compose = yaml.safe_load(_render(PRIVATE, tmp_path / "release").compose.read_text())
    assert not any(port.endswith("/udp") for port in compose["services"][SERVICE]["ports"])


def test_a_public_tracker_has_no_private_mode_section(tmp_path: Path) -> None:
    # torrust-tracker-configuration refuses a [core.private_mode] section when core.private is false
    config = tomllib.loads(_render(TrackerSettings(), tmp_path / "release").config.read_text())
    assert config["core"]["private"] is False
    assert "private_mode" not in config["core"]


def test_the_compose_service_publishes_every_port_with_its_protocol(tmp_path: Path) -> None:
    compose = yaml.safe_load(_render(MULTI, tmp_path / "release").compose.read_text())
    assert compose["name"] == COMPOSE_PROJECT
    service = compose["services"][SERVICE]
    assert service["ports"] == [
        "6969:6969/udp",
        "6970:6970/udp",
        "7070:7070/tcp",
        "7071:7071/tcp",
        "1414:1414/tcp",
        "1515:1515/tcp",
    ]
    assert service["healthcheck"]["test"] == [
        "CMD",
        container.HEALTH_CHECK_BINARY_PATH,
        "http://127.0.0.1:1515/health_check",
    ]


def test_the_compose_service_stops_with_sigint_and_keeps_its_database(tmp_path: Path) -> None:
    compose = yaml.safe_load(_render(TrackerSettings(), tmp_path / "release").compose.read_text())
    service = compose["services"][SERVICE]
    assert service["image"] == IMAGE
    assert service["stop_signal"] == "SIGINT"
    assert service["restart"] == "unless-stopped"
    assert service["env_file"] == ["tracker.env"]
    volumes = {v["target"]: v for v in service["volumes"]}
    assert volumes[container.CONFIG_PATH] == {
        "type": "bind",
        "source": "./tracker.toml",
        "target": container.CONFIG_PATH,
        "read_only": True,
    }
    assert volumes[container.DATABASE_DIR]["type"] == "volume"
    assert volumes[container.DATABASE_DIR]["source"] in compose["volumes"]


def test_a_changed_config_changes_the_compose_file(tmp_path: Path) -> None:
    # the label makes `docker compose up` recreate the container, so the tracker reads the new config
    first = _render(TrackerSettings(), tmp_path / "a")
    second = _render(TrackerSettings(announce_interval_s=60), tmp_path / "b")
    for files in (first, second):
        label = yaml.safe_load(files.compose.read_text())["services"][SERVICE]["labels"][CONFIG_HASH_LABEL]
        assert label == hashlib.sha256(files.config.read_bytes()).hexdigest()
    assert first.compose.read_bytes() != second.compose.read_bytes()


@pytest.mark.parametrize(
    "token",
    ["short", "12345678901234567890", "has space in it 0123456", "quote'0123456789abcdef", "dollar$0123456789abcd", ""],
)
def test_an_unusable_token_is_refused_with_a_tip(token: str, tmp_path: Path) -> None:
    with pytest.raises(ReleaseRenderError) as raised:
        _render(TrackerSettings(), tmp_path / "release", token=token)
    assert raised.value.tip
    assert not (tmp_path / "release" / "tracker.env").exists()


def test_the_extravars_name_the_remote_folder_and_the_local_files(tmp_path: Path) -> None:
    files = _render(TrackerSettings(), tmp_path / "release")
    archive = tmp_path / "rootfs.tar"
    image = TrackerImageSource.offline(archive, IMAGE, ["-c", "USER 1000:1000", 'ENTRYPOINT ["/usr/bin/x"]'])
    extravars = release_extravars(files, image)
    assert extravars["tracker_release_dir"] == REMOTE_RELEASE_DIR == "/opt/torrust-tracker"
    assert extravars["tracker_compose_file"] == f"{REMOTE_RELEASE_DIR}/docker-compose.yml"
    assert extravars["tracker_compose_project"] == COMPOSE_PROJECT
    assert extravars["tracker_service"] == SERVICE
    assert extravars["tracker_local_env"] == str(files.env.resolve())
    assert extravars["tracker_image"] == IMAGE
    assert extravars["tracker_image_archive"] == str(archive.resolve())
    assert extravars["tracker_image_import_changes"] == ["USER 1000:1000", 'ENTRYPOINT ["/usr/bin/x"]']
    json.dumps(extravars)  # ansible-runner passes them as JSON


def test_a_registry_image_has_no_archive(tmp_path: Path) -> None:
    files = _render(TrackerSettings(), tmp_path / "release")
    extravars = release_extravars(files, TrackerImageSource.registry("torrust/tracker:v3.0.0"))
    assert extravars["tracker_image_archive"] == ""
    assert extravars["tracker_image_import_changes"] == []


def test_an_artifact_image_becomes_an_offline_source_with_the_import_changes(tmp_path: Path) -> None:
    from orchestrator.infrastructure.tracker.artifact import docker_import_changes

    @dataclass
    class Built:
        archive: Path
        tag: str

    source = TrackerImageSource.from_artifact(Built(tmp_path / "rootfs.tar", IMAGE))
    assert source == TrackerImageSource(IMAGE, tmp_path / "rootfs.tar", tuple(docker_import_changes()))


def test_an_image_reference_with_spaces_is_refused() -> None:
    with pytest.raises(ReleaseRenderError):
        TrackerImageSource.registry("torrust/tracker v3")
