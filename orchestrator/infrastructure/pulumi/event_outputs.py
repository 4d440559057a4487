"""A Pulumi `Stack` whose `up` and `destroy` take their outputs and summary from the engine's own events.

After the engine has finished, `Stack.up` reads the results back with three more CLI runs: `stack output`
twice (masked, then with secrets, to tell which outputs are secret) and `stack history` for the summary.
On this machine that is ~0.6 s of every provision (measured by `python -m bench`, section deploy), spent
re-reading what the engine has just streamed: the stack resource's outputs arrive in its `ResOutputsEvent`
and the change counts in the `SummaryEvent`. This subclass keeps those two events during `up` and answers
`outputs()` and `info()` from them. It falls back to the CLI whenever an event is missing or an output is
secret (masked in events), so the results are never less than `Stack.up` gives.

`Stack.destroy` reads its summary back the same way (`stack history --show-secrets`, ~0.3 s here: showing
secrets derives the passphrase key); `destroy` here answers it from the `SummaryEvent` too.
`existing` opens a stack the caller has found on disk without `pulumi stack select` (~0.15 s): every
command the Automation API runs names the stack (`--stack`), so selecting it only checks that it exists,
which the command itself does too. `written` opens one the caller has just created on disk, without
`pulumi stack init`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pulumi import automation as auto
from pulumi.automation import events
from pulumi.automation._stack import StackInitMode  # the type of `Stack(mode=…)`; not re-exported

STACK_TYPE = "pulumi:pulumi:Stack"
SECRET_MASK = "[secret]"


class EngineResults:
    """What one `up` or `destroy` streamed: the stack resource's outputs and the summary (None until seen)."""

    def __init__(self, forward: auto.OnEvent | None = None, kind: str = "update") -> None:
        self.forward = forward
        self.kind = kind
        self.started_at = datetime.now(UTC)
        self.stack_outputs: dict[str, Any] | None = None
        self.summary: events.SummaryEvent | None = None

    def __call__(self, event: events.EngineEvent) -> None:
        outputs_event = event.res_outputs_event
        if outputs_event is not None and outputs_event.metadata.type == STACK_TYPE:
            state = outputs_event.metadata.new
            if state is not None:
                self.stack_outputs = dict(state.outputs or {})
        if event.summary_event is not None:
            self.summary = event.summary_event
        if self.forward is not None:
            self.forward(event)

    def output_map(self) -> auto.OutputMap | None:
        """The outputs as `Stack.outputs()` returns them, or None when the CLI must be asked (no event,
        or a secret output, which events only show masked)."""
        outputs = self.stack_outputs
        if outputs is None or any(value == SECRET_MASK for value in outputs.values()):
            return None
        return {key: auto.OutputValue(value=value, secret=False) for key, value in outputs.items()}

    def update_summary(self) -> auto.UpdateSummary | None:
        """A summary of the operation just run (result, times and change counts), or None without one."""
        if self.summary is None:
            return None
        return auto.UpdateSummary(
            kind=self.kind,
            start_time=self.started_at,
            end_time=datetime.now(UTC),
            message="",
            environment={},
            config={},
            result="succeeded",
            resource_changes=dict(self.summary.resource_changes),
        )


class EventOutputStack(auto.Stack):
    """`Stack` that answers `up`'s own read-back from the events of that `up` (see the module docstring).

    `created` is True when this object created the stack (it has no resources yet)."""

    def __init__(self, name: str, workspace: auto.Workspace, mode: StackInitMode, run_cli: bool = True) -> None:
        if run_cli:
            super().__init__(name, workspace, mode)
        else:  # what `Stack.__init__` sets, without its `pulumi stack select` or `stack init`
            self.name, self.workspace, self._mode = name, workspace, mode
        self.created = mode is StackInitMode.CREATE
        self._results: EngineResults | None = None

    @classmethod
    def existing(cls, name: str, workspace: auto.Workspace) -> EventOutputStack:
        """The stack whose checkpoint the caller has found in the backend, opened without a CLI run. A
        stack that is not there after all fails the first command run on it ("no stack named …")."""
        return cls(name, workspace, StackInitMode.SELECT, run_cli=False)

    @classmethod
    def written(cls, name: str, workspace: auto.Workspace) -> EventOutputStack:
        """The stack the caller has just created in the backend's files (`create_stack_files`), with no
        CLI run: `created`, as after `pulumi stack init`."""
        return cls(name, workspace, StackInitMode.CREATE, run_cli=False)

    @classmethod
    def open(cls, name: str, workspace: auto.Workspace, likely_exists: bool) -> EventOutputStack:
        """Select the stack or create it, trying first what `likely_exists` says (`create_or_select`
        always tries select first: one failed CLI run more for every new environment)."""
        if likely_exists:
            try:
                return cls(name, workspace, StackInitMode.SELECT)
            except auto.StackNotFoundError:
                return cls(name, workspace, StackInitMode.CREATE)
        try:
            return cls(name, workspace, StackInitMode.CREATE)
        except auto.StackAlreadyExistsError:
            return cls(name, workspace, StackInitMode.SELECT)

    def up(self, *args: Any, **kwargs: Any) -> auto.UpResult:
        self._results = EngineResults(kwargs.get("on_event"))
        kwargs["on_event"] = self._results
        try:
            return super().up(*args, **kwargs)
        finally:
            self._results = None

    def destroy(self, *args: Any, **kwargs: Any) -> auto.DestroyResult:
        self._results = EngineResults(kwargs.get("on_event"), kind="destroy")
        kwargs["on_event"] = self._results
        try:
            return super().destroy(*args, **kwargs)
        finally:
            self._results = None

    def outputs(self) -> auto.OutputMap:
        found = self._results.output_map() if self._results is not None else None
        return found if found is not None else super().outputs()

    def info(self, show_secrets: bool = True) -> auto.UpdateSummary | None:
        found = self._results.update_summary() if self._results is not None else None
        return found if found is not None else super().info(show_secrets)
