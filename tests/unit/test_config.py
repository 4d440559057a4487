"""The environment config file: JSON or TOML, paths relative to the file, validation without network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.config import (
    ConfigError,
    EnvironmentConfig,
    config_schema,
    config_template,
    key_pair_mismatch,
    load_config,
    parse_config,
)
from tests.support.keys import make_keypair


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    make_keypair(tmp_path / "keys" / "my-env")
    return tmp_path


def test_the_template_is_a_valid_config_once_its_keys_exist(folder: Path) -> None:
    (folder / "env.json").write_text(json.dumps(config_template()), encoding="utf-8")

    config = load_config(folder / "env.json")

    assert config.name == "my-env"
    assert config.ssh.private_key_path == folder / "keys" / "my-env"
    assert config.ssh.public_key_path == folder / "keys" / "my-env.pub"
    assert config.lxd.endpoint is None


def test_template_takes_a_name_and_rejects_a_bad_one() -> None:
    assert config_template("blue")["ssh"]["private_key_path"] == "keys/blue"
    with pytest.raises(ConfigError, match="contains '/'"):
        config_template("a/b")


def test_toml_config_by_suffix(folder: Path) -> None:
    (folder / "env.toml").write_text(
        'name = "tomly"\n[ssh]\nprivate_key_path = "keys/my-env"\npublic_key_path = "keys/my-env.pub"\n'
        '[lxd]\ninstance_type = "virtual-machine"\n',
        encoding="utf-8",
    )

    config = load_config(folder / "env.toml")

    assert config.name == "tomly"
    assert config.lxd.instance_type == "virtual-machine"


def test_relative_paths_resolve_against_the_config_folder_not_the_current_one(
    folder: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    (folder / "env.json").write_text(json.dumps(config_template()), encoding="utf-8")
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))

    config = load_config(folder / "env.json")

    assert config.ssh.private_key_path == folder / "keys" / "my-env"


def test_a_symlinked_key_keeps_its_link_path(folder: Path) -> None:
    (folder / "current").symlink_to(folder / "keys" / "my-env")
    document = config_template()
    document["ssh"]["private_key_path"] = "current"

    config = parse_config(document, folder)

    assert config.ssh.private_key_path == folder / "current"


def test_unknown_field_names_the_fields_allowed(folder: Path) -> None:
    document = {**config_template(), "lxd": {"image": "x"}}

    with pytest.raises(ConfigError, match=r"unknown field lxd\.image") as raised:
        parse_config(document, folder)

    assert "image_alias" in raised.value.tip


def test_several_problems_are_counted(folder: Path) -> None:
    document = {**config_template(), "colour": 1, "size": 2}

    with pytest.raises(ConfigError, match=r"\(and 1 more problem\)"):
        parse_config(document, folder)


def test_rsa_pem_key_is_accepted_and_an_encrypted_one_is_refused(folder: Path) -> None:
    document = config_template()
    make_keypair(folder / "keys" / "rsa", kind="rsa", pem=True)
    make_keypair(folder / "keys" / "rsa-locked", kind="rsa", pem=True, passphrase="secret")
    document["ssh"] = {"private_key_path": "keys/rsa", "public_key_path": "keys/rsa.pub"}
    assert parse_config(document, folder).ssh.private_key_path.name == "rsa"

    document["ssh"] = {"private_key_path": "keys/rsa-locked", "public_key_path": "keys/rsa-locked.pub"}
    with pytest.raises(ConfigError, match="protected by a passphrase"):
        parse_config(document, folder)


def test_tls_files_of_a_remote_must_exist(folder: Path) -> None:
    (folder / "client.crt").write_text("cert", encoding="utf-8")
    document = config_template()
    document["lxd"] = {
        "endpoint": "https://10.0.0.1:8443",
        "client_cert_path": "client.crt",
        "client_key_path": "client.key",
    }

    with pytest.raises(ConfigError, match=r"LXD client key .*client\.key does not exist") as raised:
        parse_config(document, folder)

    assert "lxd.client_key_path" in raised.value.tip


def test_key_pair_mismatch(folder: Path) -> None:
    config = parse_config(config_template(), folder)
    assert key_pair_mismatch(config.ssh) is None

    make_keypair(folder / "keys" / "other")
    (folder / "keys" / "my-env.pub").write_bytes((folder / "keys" / "other.pub").read_bytes())
    assert "not the private half" in str(key_pair_mismatch(config.ssh))


def test_schema_is_the_models_json_schema() -> None:
    schema = config_schema()

    assert schema == EnvironmentConfig.model_json_schema()
    assert set(schema["properties"]) == {"name", "instance_name", "ssh", "lxd", "tracker"}
    assert schema["required"] == ["name", "ssh"]
