"""pydantic models of environment.json and of events.jsonl lines, derived from the domain's vocabulary.

Schema 2 (this version) adds the tracker and the release/run states; schema 1 documents (no tracker)
still load and are written back as schema 2 on the next save.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from orchestrator.domain import (
    STATE_TYPES_BY_TAG,
    STEP_ENUMS,
    AnyEnvironment,
    DomainError,
    DriftNote,
    Environment,
    EnvironmentContext,
    EnvironmentName,
    FailureContext,
    LxdTarget,
    SshCredentials,
    State,
    TrackerSettings,
    Transition,
    vocabulary,
)
from orchestrator.persistence.errors import CorruptStateError, UnsupportedSchemaError
from orchestrator.persistence.strict_read import READABLE_SCHEMA_VERSIONS, SCHEMA_VERSION


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SshModel(_Model):
    """SSH credentials: key paths only."""

    private_key_path: str
    public_key_path: str
    username: str
    port: int


class LxdModel(_Model):
    """LXD target."""

    endpoint: str | None
    client_cert_path: str | None
    client_key_path: str | None
    server_cert_path: str | None
    image_alias: str
    instance_type: Literal["container", "virtual-machine"]
    profile_name: str | None
    network: str
    storage_pool: str


class TrackerModel(_Model):
    """The tracker the environment runs (schema 2). The API token is not here: it is a secret file."""

    version: str
    image: str | None
    udp_ports: list[int]
    http_ports: list[int]
    api_port: int
    health_check_port: int
    private: bool
    announce_interval_s: int
    database: Literal["sqlite3"]


class DriftModel(_Model):
    """What the last `check` found (schema 2, optional)."""

    checked_at: AwareDatetime
    findings: list[str]


class ContextModel(_Model):
    """Environment context apart from the name (kept at the top of the document)."""

    instance_name: str
    instance_ip: str | None
    created_at: AwareDatetime
    ssh: SshModel
    lxd: LxdModel
    registered: bool = False
    tracker: TrackerModel | None = None
    """Absent in schema 1 documents (written before the tracker existed): no tracker."""
    drift: DriftModel | None = None
    """Written only while a `check` finding is noted."""


class FailureModel(_Model):
    """Failure context of a *Failed state; its step must be one of the failed command's steps."""

    step: str | None
    error_kind: str
    summary: str
    started_at: AwareDatetime
    failed_at: AwareDatetime
    trace_path: str | None


class EnvironmentDocument(_Model):
    """environment.json: the state's tag, the context and, in the failed states only, the failure."""

    schema_version: int
    name: str
    state: str
    state_since: AwareDatetime
    last_seq: int = Field(ge=0)
    context: ContextModel
    failure: FailureModel | None = None

    @model_validator(mode="after")
    def _state_and_failure_agree(self) -> EnvironmentDocument:
        if self.state not in vocabulary.TAGS:
            raise ValueError(f"unknown state {self.state!r}")
        failed = self.state in vocabulary.FAILED_TAGS
        if failed and self.failure is None:
            raise ValueError(f"state {self.state} needs a failure")
        if not failed and self.failure is not None:
            raise ValueError(f"state {self.state} has no failure")
        if self.failure is not None and self.failure.step is not None:
            steps = vocabulary.COMMAND_STEPS[vocabulary.COMMAND_OF[self.state]]
            if self.failure.step not in steps:
                raise ValueError(f"failure.step: {self.failure.step!r} is not one of {', '.join(steps)}")
        return self


