"""Finding the cached Pulumi CLI: the version stamped by its build is trusted, older caches are stamped."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.infrastructure.pulumi.toolchain import PLUGIN_SCRIPT, PULUMI_VERSION, cached_cli, find_pulumi


def _cache(root: Path, marker_text: str, cli_script: str = "#!/bin/sh\nexit 1\n") -> Path:
    cli = cached_cli(root)
    cli.parent.mkdir(parents=True)
    cli.write_text(cli_script)
    cli.chmod(0o755)
    plugin = cli.with_name(PLUGIN_SCRIPT)
    plugin.write_text("#!/bin/sh\n")
    plugin.chmod(0o755)
    (cli.parent.parent / ".complete").write_text(marker_text)
    return cli


@pytest.fixture(autouse=True)
def no_pulumi_on_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-path"))


def test_a_cache_stamped_with_its_version_is_used_without_running_the_cli(tmp_path: Path) -> None:
    # the fake CLI fails if run: finding it must not run it
    cli = _cache(tmp_path / "cache", f"{PULUMI_VERSION}\n")
    found = find_pulumi(tmp_path / "cache")
    assert (found.cli, found.version) == (cli, PULUMI_VERSION)


def test_an_older_cache_with_an_empty_marker_is_run_once_and_then_stamped(tmp_path: Path) -> None:
    cli = _cache(tmp_path / "cache", "", cli_script=f"#!/bin/sh\necho {PULUMI_VERSION}\n")
    found = find_pulumi(tmp_path / "cache")
    assert (found.cli, found.version) == (cli, PULUMI_VERSION)
    assert (cli.parent.parent / ".complete").read_text().strip() == PULUMI_VERSION


def test_a_marker_with_a_version_below_the_minimum_is_not_trusted(tmp_path: Path) -> None:
    from orchestrator.infrastructure.pulumi.toolchain import PulumiCliNotFoundError

    _cache(tmp_path / "cache", "v3.0.0\n")
    with pytest.raises(PulumiCliNotFoundError):
        find_pulumi(tmp_path / "cache")


def test_every_pulumi_run_finds_this_installation_s_lxd_plugin_and_downloads_nothing(tmp_path: Path) -> None:
    from orchestrator.infrastructure.pulumi.toolchain import LXD_PLUGIN, PulumiToolchain, lxd_plugin_dir

    plugin_dir = lxd_plugin_dir()
    assert (plugin_dir / LXD_PLUGIN).is_file()  # the console script of this installation
    environment = PulumiToolchain(cli=tmp_path / "bin" / "pulumi", version=PULUMI_VERSION).environment()
    assert environment["PATH"].split(":")[:2] == [str(tmp_path / "bin"), str(plugin_dir)]
    assert environment["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] == "true"
    assert environment["PULUMI_DISABLE_REGISTRY_RESOLVE"] == "true"


def test_the_workspace_names_the_lxd_plugin_as_the_project_s_provider(tmp_path: Path) -> None:
    from orchestrator.infrastructure.pulumi.stacks import PROJECT_NAME, project_settings

    settings = project_settings("file:///backend", tmp_path).to_dict()
    assert settings["name"] == PROJECT_NAME and settings["backend"] == {"url": "file:///backend"}
    assert settings["plugins"] == {"providers": [{"name": "lxd", "path": str(tmp_path)}]}
