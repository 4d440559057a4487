"""The tracker's release: the files rendered on the controller and the names the release playbooks use.

`render_release` writes three files into `build/{env}/release/` (the caller's `out_dir`), each replaced
atomically and rendered byte for byte the same from the same inputs (so a re-release uploads nothing):

- `tracker.toml`: the tracker's configuration (schema 2.0.0 of torrust-tracker-configuration 3.0.0). It
  holds no secret: the REST API's admin token reaches the tracker through an environment variable;
- `docker-compose.yml`: one service, `tracker`, under a fixed project name;
- `tracker.env` (0600): the token, as the override variable the tracker's configuration loader reads.

`release_extravars` gives the playbooks (`upload-tracker-release.yml`, `load-tracker-image.yml`,
`start-tracker.yml`, `stop-tracker.yml`) every name they use. The token is never among them:
ansible-runner writes extravars to its private data dir and artifacts; the token travels only inside the
env file, whose content the upload playbook hands to its module as a `no_log` option.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import yaml

from orchestrator.domain.tracker import TrackerSettings
from orchestrator.infrastructure.tracker import container

REMOTE_RELEASE_DIR = "/opt/torrust-tracker"
"""The fixed folder on the host that holds the uploaded release (root, 0750)."""
COMPOSE_PROJECT = "torrust-tracker"
"""The Docker Compose project name: fixed, so the database volume and the container keep their names."""
SERVICE = "tracker"
"""The one Compose service."""
CONFIG_HASH_LABEL = "org.torrust-deploy.config-sha256"
"""The service's label holding the SHA-256 of tracker.toml: a changed configuration changes the Compose
file, so `docker compose up` recreates the container (the tracker reads its configuration at start only)."""
DATABASE_VOLUME = "database"
"""The named volume (Compose calls it `{COMPOSE_PROJECT}_database`) mounted at `container.DATABASE_DIR`."""

COMPOSE_FILE = "docker-compose.yml"
CONFIG_FILE = "tracker.toml"
ENV_FILE = "tracker.env"

TOKEN_ENV_VAR = "TORRUST_TRACKER_CONFIG_OVERRIDE_HTTP_API__ACCESS_TOKENS__ADMIN"
"""The tracker's configuration loader merges `TORRUST_TRACKER_CONFIG_OVERRIDE_` variables over the TOML,
`__` separating the key path: this one is `http_api.access_tokens.admin`."""
DATABASE_DRIVER_ENV_VAR = "TORRUST_TRACKER_CONFIG_OVERRIDE_CORE__DATABASE__DRIVER"
"""Not a secret: the upstream `torrust/tracker` image's entry script refuses to start without it."""

SCHEMA_VERSION = "2.0.0"
HEALTH_CHECK_TIMEOUT_S = 6
"""Above the 5 s request timeout of the crate's `http_health_check` client."""
HEALTH_WAIT_TIMEOUT_S = 60
"""`start-tracker.yml` polls the container's health (every 0.1 s) for at most this long."""
HEALTH_START_INTERVAL = "0.2s"
"""How often Docker runs the health check while the container starts (then every 5 s): the start is seen
within 0.2 s of the tracker answering."""
LOG_LINES_ON_FAILURE = 50

_TOKEN = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9_-]{16,256}$")
"""Letters, digits, `-` and `_`, with a letter: a value that the Compose env file takes literally and that
the tracker's loader (figment) reads as a string — not as a number or a boolean."""


class ReleaseRenderError(ValueError):
    """A release that cannot be rendered (an unusable token, a bad image reference)."""

    def __init__(self, message: str, tip: str) -> None:
        super().__init__(message)
        self.tip = tip


@dataclass(frozen=True, slots=True)
class ReleaseFiles:
    """The rendered release on the controller."""

    directory: Path
    compose: Path
    config: Path
    env: Path
    """Holds the API token: mode 0600."""


