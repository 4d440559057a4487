"""pydantic models of environment.json (a union discriminated by `state`) and of events.jsonl lines."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Generic, Literal, TypeAlias, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from orchestrator.domain import (
    STATE_TYPES_BY_TAG,
    AnyEnvironment,
    Configured,
    ConfigureFailed,
    ConfigureStep,
    Configuring,
    Created,
    Destroyed,
    DestroyFailed,
    Destroying,
    DestroyStep,
    DomainError,
    Environment,
    EnvironmentContext,
    EnvironmentName,
    FailureContext,
    LxdTarget,
    Provisioned,
    ProvisionFailed,
    Provisioning,
    ProvisionStep,
    SshCredentials,
    State,
    Transition,
)
from orchestrator.persistence.errors import CorruptStateError, UnsupportedSchemaError
from orchestrator.persistence.strict_read import SCHEMA_VERSION

StepT = TypeVar("StepT", ProvisionStep, ConfigureStep, DestroyStep)


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


class ContextModel(_Model):
    """Environment context apart from the name (kept at the top of the document)."""

    instance_name: str
    instance_ip: str | None
    created_at: AwareDatetime
    ssh: SshModel
    lxd: LxdModel
    registered: bool = False


class FailureModel(_Model, Generic[StepT]):
    """Failure context of a *Failed state."""

    step: StepT | None
    error_kind: str
    summary: str
    started_at: AwareDatetime
    failed_at: AwareDatetime
    trace_path: str | None


class _Document(_Model):
    schema_version: Literal[1]
    name: str
    state: str
    state_since: AwareDatetime
    last_seq: int = Field(ge=0)
    context: ContextModel


class CreatedDocument(_Document):
    """environment.json of a Created environment."""

    state: Literal["created"]


class ProvisioningDocument(_Document):
    """environment.json of a Provisioning environment."""

    state: Literal["provisioning"]


class ProvisionedDocument(_Document):
    """environment.json of a Provisioned environment."""

    state: Literal["provisioned"]


class ProvisionFailedDocument(_Document):
    """environment.json of a ProvisionFailed environment."""

    state: Literal["provision_failed"]
    failure: FailureModel[ProvisionStep]


class ConfiguringDocument(_Document):
    """environment.json of a Configuring environment."""

    state: Literal["configuring"]


class ConfiguredDocument(_Document):
    """environment.json of a Configured environment."""

    state: Literal["configured"]


class ConfigureFailedDocument(_Document):
    """environment.json of a ConfigureFailed environment."""

    state: Literal["configure_failed"]
    failure: FailureModel[ConfigureStep]


class DestroyingDocument(_Document):
    """environment.json of a Destroying environment."""

    state: Literal["destroying"]


class DestroyedDocument(_Document):
    """environment.json of a Destroyed environment."""

    state: Literal["destroyed"]


class DestroyFailedDocument(_Document):
    """environment.json of a DestroyFailed environment."""

    state: Literal["destroy_failed"]
    failure: FailureModel[DestroyStep]


EnvironmentDocument: TypeAlias = Annotated[
    CreatedDocument
    | ProvisioningDocument
    | ProvisionedDocument
    | ProvisionFailedDocument
    | ConfiguringDocument
    | ConfiguredDocument
    | ConfigureFailedDocument
    | DestroyingDocument
    | DestroyedDocument
    | DestroyFailedDocument,
    Field(discriminator="state"),
]
_DOCUMENT: TypeAdapter[EnvironmentDocument] = TypeAdapter(EnvironmentDocument)
_FAILED_DOCUMENTS = {
    "provision_failed": ProvisionFailedDocument,
    "configure_failed": ConfigureFailedDocument,
    "destroy_failed": DestroyFailedDocument,
}
_PLAIN_DOCUMENTS: dict[str, type[_Document]] = {
    "created": CreatedDocument,
    "provisioning": ProvisioningDocument,
    "provisioned": ProvisionedDocument,
    "configuring": ConfiguringDocument,
    "configured": ConfiguredDocument,
    "destroying": DestroyingDocument,
    "destroyed": DestroyedDocument,
}
_PLAIN_STATES: dict[str, Callable[[], State]] = {
    "created": Created,
    "provisioning": Provisioning,
    "provisioned": Provisioned,
    "configuring": Configuring,
    "configured": Configured,
    "destroying": Destroying,
    "destroyed": Destroyed,
}
_FAILED_STATES: dict[str, Callable[[FailureContext], State]] = {
    "provision_failed": ProvisionFailed,
    "configure_failed": ConfigureFailed,
    "destroy_failed": DestroyFailed,
}


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


def _failure_model(failure: FailureContext) -> dict[str, Any]:
    return {
        "step": failure.step,
        "error_kind": failure.error_kind,
        "summary": failure.summary,
        "started_at": failure.started_at,
        "failed_at": failure.failed_at,
        "trace_path": _path(failure.trace_path),
    }


def to_document(env: Environment[State]) -> _Document:
    """The document that persists `env` (pending transitions are not part of it)."""
    state = env.state
    common: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "name": env.name.value,
        "state": state.tag,
        "state_since": env.state_since,
        "last_seq": env.last_seq,
        "context": _context_model(env.context),
    }
    if isinstance(state, ProvisionFailed | ConfigureFailed | DestroyFailed):
        return _FAILED_DOCUMENTS[state.tag](**common, failure=_failure_model(state.failure))
    return _PLAIN_DOCUMENTS[state.tag](**common)


def dump_document(env: Environment[State]) -> bytes:
    """environment.json bytes for `env`."""
    return to_document(env).model_dump_json(indent=2).encode() + b"\n"


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
    if version < SCHEMA_VERSION:
        raise CorruptStateError(path, f"unknown schema_version {version}")
    tag = data.get("state")
    if tag not in STATE_TYPES_BY_TAG:
        raise CorruptStateError(path, f"unknown state {tag!r}")
    try:
        return _DOCUMENT.validate_python(data)
    except ValidationError as error:
        raise CorruptStateError(path, _reason(error)) from None


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _optional_path(value: str | None) -> Path | None:
    return None if value is None else Path(value)


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
        )
        state: State
        if isinstance(document, ProvisionFailedDocument | ConfigureFailedDocument | DestroyFailedDocument):
            f = document.failure
            failure = FailureContext(
                step=f.step,
                error_kind=f.error_kind,
                summary=f.summary,
                started_at=_utc(f.started_at),
                failed_at=_utc(f.failed_at),
                trace_path=_optional_path(f.trace_path),
            )
            state = _FAILED_STATES[document.state](failure)
        else:
            state = _PLAIN_STATES[document.state]()
        return Environment.restore(context, state, state_since=_utc(document.state_since), last_seq=document.last_seq)
    except (DomainError, ValueError, TypeError) as error:
        raise CorruptStateError(path, str(error)) from None
