"""The environment configuration file (JSON or TOML): a pydantic model validated without network.

Relative paths resolve against the file's folder. `load_config(path)` parses, validates (key files
exist, are readable, the public key parses, the private key has no passphrase) and returns the model;
every problem is a `ConfigError` with a one-line message and a tip.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orchestrator.domain import (
    DeployError,
    DomainError,
    EnvironmentName,
    ExitCode,
    LxdTarget,
    SshCredentials,
    TrackerSettings,
)
from orchestrator.domain.tracker import (
    DEFAULT_ANNOUNCE_INTERVAL_S,
    DEFAULT_API_PORT,
    DEFAULT_HEALTH_CHECK_PORT,
    DEFAULT_HTTP_PORTS,
    DEFAULT_TRACKER_VERSION,
    DEFAULT_UDP_PORTS,
)


class ConfigError(DeployError):
    """The configuration file cannot be used; `.tip` says how to fix it."""

    exit_code = ExitCode.USAGE


class SshSection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    private_key_path: Path = Field(description="Private key (no passphrase) used to reach the instance.")
    public_key_path: Path = Field(description="Public key installed for the user by cloud-init.")
    username: str = Field(default="torrust", description="The user cloud-init creates.")
    port: int = Field(default=22, ge=1, le=65535, description="The instance's SSH port.")


class LxdSection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoint: str | None = Field(default=None, description="None: local unix socket; else https://host:port.")
    client_cert_path: Path | None = None
    client_key_path: Path | None = None
    server_cert_path: Path | None = None
    image_alias: str = "torrust-trixie"
    instance_type: Literal["container", "virtual-machine"] = "container"
    profile_name: str | None = None
    network: str = "lxdbr0"
    storage_pool: str = "default"


class TrackerSection(BaseModel):
    """The Torrust Tracker that `release` and `run` put on the host (defaults from the domain)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(default=DEFAULT_TRACKER_VERSION, description="torrust-tracker release on crates.io.")
    image: str | None = Field(
        default=None,
        description="A registry image the host pulls (e.g. torrust/tracker:v3.0.0); unset: built here from "
        "crates.io and shipped to the host without any registry.",
    )
    udp_ports: list[int] = Field(default=list(DEFAULT_UDP_PORTS), description="UDP tracker ports (BEP 15).")
    http_ports: list[int] = Field(default=list(DEFAULT_HTTP_PORTS), description="HTTP tracker ports.")
    api_port: int = Field(default=DEFAULT_API_PORT, description="REST API port (reachable from the controller).")
    health_check_port: int = Field(default=DEFAULT_HEALTH_CHECK_PORT, description="Health check API port.")
    private: bool = Field(default=False, description="Private mode: peers need a key to announce.")
    announce_interval_s: int = Field(
        default=DEFAULT_ANNOUNCE_INTERVAL_S, description="Seconds a client waits between announces."
    )
    database: Literal["sqlite3"] = Field(
        default="sqlite3", description="SQLite, in a Docker volume that survives a re-release."
    )