@dataclass(frozen=True, slots=True)
class TrackerImageSource:
    """Where the host gets the tracker's image.

    Offline (`archive` set): a flat rootfs tar that `docker import` turns into the image `tag`, with
    `import_changes` as its `-c` instructions (`USER …`, `ENV …`, `ENTRYPOINT […]`). Registry (`archive`
    None): `tag` is a reference the host pulls."""

    tag: str
    archive: Path | None = None
    import_changes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.tag.strip() or any(c.isspace() for c in self.tag):
            raise ReleaseRenderError(
                f"invalid tracker image reference {self.tag!r}", "use a reference such as `torrust/tracker:v3.0.0`"
            )
        # `docker_import_changes()` may hand its instructions with or without the `-c` flags between them
        object.__setattr__(self, "import_changes", tuple(c for c in self.import_changes if c != "-c"))

    @classmethod
    def offline(cls, archive: Path, tag: str, import_changes: Sequence[str]) -> TrackerImageSource:
        return cls(tag, archive, tuple(import_changes))

    @classmethod
    def registry(cls, reference: str) -> TrackerImageSource:
        return cls(reference)

    @classmethod
    def from_artifact(cls, image: BuiltImage) -> TrackerImageSource:
        """The offline source of an image `TrackerArtifacts().ensure_image(version)` returned."""
        from orchestrator.infrastructure.tracker.artifact import docker_import_changes

        return cls.offline(image.archive, image.tag, docker_import_changes())


class BuiltImage(Protocol):
    """What `from_artifact` reads of `artifact.TrackerImage`."""

    @property
    def archive(self) -> Path: ...

    @property
    def tag(self) -> str: ...


def render_release(settings: TrackerSettings, image: str, api_token: str, out_dir: Path) -> ReleaseFiles:
    """Write `tracker.toml`, `docker-compose.yml` and `tracker.env` into `out_dir` (0700) and return them."""
    _check_token(api_token)
    TrackerImageSource(image)  # validates the reference
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    files = release_files(out_dir)
    _atomic_write(files.config, render_config(settings).encode(), 0o644)
    _atomic_write(files.compose, render_compose(settings, image).encode(), 0o644)
    _atomic_write(files.env, render_env(api_token).encode(), 0o600)
    return files


def release_files(out_dir: Path) -> ReleaseFiles:
    """Where `render_release` writes the release in `out_dir` (nothing is read or written)."""
    return ReleaseFiles(out_dir, out_dir / COMPOSE_FILE, out_dir / CONFIG_FILE, out_dir / ENV_FILE)


def release_extravars(files: ReleaseFiles, image: TrackerImageSource) -> dict[str, object]:
    """The playbooks' variables for this release (no secret among them: see the module's docstring)."""
    return {
        "tracker_release_dir": REMOTE_RELEASE_DIR,
        "tracker_compose_project": COMPOSE_PROJECT,
        "tracker_compose_file": f"{REMOTE_RELEASE_DIR}/{COMPOSE_FILE}",
        "tracker_service": SERVICE,
        "tracker_local_compose": str(files.compose.resolve()),
        "tracker_local_config": str(files.config.resolve()),
        "tracker_local_env": str(files.env.resolve()),
        "tracker_image": image.tag,
        "tracker_image_archive": str(image.archive.resolve()) if image.archive is not None else "",
        "tracker_image_import_changes": list(image.import_changes),
        "tracker_health_timeout_s": HEALTH_WAIT_TIMEOUT_S,
        "tracker_log_lines": LOG_LINES_ON_FAILURE,
    }


# --- tracker.toml ---------------------------------------------------------------------------------------

TomlValue = str | int | bool


