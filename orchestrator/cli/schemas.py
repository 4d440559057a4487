"""The JSON documents the CLI prints with `--json`, as pydantic models (docs/cli-json.md describes them).

Every command prints exactly one document on stdout: its result (`"ok": true`) or the common error
document (`"ok": false`). `validate_output(command, text)` checks a command's output against its
model; `all_schemas()` exports the JSON Schemas (`torrust-deploy cli-schemas`).

The models forbid unknown fields, so a change to a document's shape fails the tests until this file
and docs/cli-json.md follow it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from orchestrator.config import EnvironmentConfig
from orchestrator.domain import ExitCode, vocabulary

STATE_NAMES = [display for _, display, _, _ in vocabulary.STATES]
"""The states as documents spell them (their display names), from the domain's vocabulary."""
STEP_COMMANDS = [*vocabulary.COMMAND_STEPS, "register", "test"]
EXIT_CODES = sorted(int(code) for code in ExitCode if code is not ExitCode.OK)


def _one_of(values: Sequence[str | int]) -> dict[str, JsonValue]:
    """A JSON Schema `enum` for a field whose values come from the domain (checked by a validator too)."""
    return {"enum": list(values)}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- parts -------------------------------------------------------------------------------------------


class SshDoc(_Strict):
    username: str
    port: int = Field(ge=1, le=65535)
    private_key_path: str
    public_key_path: str
    command: str | None = Field(description="`ssh -i KEY USER@IP` once the instance has an address, else null.")


class LxdDoc(_Strict):
    endpoint: str | None = Field(description="null: the local unix socket; else https://HOST:PORT.")
    image_alias: str
    instance_type: Literal["container", "virtual-machine"]
    profile_name: str
    network: str
    storage_pool: str


class FailureDoc(_Strict):
    step: str | None = Field(description="The step that failed, e.g. `wait_ssh`; null when unknown (interrupted run).")
    error_kind: str
    summary: str
    started_at: str
    failed_at: str
    duration_s: float
    trace_path: str | None


class TrackerDoc(_Strict):
    version: str
    image: str | None = Field(description="The registry image the host pulls; null: built here, no registry.")
    private: bool
    announce_interval_s: int
    announce_urls: list[str] = Field(
        description="`udp://IP:PORT/announce` and `http://IP:PORT/announce` once the instance has an address."
    )
    api_url: str | None = Field(description="The REST API (`/api/v1`); its token: `show ENV --token`.")
    health_check_url: str | None


class DriftDoc(_Strict):
    checked_at: str
    findings: list[str]


class EnvironmentDoc(_Strict):
    name: str
    state: str = Field(json_schema_extra=_one_of(STATE_NAMES))
    state_since: str = Field(description="ISO 8601 time the environment entered its state.")
    created_at: str
    instance_name: str
    instance_ip: str | None
    ssh: SshDoc
    lxd: LxdDoc
    failure: FailureDoc | None = Field(description="Set in the *Failed states.")
    running_pid: int | None = Field(description="PID of a live process running a command on it (show/list only).")
    interrupted: bool = Field(
        description="An in-progress state (Provisioning, Configuring, Destroying) that no live process holds: "
        "the run that set it was interrupted; the next command records it as failed and continues."
    )
    next_command: str | None = Field(
        description="What to run next; null at the end of the journey (Running, or Configured without a "
        "tracker) or while a command runs."
    )
    tracker: TrackerDoc | None = Field(description="The tracker the environment runs; null without one.")
    drift: DriftDoc | None = Field(
        description="What the last `check` found, until a command runs on the environment; null when nothing."
    )

    @field_validator("state")
    @classmethod
    def _known_state(cls, value: str) -> str:
        if value not in STATE_NAMES:
            raise ValueError(f"not a state: {value!r}")
        return value


class StepDoc(_Strict):
    command: str = Field(json_schema_extra=_one_of(STEP_COMMANDS))

    @field_validator("command")
    @classmethod
    def _known_command(cls, value: str) -> str:
        if value not in STEP_COMMANDS:
            raise ValueError(f"not a command with steps: {value!r}")
        return value

    index: int = Field(ge=1)
    total: int = Field(ge=1)
    title: str
    status: Literal["done", "failed"]
    seconds: float = Field(ge=0)


class UnreadableDoc(_Strict):
    name: str
    message: str
    tip: str


class PulumiDoc(_Strict):
    cli: str
    version: str


class ErrorDoc(_Strict):
    kind: str = Field(description="The error class, e.g. WrongStateError, ConfigError, LockTimeoutError.")
    message: str = Field(description="One line: what failed.")
    tip: str = Field(description="One line: what to do.")
    trace_path: str | None = Field(description="Trace file of a failed step (exit code 1), else null.")
    exit_code: int = Field(json_schema_extra=_one_of(EXIT_CODES))
    environment: str | None = Field(description="The ENVIRONMENT argument of the command, if it has one.")
    failed_step: str | None = Field(description="The failed step when a command ran and failed.")
    holder_pid: int | None = Field(description="The PID holding the environment's lock (exit code 3).")
    detail: str | None = Field(description="Tool output that explains the error (lab commands).")

    @field_validator("exit_code")
    @classmethod
    def _known_exit_code(cls, value: int) -> int:
        if value not in EXIT_CODES:
            raise ValueError(f"not an error exit code: {value}")
        return value


# --- documents ---------------------------------------------------------------------------------------


class _Ok(_Strict):
    ok: Literal[True]
    command: str


