"""`torrust-deploy artifact …` on a cache in a temp folder: status before and after a (fake) build, ensure
from the cache, and a build error rendered with its cargo output, tip and log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.infrastructure.tracker import artifact
from orchestrator.infrastructure.tracker.artifact import TrackerArtifacts, TrackerBuildError, image_tag
from tests.support.cli import run_cli
from tests.unit.infrastructure.tracker.test_artifact import FakeTools


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "torrust-deploy" / "tracker"


def _seed(cache: Path) -> None:
    tools = FakeTools()
    TrackerArtifacts(
        cache, run=tools.run, run_cargo=tools.run_cargo, cargo=Path("/x/cargo"), is_root=True
    ).ensure_image("3.0.0")


def test_status_says_not_built_and_exits_0(tmp_path: Path, cache: Path) -> None:
    result = run_cli(tmp_path, "artifact", "status")

    assert result.exit_code == 0
    assert "Tracker 3.0.0: NOT BUILT" in result.stdout


def test_status_json_describes_the_cached_build(tmp_path: Path, cache: Path) -> None:
    _seed(cache)

    result = run_cli(tmp_path, "artifact", "status", json_output=True)

    document = json.loads(result.stdout)
    assert result.exit_code == 0
    assert document["ok"] is True
    assert document["command"] == "artifact status"
    assert document["artifact"]["built"] is True
    assert document["artifact"]["image"]["tag"] == image_tag("3.0.0")


def test_ensure_uses_the_cache_and_prints_how_a_host_loads_it(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(cache)
    monkeypatch.setattr(artifact, "find_cargo", lambda: None)  # a hit needs no toolchain

    result = run_cli(tmp_path, "artifact", "ensure")

    assert result.exit_code == 0, result.stderr
    assert f"Image {image_tag('3.0.0')}:" in result.stdout
    assert "docker import -c 'USER 1000:1000'" in result.stdout


def test_a_build_error_shows_cargo_output_tip_and_log(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(self: TrackerArtifacts, version: str, *, force: bool = False) -> object:
        raise TrackerBuildError(
            "cargo install torrust-tracker@3.0.0 failed (exit 101): error: linker `cc` not found",
            detail="error: linker `cc` not found",
            trace_path=cache / "x.failed.log",
        )

    monkeypatch.setattr(TrackerArtifacts, "ensure_image", fail)

    text = run_cli(tmp_path, "artifact", "build", "--force")
    as_json = run_cli(tmp_path, "artifact", "build", json_output=True)

    assert text.exit_code == 1
    assert text.stderr.splitlines()[0].startswith("Error: cargo install torrust-tracker@3.0.0 failed")
    assert "  | error: linker `cc` not found" in text.stderr
    assert "Tip: " in text.stderr
    assert f"Trace: {cache / 'x.failed.log'}" in text.stderr
    error = json.loads(as_json.stdout)["error"]
    assert as_json.exit_code == 1
    assert error["kind"] == "TrackerBuildError"
    assert error["trace_path"] == str(cache / "x.failed.log")
    assert error["detail"] == "error: linker `cc` not found"


def test_an_invalid_version_is_a_usage_error(tmp_path: Path, cache: Path) -> None:
    result = run_cli(tmp_path, "artifact", "status", "--version", "latest")

    assert result.exit_code == 2
    assert "invalid tracker version" in result.stderr
    assert not cache.exists() or not any(cache.iterdir())
