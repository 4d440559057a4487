"""Where an environment's files live under a working directory: `data/{env}/` (its state, events, lock,
traces and Pulumi backend; the files inside belong to `JsonFileRepository`) and `build/{env}/` (rendered,
disposable artifacts)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class WorkingDirLayout:
    working_dir: Path

    @property
    def data_dir(self) -> Path:
        return self.working_dir / "data"

    @property
    def build_dir(self) -> Path:
        """Rendered, disposable artifacts (inventory, ansible private data dir, Pulumi work dir)."""
        return self.working_dir / "build"

    def environment_dir(self, name: str) -> Path:
        return self.data_dir / name

    def traces_dir(self, name: str) -> Path:
        return self.environment_dir(name) / "traces"

    def pulumi_backend_dir(self, name: str) -> Path:
        return self.environment_dir(name) / "pulumi"

    def environment_build_dir(self, name: str) -> Path:
        return self.build_dir / name
