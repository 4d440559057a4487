from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.persistence import JsonFileRepository


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def repo(data_dir: Path) -> JsonFileRepository:
    return JsonFileRepository(data_dir, lock_timeout=5.0)
