from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.lab.errors import NotRootError
from orchestrator.lab.local_lab import Lab, LabSettings


@pytest.mark.parametrize("method", ["up", "down", "build_image"])
def test_changing_the_lab_requires_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, method: str) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    lab = Lab(LabSettings(state_dir=tmp_path / "state", cache_dir=tmp_path / "cache"))

    with pytest.raises(NotRootError):
        getattr(lab, method)()

    assert not (tmp_path / "state").exists()