class TransitionEvent(_Model):
    """One line of events.jsonl."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    seq: int
    environment: str
    from_state: str | None = Field(alias="from")
    to_state: str = Field(alias="to")
    time: AwareDatetime
    pid: int
    command: str
    step: str | None = None
    duration_in_previous_state_s: float | None = None
    reason: str | None = None
    """Why it went back (a repair); absent from lines written before it existed."""

    @classmethod
    def of(cls, name: EnvironmentName, transition: Transition, pid: int) -> TransitionEvent:
        """The event line recording `transition`."""
        return cls(
            seq=transition.seq,
            environment=name.value,
            from_state=transition.from_state,
            to_state=transition.to_state,
            time=transition.at,
            pid=pid,
            command=transition.command,
            step=transition.step,
            duration_in_previous_state_s=transition.duration_in_previous_state_s,
            reason=transition.reason,
        )

    def to_line(self) -> bytes:
        """One JSON object and a newline."""
        return self.model_dump_json(by_alias=True).encode() + b"\n"


# -- domain -> document --------------------------------------------------------------------------------


def _path(value: Path | None) -> str | None:
    return None if value is None else str(value)


def _context_model(context: EnvironmentContext) -> ContextModel:
    ssh, lxd = context.ssh, context.lxd
    return ContextModel(
        instance_name=context.instance_name,
        instance_ip=context.instance_ip,
        created_at=context.created_at,
        registered=context.registered,
        tracker=_tracker_model(context.tracker),
        drift=None
        if context.drift is None
        else DriftModel(checked_at=context.drift.checked_at, findings=list(context.drift.findings)),
        ssh=SshModel(
            private_key_path=str(ssh.private_key_path),
            public_key_path=str(ssh.public_key_path),
            username=ssh.username,
            port=ssh.port,
        ),
        lxd=LxdModel(
            endpoint=lxd.endpoint,
            client_cert_path=_path(lxd.client_cert_path),
            client_key_path=_path(lxd.client_key_path),
            server_cert_path=_path(lxd.server_cert_path),
            image_alias=lxd.image_alias,
            instance_type=lxd.instance_type,
            profile_name=lxd.profile_name,
            network=lxd.network,
            storage_pool=lxd.storage_pool,
        ),
    )


def _tracker_model(tracker: TrackerSettings | None) -> TrackerModel | None:
    if tracker is None:
        return None
    return TrackerModel(
        version=tracker.version,
        image=tracker.image,
        udp_ports=list(tracker.udp_ports),
        http_ports=list(tracker.http_ports),
        api_port=tracker.api_port,
        health_check_port=tracker.health_check_port,
        private=tracker.private,
        announce_interval_s=tracker.announce_interval_s,
        database=tracker.database,
    )


def _failure_model(failure: FailureContext) -> FailureModel:
    return FailureModel(
        step=None if failure.step is None else failure.step.value,
        error_kind=failure.error_kind,
        summary=failure.summary,
        started_at=failure.started_at,
        failed_at=failure.failed_at,
        trace_path=_path(failure.trace_path),
    )


def to_document(env: Environment[State]) -> EnvironmentDocument:
    """The document that persists `env` (pending transitions are not part of it)."""
    state = env.state
    failure: FailureContext | None = getattr(state, "failure", None)
    return EnvironmentDocument(
        schema_version=SCHEMA_VERSION,
        name=env.name.value,
        state=state.tag,
        state_since=env.state_since,
        last_seq=env.last_seq,
        context=_context_model(env.context),
        failure=None if failure is None else _failure_model(failure),
    )


def dump_document(env: Environment[State]) -> bytes:
    """environment.json bytes for `env` (the `failure` key only in the failed states)."""
    document = to_document(env)
    exclude: dict[str, Any] = {} if document.failure is not None else {"failure": True}
    if document.context.drift is None:
        exclude["context"] = {"drift": True}
    return document.model_dump_json(indent=2, exclude=exclude or None).encode() + b"\n"


# -- bytes -> document -> domain -------------------------------------------------------------------------


def _reason(error: ValidationError) -> str:
    parts = []
    for detail in error.errors()[:3]:
        where = ".".join(str(p) for p in detail["loc"] if not str(p).endswith("Document"))
        parts.append(f"{where or 'document'}: {detail['msg']}")
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def parse_document(raw: bytes, path: Path) -> EnvironmentDocument:
    """Validate environment.json bytes; CorruptStateError / UnsupportedSchemaError name `path`."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CorruptStateError(path, f"not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise CorruptStateError(path, f"expected a JSON object, found {type(data).__name__}")
    version = data.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise CorruptStateError(path, f"schema_version is missing or not an integer ({version!r})")
    if version > SCHEMA_VERSION:
        raise UnsupportedSchemaError(path, version, SCHEMA_VERSION)
    if version not in READABLE_SCHEMA_VERSIONS:
        raise CorruptStateError(path, f"unknown schema_version {version}")
    tag = data.get("state")
    if tag not in STATE_TYPES_BY_TAG:
        raise CorruptStateError(path, f"unknown state {tag!r}")
    if version == 1 and isinstance(data.get("context"), dict) and "tracker" in data["context"]:
        raise CorruptStateError(path, "context.tracker: Extra inputs are not permitted")
    if (tag in vocabulary.FAILED_TAGS) != ("failure" in data):  # said as pydantic says it of any other field
        reason = "Field required" if tag in vocabulary.FAILED_TAGS else "Extra inputs are not permitted"
        raise CorruptStateError(path, f"failure: {reason}")
    try:
        return EnvironmentDocument.model_validate(data)
    except ValidationError as error:
        raise CorruptStateError(path, _reason(error)) from None


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _optional_path(value: str | None) -> Path | None:
    return None if value is None else Path(value)