def render_config(settings: TrackerSettings) -> str:
    """The tracker's TOML. Every key is one of torrust-tracker-configuration 3.0.0's `v2_0_0` structures."""
    interval = settings.announce_interval_s
    core: dict[str, TomlValue] = {
        "inactive_peer_cleanup_interval": 600,
        "listed": False,
        "private": settings.private,
        "tracker_usage_statistics": True,  # the REST API's stats count announces only with it
    }
    sections: list[tuple[str, dict[str, TomlValue]]] = [
        ("[metadata]", {"app": "torrust-tracker", "purpose": "configuration", "schema_version": SCHEMA_VERSION}),
        ("[logging]", {"threshold": "info"}),
        ("[core]", core),
        ("[core.announce_policy]", {"interval": interval, "interval_min": max(1, interval // 2)}),
        ("[core.database]", {"driver": settings.database, "path": container.DATABASE_FILE}),
    ]
    if settings.private:
        sections.append(("[core.private_mode]", {"check_keys_expiration": True}))
    sections.append(
        (
            "[core.tracker_policy]",
            {
                # a peer that announces on time must not be dropped in between (default 900 s)
                "max_peer_timeout": max(900, 2 * interval),
                "persistent_torrent_completed_stat": False,
                "remove_peerless_torrents": True,
            },
        )
    )
    sections += [("[[udp_trackers]]", {"bind_address": _bind(port)}) for port in settings.udp_ports]
    sections += [("[[http_trackers]]", {"bind_address": _bind(port)}) for port in settings.http_ports]
    sections.append(("[http_api]", {"bind_address": _bind(settings.api_port)}))
    sections.append(("[health_check_api]", {"bind_address": _bind(settings.health_check_port)}))

    lines = [
        "# Rendered by torrust-deploy: a re-release replaces this file.",
        "# No secret here: the REST API's admin token comes from tracker.env, as the variable",
        f"# {TOKEN_ENV_VAR}.",
    ]
    for header, values in sections:
        lines += ["", header, *(f"{key} = {_toml_value(value)}" for key, value in values.items())]
    return "\n".join(lines) + "\n"


def _bind(port: int) -> str:
    """All interfaces inside the container: Docker publishes the port on the host."""
    return f"0.0.0.0:{port}"


def _toml_value(value: TomlValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise ValueError(f"control character in TOML string {value!r}")
    return json.dumps(value, ensure_ascii=False)  # a JSON string without control characters is a TOML one


# --- docker-compose.yml ---------------------------------------------------------------------------------


def render_compose(settings: TrackerSettings, image: str) -> str:
    """The Compose file: `docker compose -p torrust-tracker -f docker-compose.yml up -d` runs it."""
    ports = [_port(port, "udp") for port in settings.udp_ports]
    ports += [_port(port, "tcp") for port in (*settings.http_ports, settings.api_port, settings.health_check_port)]
    health_url = f"http://127.0.0.1:{settings.health_check_port}/health_check"
    config_hash = hashlib.sha256(render_config(settings).encode()).hexdigest()
    service = {
        "image": image,
        "labels": {CONFIG_HASH_LABEL: config_hash},
        "restart": "unless-stopped",
        "stop_signal": "SIGINT",  # the tracker ignores SIGTERM
        "stop_grace_period": "10s",
        "env_file": [ENV_FILE],
        "environment": {
            container.CONFIG_ENV_VAR: container.CONFIG_PATH,
            DATABASE_DRIVER_ENV_VAR: settings.database,
        },
        "ports": ports,
        "volumes": [
            {"type": "bind", "source": f"./{CONFIG_FILE}", "target": container.CONFIG_PATH, "read_only": True},
            {"type": "volume", "source": DATABASE_VOLUME, "target": container.DATABASE_DIR},
        ],
        "healthcheck": {
            # the image has no shell and no curl: the crate's own client
            "test": ["CMD", container.HEALTH_CHECK_BINARY_PATH, health_url],
            "interval": "5s",
            "timeout": f"{HEALTH_CHECK_TIMEOUT_S}s",
            "retries": 3,
            "start_period": "30s",
            "start_interval": HEALTH_START_INTERVAL,
        },
        "logging": {"driver": "json-file", "options": {"max-size": "10m", "max-file": "3"}},
    }
    document = {"name": COMPOSE_PROJECT, "services": {SERVICE: service}, "volumes": {DATABASE_VOLUME: {}}}
    header = "# Rendered by torrust-deploy: a re-release replaces this file.\n"
    return header + yaml.safe_dump(document, sort_keys=False, default_flow_style=False, width=120)


def _port(port: int, protocol: str) -> str:
    """The same number on the host and inside the container; the protocol always written (and the `/`
    keeps YAML from ever reading the string as a number)."""
    return f"{port}:{port}/{protocol}"


# --- tracker.env ----------------------------------------------------------------------------------------


def render_env(api_token: str) -> str:
    _check_token(api_token)
    return f"# Rendered by torrust-deploy. Secret: keep it 0600.\n{TOKEN_ENV_VAR}={api_token}\n"


def _check_token(api_token: str) -> None:
    if not _TOKEN.match(api_token):
        raise ReleaseRenderError(
            "the tracker's API token must be 16-256 letters, digits, '-' or '_', with at least one letter",
            "generate a new token, e.g. with `python -c 'import secrets; print(secrets.token_urlsafe(32))'`",
        )


# --- files ----------------------------------------------------------------------------------------------


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    """Replace `path` with `data`: a temp file beside it, created with `mode` (never wider), then renamed."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    try:
        try:
            os.fchmod(fd, mode)  # the umask filtered the creation mode
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
