from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.lab.local_lab import DEFAULT_BRIDGE, DEFAULT_IMAGE_ALIAS, LabSettings


def test_defaults_match_the_documented_lab() -> None:
    settings = LabSettings()

    assert DEFAULT_BRIDGE == settings.bridge == "lxdbr0"
    assert DEFAULT_IMAGE_ALIAS == settings.image_alias == "torrust-trixie"
    assert settings.ipv4_address == "10.200.77.1/24"
    assert settings.storage_pool is None  # the pool the default profile uses, else:
    assert settings.pool == "default"
    assert (settings.storage_driver, settings.storage_size) == ("auto", "24GiB")
    assert settings.suite == "trixie"
    assert settings.cache_dir == Path.home() / ".cache/torrust-deploy/images"
    assert settings.socket_path == Path("/var/lib/lxd/unix.socket")


def test_settings_are_immutable() -> None:
    with pytest.raises(AttributeError):
        LabSettings().bridge = "x"  # type: ignore[misc]
