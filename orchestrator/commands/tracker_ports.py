"""What `release`, `run` and `test` need from the outside world; `infrastructure.tracker` provides it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from orchestrator.commands.ports import LineSink
from orchestrator.domain import EnvironmentContext, EnvironmentName


class ApiTokens(Protocol):
    """The tracker's REST API admin token of each environment (a secret, kept apart from the state)."""

    def read(self, name: EnvironmentName) -> str | None: ...

    def get_or_create(self, name: EnvironmentName) -> str: ...


class ReleasePreparer(Protocol):
    """Has the tracker image ready and renders the release files on the controller."""

    def prepare(self, context: EnvironmentContext, api_token: str, on_output: LineSink) -> Mapping[str, object]:
        """Render `build/{env}/release/` (compose file, TOML, env file) and make sure the image is available
        (built and packaged once, or a registry reference); return the release playbooks' variables."""
        ...

    def prepare_ahead(self, context: EnvironmentContext, api_token: str) -> Mapping[str, object] | None:
        """`prepare`, but only when the image is ready without building it; None when it is not (the
        release's own render step builds it then, with its output)."""
        ...

    def variables(self, context: EnvironmentContext) -> Mapping[str, object]:
        """The playbooks' variables of the environment's release, as `prepare` returns them, computed without
        writing or building anything."""
        ...


class CheckOutcome(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def ok(self) -> bool: ...

    @property
    def detail(self) -> str: ...

    @property
    def duration_s(self) -> float: ...


class TrackerChecks(Protocol):
    """Talks to the running tracker from the controller, changing nothing."""

    def wait_healthy(self, context: EnvironmentContext, timeout_s: float) -> float:
        """Poll the health-check endpoint until it answers Ok; return the seconds it took, raise if it never did."""
        ...

    def health(self, context: EnvironmentContext) -> CheckOutcome:
        """One health-check request (a couple of seconds at most)."""
        ...

    def run_checks(self, context: EnvironmentContext, api_token: str) -> Sequence[CheckOutcome]:
        """Health check, REST API stats, HTTP announce + scrape, UDP connect + announce + scrape."""
        ...