def _tracker_settings(tracker: TrackerModel, ssh_port: int) -> TrackerSettings:
    return TrackerSettings(
        version=tracker.version,
        image=tracker.image,
        udp_ports=tuple(tracker.udp_ports),
        http_ports=tuple(tracker.http_ports),
        api_port=tracker.api_port,
        health_check_port=tracker.health_check_port,
        private=tracker.private,
        announce_interval_s=tracker.announce_interval_s,
        database=tracker.database,
        reserved_ports=(ssh_port,),
    )


def to_environment(document: EnvironmentDocument, path: Path) -> AnyEnvironment:
    """The domain environment a validated document describes; domain rule violations are corruption."""
    try:
        name = EnvironmentName(document.name)
        ctx = document.context
        context = EnvironmentContext(
            name=name,
            instance_name=ctx.instance_name,
            ssh=SshCredentials(
                private_key_path=Path(ctx.ssh.private_key_path),
                public_key_path=Path(ctx.ssh.public_key_path),
                username=ctx.ssh.username,
                port=ctx.ssh.port,
            ),
            lxd=LxdTarget(
                endpoint=ctx.lxd.endpoint,
                client_cert_path=_optional_path(ctx.lxd.client_cert_path),
                client_key_path=_optional_path(ctx.lxd.client_key_path),
                server_cert_path=_optional_path(ctx.lxd.server_cert_path),
                image_alias=ctx.lxd.image_alias,
                instance_type=ctx.lxd.instance_type,
                profile_name=ctx.lxd.profile_name,
                network=ctx.lxd.network,
                storage_pool=ctx.lxd.storage_pool,
            ),
            instance_ip=ctx.instance_ip,
            created_at=_utc(ctx.created_at),
            registered=ctx.registered,
            tracker=None if ctx.tracker is None else _tracker_settings(ctx.tracker, ctx.ssh.port),
            drift=None if ctx.drift is None else DriftNote(_utc(ctx.drift.checked_at), tuple(ctx.drift.findings)),
        )
        state_type: Any = STATE_TYPES_BY_TAG[document.state]
        state: State
        if document.failure is not None:
            f = document.failure
            failure = FailureContext(
                step=None if f.step is None else STEP_ENUMS[vocabulary.COMMAND_OF[document.state]](f.step),
                error_kind=f.error_kind,
                summary=f.summary,
                started_at=_utc(f.started_at),
                failed_at=_utc(f.failed_at),
                trace_path=_optional_path(f.trace_path),
            )
            state = state_type(failure)
        else:
            state = state_type()
        return Environment.restore(context, state, state_since=_utc(document.state_since), last_seq=document.last_seq)
    except (DomainError, ValueError, TypeError) as error:
        raise CorruptStateError(path, str(error)) from None
