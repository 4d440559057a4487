from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from orchestrator.lab.image import (
    RECIPE_DIR,
    ImageRecipe,
    lookup_cached,
    read_package_list,
    render_metadata,
)


@pytest.fixture
def recipe_dir(tmp_path: Path) -> Path:
    target = tmp_path / "recipe"
    shutil.copytree(RECIPE_DIR, target)
    return target


def _recipe(recipe_dir: Path, **overrides: str) -> ImageRecipe:
    values = {"suite": "trixie", "mirror": "http://deb.debian.org/debian", "architecture": "amd64"}
    values.update(overrides)
    return ImageRecipe(recipe_dir=recipe_dir, **values)


def test_recipe_digest_is_stable_for_the_same_recipe(recipe_dir: Path) -> None:
    assert _recipe(recipe_dir).digest() == _recipe(recipe_dir).digest()


def test_recipe_digest_does_not_depend_on_where_the_recipe_lives(recipe_dir: Path) -> None:
    assert _recipe(recipe_dir).digest() == _recipe(RECIPE_DIR).digest()


def test_recipe_digest_changes_when_a_recipe_file_changes(recipe_dir: Path) -> None:
    before = _recipe(recipe_dir).digest()
    config = recipe_dir / "rootfs/etc/cloud/cloud.cfg.d/90-torrust-deploy.cfg"
    config.write_text(config.read_text() + "# changed\n")

    assert _recipe(recipe_dir).digest() != before


def test_recipe_digest_changes_when_a_file_is_added(recipe_dir: Path) -> None:
    before = _recipe(recipe_dir).digest()
    (recipe_dir / "rootfs/etc/motd").write_text("hello\n")

    assert _recipe(recipe_dir).digest() != before


def test_recipe_digest_changes_when_the_package_list_changes(recipe_dir: Path) -> None:
    before = _recipe(recipe_dir).digest()
    packages = recipe_dir / "packages.txt"
    packages.write_text(packages.read_text() + "curl\n")

    assert "curl" in read_package_list(recipe_dir)
    assert _recipe(recipe_dir).digest() != before


def test_recipe_digest_ignores_python_caches(recipe_dir: Path) -> None:
    before = _recipe(recipe_dir).digest()
    (recipe_dir / "__pycache__").mkdir()
    (recipe_dir / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")

    assert _recipe(recipe_dir).digest() == before


@pytest.mark.parametrize(
    "override",
    [
        {"suite": "bookworm"},
        {"mirror": "http://mirror.example/debian"},
        {"architecture": "arm64"},
        {"version": "999"},
    ],
)
def test_recipe_digest_changes_with_suite_mirror_architecture_and_version(
    recipe_dir: Path, override: dict[str, str]
) -> None:
    assert _recipe(recipe_dir, **override).digest() != _recipe(recipe_dir).digest()


def test_package_list_ignores_comments_and_blank_lines(tmp_path: Path) -> None:
    (tmp_path / "packages.txt").write_text("# comment\nsudo  python3 # trailing\n\ncloud-init\n")

    assert read_package_list(tmp_path) == ("sudo", "python3", "cloud-init")


def test_shipped_recipe_installs_cloud_init_and_sshd() -> None:
    packages = read_package_list(RECIPE_DIR)

    assert {"openssh-server", "cloud-init", "python3", "sudo", "isc-dhcp-client", "ifupdown"} <= set(packages)


def test_metadata_has_architecture_date_and_hostname_templates() -> None:
    metadata = render_metadata(_recipe(RECIPE_DIR), "ab" * 32, 1_700_000_000)

    assert metadata["architecture"] == "x86_64"
    assert metadata["creation_date"] == 1_700_000_000
    assert metadata["properties"]["release"] == "trixie"
    assert set(metadata["templates"]) == {"/etc/hostname", "/etc/hosts"}
    assert metadata["templates"]["/etc/hostname"]["when"] == ["create", "copy"]


def test_cache_lookup_finds_only_the_current_recipe_tarball(tmp_path: Path, recipe_dir: Path) -> None:
    recipe = _recipe(recipe_dir)
    assert lookup_cached(recipe, tmp_path) is None

    tarball = tmp_path / recipe.tarball_name()
    tarball.write_bytes(b"image")
    cached = lookup_cached(recipe, tmp_path)

    assert cached is not None
    assert cached.path == tarball
    assert cached.fingerprint == "6105d6cc76af400325e94d588ce511be5bfdbb73b437dc51eca43917d7a43e3d"
    (recipe_dir / "packages.txt").write_text("sudo\n")
    assert lookup_cached(_recipe(recipe_dir), tmp_path) is None
