"""The control path shared by the SSH wait and ansible."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.infrastructure.ssh.multiplexing import control_path, master_options


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A folder with a path short enough for sockets (pytest's tmp_path often is not)."""
    folder = Path(tempfile.mkdtemp(prefix="mux", dir="/tmp"))
    yield folder
    shutil.rmtree(folder)


def test_the_control_path_is_a_private_folder_under_the_cache(monkeypatch: pytest.MonkeyPatch, short_dir: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(short_dir))
    path = control_path()
    assert path == f"{short_dir}/torrust-deploy/ssh/%C"
    assert (short_dir / "torrust-deploy" / "ssh").stat().st_mode & 0o777 == 0o700
    assert master_options(path)[-1] == f"ControlPath={path}"


def test_a_folder_too_deep_for_a_socket_turns_multiplexing_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / ("d" * 80)))
    assert control_path() is None
    assert master_options(None) == []
