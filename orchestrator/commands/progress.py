"""How commands report progress: an observer the caller passes (the CLI renders it, scripts may log it)."""

from __future__ import annotations

from typing import Protocol


class ProgressObserver(Protocol):
    def step_started(self, command: str, index: int, total: int, title: str) -> None: ...

    def step_finished(self, command: str, index: int, total: int, title: str, seconds: float) -> None: ...

    def step_failed(self, command: str, index: int, total: int, title: str, seconds: float) -> None: ...

    def detail(self, line: str) -> None:
        """A line of tool output (Pulumi engine, ansible events) — for verbose renderers."""
        ...


class SilentProgress:
    """Reports nothing."""

    def step_started(self, command: str, index: int, total: int, title: str) -> None:
        pass

    def step_finished(self, command: str, index: int, total: int, title: str, seconds: float) -> None:
        pass

    def step_failed(self, command: str, index: int, total: int, title: str, seconds: float) -> None:
        pass

    def detail(self, line: str) -> None:
        pass
