"""A dynamic provider over a local file, for toolchain tests (importable so Pulumi pickles it by reference)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, Resource, ResourceProvider


class LocalFileProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        path = Path(props["path"])
        path.write_text(props["content"], encoding="utf-8")
        return CreateResult(str(path), {**props, "size": len(props["content"])})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        Path(id_).unlink(missing_ok=True)


class LocalFile(Resource):
    size: pulumi.Output[int]

    def __init__(self, name: str, path: str, content: str) -> None:
        super().__init__(LocalFileProvider(), name, {"path": path, "content": content, "size": None})