class ErrorDocument(_Strict):
    """Any command that fails (exit code ≠ 0), including usage errors (`command` null if unknown)."""

    ok: Literal[False]
    command: str | None
    error: ErrorDoc


class EnvironmentDocument(_Ok):
    """`create environment`, `show`."""

    environment: EnvironmentDoc


class RunDocument(_Ok):
    """`provision`, `configure`, `release`, `run`, `deploy`, `destroy`, `register`."""

    environment: EnvironmentDoc
    steps: list[StepDoc] = Field(description="The steps run, in order, with their durations.")
    stale_state: bool = Field(description="true: a state could not be saved; what is on disk is behind.")
    duration_s: float


class ListDocument(_Ok):
    environments: list[EnvironmentDoc]
    unreadable: list[UnreadableDoc] = Field(description="Environments whose state file cannot be read.")


class CheckResultDoc(_Strict):
    name: str = Field(description="e.g. `health check`, `UDP announce :6969`.")
    ok: bool
    detail: str
    seconds: float = Field(ge=0)


class TestDocument(_Ok):
    """`test`: every check passed (a failed check is an error document, exit code 1)."""

    environment: str
    checks: list[CheckResultDoc]


class TokenDocument(_Ok):
    """`show ENV --token`."""

    environment: str
    api_token: str


class PurgeDocument(_Ok):
    purged: str


class ValidateDocument(_Ok):
    file: str
    config: EnvironmentConfig = Field(description="The config with every path resolved (absolute).")
    warnings: list[str]


class TemplateDocument(_Ok):
    template: EnvironmentConfig


class SchemaDocument(_Ok):
    json_schema: dict[str, Any] = Field(alias="schema")


class ObservedDoc(_Strict):
    instance_exists: bool
    status: str | None = Field(description="LXD status, e.g. Running, Stopped; null when missing.")
    ipv4: str | None = Field(description="eth0's IPv4 address; null when missing or none.")
    profile_exists: bool


class CheckDocument(_Ok):
    """`check` (exit 0: no drift, 5: drift)."""

    environment: str
    state: str = Field(description="The stored state's tag, e.g. `configured`.")
    checked: bool = Field(description="false: the state makes no claim to compare (e.g. a registered host).")
    drifted: bool
    findings: list[str] = Field(description="One line per difference between the stored state and LXD.")
    note: str | None
    observed: ObservedDoc | None = Field(description="What LXD reported; null when nothing was compared.")


class EventDoc(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    seq: int = Field(ge=1)
    environment: str
    from_state: str | None = Field(alias="from", description="null for the creation event.")
    to_state: str = Field(alias="to")
    time: str = Field(description="ISO 8601, UTC.")
    pid: int = Field(description="The process that made the transition.")
    command: str
    step: str | None = Field(description="The failed step (failures only); `unknown` for an interrupted run.")
    duration_in_previous_state_s: float | None
    reason: str | None = Field(description="Why it went back to an earlier stage (a repair of drift), else null.")


class HistoryDocument(_Ok):
    """`history`: the audit trail from events.jsonl, oldest first."""

    environment: str
    events: list[EventDoc]


class ToolchainDocument(_Ok):
    pulumi: PulumiDoc


class LabStatusDocument(_Ok):
    lab: dict[str, Any] = Field(description="ready, problems, settings, packages, daemons, bridge, pool, image.")


class LabDownDocument(_Ok):
    stopped: list[str]
    left_running: list[str]


class LabImageDocument(_Ok):
    image: dict[str, Any]


SCHEMAS: dict[str, type[_Ok]] = {
    "create environment": EnvironmentDocument,
    "create template": TemplateDocument,
    "create schema": SchemaDocument,
    "validate": ValidateDocument,
    "provision": RunDocument,
    "configure": RunDocument,
    "release": RunDocument,
    "run": RunDocument,
    "deploy": RunDocument,
    "test": TestDocument,
    "destroy": RunDocument,
    "purge": PurgeDocument,
    "show": EnvironmentDocument,
    "show --token": TokenDocument,
    "list": ListDocument,
    "register": RunDocument,
    "check": CheckDocument,
    "history": HistoryDocument,
    "toolchain ensure": ToolchainDocument,
    "toolchain status": ToolchainDocument,
    "toolchain build": ToolchainDocument,
    "lab up": LabStatusDocument,
    "lab status": LabStatusDocument,
    "lab down": LabDownDocument,
    "lab image build": LabImageDocument,
}


def validate_output(command: str, text: str) -> BaseModel:
    """Parse `text` as exactly one JSON document and validate it: the command's model, or the error model.

    Raises ValueError (json) or pydantic.ValidationError when it does not match.
    """
    document = json.loads(text)
    if not isinstance(document, dict):
        raise ValueError(f"expected a JSON object, got {type(document).__name__}")
    if document.get("ok") is False:
        error = ErrorDocument.model_validate(document)
        if error.command not in (None, command):
            raise ValueError(f"error document of command {error.command!r}, expected {command!r}")
        return error
    result = SCHEMAS[command].model_validate(document)
    if result.command != command.split(" --", maxsplit=1)[0]:  # `show --token`: a document of `show`
        raise ValueError(f"document of command {result.command!r}, expected {command!r}")
    return result


def all_schemas() -> dict[str, Any]:
    """`{"commands": {command: JSON Schema of its result}, "error": JSON Schema of the error document}`."""
    return {
        "commands": {command: model.model_json_schema(by_alias=True) for command, model in SCHEMAS.items()},
        "error": ErrorDocument.model_json_schema(),
    }
