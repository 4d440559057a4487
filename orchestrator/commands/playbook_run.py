"""Playbooks that one command (or one deploy) runs in a single ansible process, waited for step by step."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import ExitStack

from orchestrator.commands.ports import LineSink, PlaybookRunner, RunningPlaybooks
from orchestrator.domain import EnvironmentContext


class PlaybookRun:
    """`playbooks`, in order, in one ansible process: ansible starts once, not once per playbook.

    The process starts at the first `wait` — inside a step, so that failing to start is that step's
    failure — and each step waits for its own playbook. Leaving the `with` block stops what still runs
    and waits for the process, so no ansible outlives the command's lock. `extravars` go to every playbook
    of the run (never a secret: see `PlaybookRunner.start`)."""

    def __init__(
        self,
        runner: PlaybookRunner,
        context: EnvironmentContext,
        playbooks: Sequence[str],
        extravars: Mapping[str, object] | None = None,
    ) -> None:
        self._runner = runner
        self._context = context
        self._playbooks = list(playbooks)
        self._extravars = dict(extravars) if extravars else None
        self._running: RunningPlaybooks | None = None
        self._cleanup = ExitStack()

    def __enter__(self) -> PlaybookRun:
        return self

    def __exit__(self, *_: object) -> None:
        self._cleanup.close()

    def start_held(self) -> None:
        """Start the process now, its first playbook held until `proceed` (or the first `wait`): ansible's
        start-up (~0.5 s) then overlaps what the caller does meanwhile (provision: the SSH wait)."""
        self._start(held=True)

    def proceed(self) -> None:
        """Let a run started held begin (nothing when it was not started held)."""
        if self._running is not None:
            self._running.proceed()

    def wait(self, playbook: str, on_event: LineSink | None = None) -> int:
        """Start the run if needed, wait until `playbook` is over and return how many tasks it changed."""
        running = self._start(held=False)
        running.proceed()
        return running.wait(playbook, on_event).changed

    def _start(self, held: bool) -> RunningPlaybooks:
        if self._running is None:
            started = self._runner.start(self._context, self._playbooks, self._extravars, held=held)
            self._running = self._cleanup.enter_context(started)
        return self._running