class EnvironmentConfig(BaseModel):
    """An environment as the user describes it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Environment name: lowercase letters, digits, dashes; starts with a letter.")
    instance_name: str | None = Field(default=None, description="LXD instance name (default torrust-NAME).")
    ssh: SshSection
    lxd: LxdSection = LxdSection()
    tracker: TrackerSection | None = Field(
        default=None, description="The tracker to run; without it the environment stops at Configured."
    )

    def environment_name(self) -> EnvironmentName:
        return EnvironmentName(self.name)

    def ssh_credentials(self) -> SshCredentials:
        return SshCredentials(
            private_key_path=self.ssh.private_key_path,
            public_key_path=self.ssh.public_key_path,
            username=self.ssh.username,
            port=self.ssh.port,
        )

    def lxd_target(self) -> LxdTarget:
        return LxdTarget(**self.lxd.model_dump())

    def tracker_settings(self) -> TrackerSettings | None:
        if self.tracker is None:
            return None
        fields = self.tracker.model_dump()
        return TrackerSettings(
            **{**fields, "udp_ports": tuple(fields["udp_ports"]), "http_ports": tuple(fields["http_ports"])},
            reserved_ports=(self.ssh.port,),
        )


def _resolve(base: Path, path: Path | None) -> Path | None:
    if path is None:
        return None
    # Absolute and normalized, but symbolic links are kept (a key may be a link that gets rotated).
    return Path(os.path.abspath(base / path.expanduser()))


def _read_document(path: Path) -> dict[str, Any]:
    if path.exists() and not path.is_file():  # a directory, or a FIFO that would block the read
        raise ConfigError(f"config file {path} is not a regular file", "Pass the path of the config file itself.")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path} does not exist",
            "Check the path, or write one with `torrust-deploy create template > env.json`.",
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read config file {path}: {error}", "Check the file's permissions.") from None
    try:
        document: Any = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as error:
        kind = "TOML" if path.suffix == ".toml" else "JSON"
        raise ConfigError(
            f"config file {path} is not valid {kind}: {error}",
            "Fix the syntax; `torrust-deploy create template` prints a valid example.",
        ) from None
    if not isinstance(document, dict):
        raise ConfigError(f"config file {path} must hold an object", "Start from `torrust-deploy create template`.")
    return document


_SECTIONS: dict[str, type[BaseModel]] = {
    "": EnvironmentConfig,
    "ssh": SshSection,
    "lxd": LxdSection,
    "tracker": TrackerSection,
}
_SCHEMA_TIP = "Compare it with `torrust-deploy create template`; `torrust-deploy create schema` prints the schema."


def _describe(error: ValidationError) -> tuple[str, str]:
    """One line for the first problem (and how many more), and a tip for it."""
    problems = error.errors()
    first = problems[0]
    location = ".".join(str(part) for part in first["loc"]) or "(top level)"
    more = f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})" if len(problems) > 1 else ""
    if first["type"] == "extra_forbidden":
        section = ".".join(str(part) for part in first["loc"][:-1])
        model = _SECTIONS.get(section)
        if model is not None:
            allowed = ", ".join(model.model_fields)
            where = f"in {section}" if section else "at the top level"
            return f"unknown field {location}{more}", f"Fields allowed {where}: {allowed}."
        return f"unknown field {location}{more}", _SCHEMA_TIP
    if first["type"] == "missing":
        return f"missing field {location}{more}", _SCHEMA_TIP
    return f"{location}: {first['msg']}{more}", _SCHEMA_TIP


def parse_config(document: dict[str, Any], base_dir: Path, source: str = "config") -> EnvironmentConfig:
    """Validate a config document; relative paths resolve against `base_dir`."""
    try:
        config = EnvironmentConfig.model_validate(document)
    except ValidationError as error:
        problem, tip = _describe(error)
        raise ConfigError(f"{source} is invalid: {problem}", tip) from None
    ssh = config.ssh.model_copy(
        update={
            "private_key_path": _resolve(base_dir, config.ssh.private_key_path),
            "public_key_path": _resolve(base_dir, config.ssh.public_key_path),
        }
    )
    lxd = config.lxd.model_copy(
        update={
            key: _resolve(base_dir, getattr(config.lxd, key))
            for key in ("client_cert_path", "client_key_path", "server_cert_path")
        }
    )
    config = config.model_copy(update={"ssh": ssh, "lxd": lxd})
    try:
        config.environment_name()
        config.ssh_credentials()
        config.lxd_target()
        config.tracker_settings()
    except DomainError as error:
        raise ConfigError(f"{source}: {error}", error.tip) from None
    check_key_files(config.ssh)
    check_tls_files(config.lxd)
    return config


def load_config(path: Path) -> EnvironmentConfig:
    """Read, parse and validate an environment config file (JSON, or TOML by its suffix)."""
    return parse_config(_read_document(path), path.resolve().parent, source=f"config file {path}")


def _readable(path: Path, what: str, create_tip: str | None = None) -> bytes:
    if not path.exists():
        if path.is_symlink():
            raise ConfigError(f"{what} {path} is a broken symbolic link", "Point the config at the file itself.")
        raise ConfigError(
            f"{what} {path} does not exist",
            create_tip or f"Create the key pair: `ssh-keygen -t ed25519 -N '' -f {_private_half(path)}`.",
        )
    if not path.is_file():
        raise ConfigError(f"{what} {path} is not a regular file", f"Point the config at the {what} file itself.")
    unreadable = ConfigError(f"{what} {path} is not readable", f"Give this user read access (`chmod u+r {path}`).")
    if not os.access(path, os.R_OK):
        raise unreadable
    try:
        return path.read_bytes()
    except PermissionError:
        raise unreadable from None


def _private_half(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(".pub"))


def check_key_files(ssh: SshSection) -> None:
    """The key pair is usable for automation: both files readable, public key parses, no passphrase."""
    from cryptography.hazmat.primitives import serialization

    public = _readable(ssh.public_key_path, "SSH public key")
    private = _readable(ssh.private_key_path, "SSH private key")
    try:
        serialization.load_ssh_public_key(public.strip())
    except (ValueError, TypeError, IndexError):
        raise ConfigError(
            f"SSH public key {ssh.public_key_path} is not an OpenSSH public key",
            "Use the .pub file written by ssh-keygen (one line: `ssh-ed25519 AAAA… comment`).",
        ) from None
    try:
        if b"OPENSSH PRIVATE KEY" in private:
            serialization.load_ssh_private_key(private, password=None)
        else:
            serialization.load_pem_private_key(private, password=None)
    except TypeError:
        raise ConfigError(
            f"SSH private key {ssh.private_key_path} is protected by a passphrase, which stops automation",
            "Use a key without a passphrase for this environment (`ssh-keygen -t ed25519 -N '' -f KEY`).",
        ) from None
    except (ValueError, IndexError):
        raise ConfigError(
            f"SSH private key {ssh.private_key_path} is not a private key",
            "Point ssh.private_key_path at the private half of the key pair.",
        ) from None


def check_tls_files(lxd: LxdSection) -> None:
    """The LXD client certificate, its key and the pinned server certificate, when given, are readable files."""
    for field, what in (
        ("client_cert_path", "LXD client certificate"),
        ("client_key_path", "LXD client key"),
        ("server_cert_path", "LXD server certificate"),
    ):
        path = getattr(lxd, field)
        if path is not None:
            _readable(path, what, create_tip=f"Point lxd.{field} at an existing PEM file.")


def key_pair_mismatch(ssh: SshSection) -> str | None:
    """A warning when the private key is not the private half of the public key (SSH would fail later)."""
    from cryptography.hazmat.primitives import serialization

    try:
        private_bytes = ssh.private_key_path.read_bytes()
        private: Any = (
            serialization.load_ssh_private_key(private_bytes, password=None)
            if b"OPENSSH PRIVATE KEY" in private_bytes
            else serialization.load_pem_private_key(private_bytes, password=None)
        )
        derived: bytes = private.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        given = ssh.public_key_path.read_bytes().split()[:2]
    except (OSError, ValueError, TypeError, AttributeError):
        return None
    if derived.split()[:2] != given:
        return (
            f"the private key {ssh.private_key_path} is not the private half of {ssh.public_key_path}; "
            "SSH to the instance will fail"
        )
    return None


def config_template(name: str = "my-env") -> dict[str, Any]:
    """A ready-to-edit example config for environment `name` (keys in `keys/NAME`, relative to the file)."""
    try:
        EnvironmentName(name)
    except DomainError as error:
        raise ConfigError(str(error), error.tip) from None
    return {
        "name": name,
        "ssh": {
            "private_key_path": f"keys/{name}",
            "public_key_path": f"keys/{name}.pub",
            "username": "torrust",
            "port": 22,
        },
        "lxd": {"image_alias": "torrust-trixie", "instance_type": "container", "network": "lxdbr0"},
        "tracker": {
            "version": DEFAULT_TRACKER_VERSION,
            "udp_ports": list(DEFAULT_UDP_PORTS),
            "http_ports": list(DEFAULT_HTTP_PORTS),
            "api_port": DEFAULT_API_PORT,
            "health_check_port": DEFAULT_HEALTH_CHECK_PORT,
            "private": False,
            "announce_interval_s": DEFAULT_ANNOUNCE_INTERVAL_S,
        },
    }


def config_schema() -> dict[str, Any]:
    return EnvironmentConfig.model_json_schema()
