"""Fakes for the command ports (record calls, fail on request) and `fake_adapters`, all of them behind one
`orchestrator.api.Adapters` for a `Deployer` that touches nothing outside its working directory."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.api import Adapters
from orchestrator.commands.ports import InstanceObservation, InstanceOutputs, LineSink
from orchestrator.domain import Environment, EnvironmentContext, EnvironmentName, SshCredentials, State
from orchestrator.persistence import JsonFileRepository


@dataclass
class FakeProvisioner:
    ipv4: str = "10.200.77.10"
    fail_up: Exception | None = None
    fail_destroy: Exception | None = None
    calls: list[str] = field(default_factory=list)

    def prepare(self, context: EnvironmentContext) -> object:
        self.calls.append("prepare")
        return "stack"

    def up(self, stack: object, on_output: LineSink | None = None) -> InstanceOutputs:
        self.calls.append("up")
        if on_output:
            on_output("engine: creating instance")
        if self.fail_up:
            raise self.fail_up
        return InstanceOutputs(instance_name="torrust-demo", ipv4=self.ipv4)

    def destroy(self, context: EnvironmentContext, on_output: LineSink | None = None) -> None:
        self.calls.append("destroy")
        if self.fail_destroy:
            raise self.fail_destroy

    def remove_stack(self, context: EnvironmentContext) -> None:
        self.calls.append("remove_stack")


class ToolError(Exception):
    def __init__(self, message: str, tool_output: Sequence[str]) -> None:
        super().__init__(message)
        self.tool_output = list(tool_output)


@dataclass
class FakePlaybooks:
    failing: dict[str, Exception] = field(default_factory=dict)
    changed: int = 2
    calls: list[str] = field(default_factory=list)
    extravars: list[dict[str, object]] = field(default_factory=list)
    """The extravars of each `start`, in order."""

    def render_inventory(self, context: EnvironmentContext, host: str) -> Path:
        self.calls.append(f"inventory {host}")
        return Path("/nonexistent/hosts.yml")

    def run(
        self,
        context: EnvironmentContext,
        playbook: str,
        on_event: LineSink | None = None,
        extravars: Mapping[str, object] | None = None,
    ) -> int:
        self.calls.append(playbook)
        if playbook in self.failing:
            raise self.failing[playbook]
        return self.changed

    def start(
        self,
        context: EnvironmentContext,
        playbooks: Sequence[str],
        extravars: Mapping[str, object] | None = None,
        held: bool = False,
    ) -> FakeRunningPlaybooks:
        self.calls.append(f"start {' '.join(playbooks)}" + (" (held)" if held else ""))
        self.extravars.append(dict(extravars or {}))
        return FakeRunningPlaybooks(self, context, list(playbooks))

    def clean(self, context: EnvironmentContext) -> None:
        self.calls.append("clean")


@dataclass
class FakeResult:
    changed: int


@dataclass
class FakeRunningPlaybooks:
    """Playbooks started together: each `wait` runs one like `FakePlaybooks.run`, in the started order."""

    playbooks: FakePlaybooks
    context: EnvironmentContext
    started: list[str]
    stopped: bool = False

    def __enter__(self) -> FakeRunningPlaybooks:
        return self

    def __exit__(self, *_: object) -> None:
        self.stopped = True
        self.playbooks.calls.append("stop")

    def proceed(self) -> None:
        pass

    def wait(self, playbook: str, on_event: LineSink | None = None) -> FakeResult:
        assert playbook in self.started and not self.stopped
        return FakeResult(self.playbooks.run(self.context, playbook, on_event))


@dataclass
class FakeSsh:
    fail: Exception | None = None
    calls: list[str] = field(default_factory=list)

    def wait(self, context: EnvironmentContext, host: str, timeout_s: float) -> float:
        self.calls.append(host)
        if self.fail:
            raise self.fail
        return 0.1


class BrokenSaveRepository(JsonFileRepository):
    """A real repository whose saves fail after the first `allowed` ones."""

    def __init__(self, data_dir: Path, allowed: int) -> None:
        super().__init__(data_dir, lock_timeout=5.0)
        self.allowed = allowed

    def save(self, env: Environment[State]) -> None:
        if self.allowed <= 0:
            raise OSError("disk full")
        self.allowed -= 1
        super().save(env)


@contextmanager
def no_lock(name: EnvironmentName) -> Iterator[None]:
    yield


def credentials(tmp_path: Path) -> SshCredentials:
    private, public = tmp_path / "id", tmp_path / "id.pub"
    private.write_text("not a real key", encoding="utf-8")
    public.write_text("ssh-ed25519 AAAA test", encoding="utf-8")
    return SshCredentials(private_key_path=private, public_key_path=public)


@dataclass
class FakeReleasePreparer:
    """Renders nothing; hands the playbooks a marker variable, or fails on request."""

    fail: Exception | None = None
    image_ready: bool = True
    calls: list[str] = field(default_factory=list)

    def prepare(self, context: EnvironmentContext, api_token: str, on_output: LineSink) -> Mapping[str, object]:
        self.calls.append(f"prepare {context.name}")
        on_output("release rendered")
        if self.fail:
            raise self.fail
        return {"tracker_release_dir": "/opt/torrust-tracker"}

    def prepare_ahead(self, context: EnvironmentContext, api_token: str) -> Mapping[str, object] | None:
        """Like `prepare`, with an image that is ready unless `image_ready` is False."""
        self.calls.append(f"prepare_ahead {context.name}")
        if not self.image_ready:
            return None
        if self.fail:
            raise self.fail
        return {"tracker_release_dir": "/opt/torrust-tracker"}

    def variables(self, context: EnvironmentContext) -> Mapping[str, object]:
        self.calls.append(f"variables {context.name}")
        return {"tracker_release_dir": "/opt/torrust-tracker"}


@dataclass(frozen=True)
class FakeCheck:
    name: str
    ok: bool = True
    detail: str = "ok"
    duration_s: float = 0.01


@dataclass
class FakeTrackerChecks:
    """A tracker that is healthy and answers every check, unless told otherwise."""

    healthy: bool = True
    failing_check: str | None = None
    calls: list[str] = field(default_factory=list)

    def wait_healthy(self, context: EnvironmentContext, timeout_s: float) -> float:
        self.calls.append("wait_healthy")
        if not self.healthy:
            raise TimeoutError("the tracker's health check did not pass within 60 s")
        return 0.2

    def health(self, context: EnvironmentContext) -> FakeCheck:
        self.calls.append("health")
        return FakeCheck("health check", self.healthy, "status Ok" if self.healthy else "connection refused")

    def run_checks(self, context: EnvironmentContext, api_token: str) -> list[FakeCheck]:
        self.calls.append("run_checks")
        names = ["health check", "REST API stats", "HTTP announce :7070", "UDP announce :6969"]
        return [
            FakeCheck(name, name != self.failing_check, "ok" if name != self.failing_check else "timed out")
            for name in names
        ]


@dataclass
class FakeTokens:
    tokens: dict[str, str] = field(default_factory=dict)

    def read(self, name: EnvironmentName) -> str | None:
        return self.tokens.get(name.value)

    def get_or_create(self, name: EnvironmentName) -> str:
        return self.tokens.setdefault(name.value, "test-token-0123456789abcdef")


@dataclass
class FakeInspector:
    """Sees the instance the fake provisioner made, running at its address."""

    ipv4: str = "10.200.77.10"

    def observe(self, context: EnvironmentContext) -> InstanceObservation:
        return InstanceObservation(
            instance_exists=True, status="Running", ipv4=self.ipv4, profile_exists=True, profile_differences=()
        )


def fake_adapters() -> Adapters:
    """Every adapter a `Deployer` uses, faked: Pulumi, ansible, ssh, the LXD inspector, the tracker."""
    return Adapters(
        provisioner=FakeProvisioner(),
        playbooks=FakePlaybooks(),
        ssh=FakeSsh(),
        inspector=FakeInspector(),
        release=FakeReleasePreparer(),
        tracker=FakeTrackerChecks(),
    )
