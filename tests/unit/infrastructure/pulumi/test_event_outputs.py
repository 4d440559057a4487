"""EngineResults: the outputs and summary of an `up` or a `destroy`, taken from the engine's events;
EventOutputStack: an existing stack opened and destroyed without the CLI runs `Stack` adds."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pulumi import automation as auto
from pulumi.automation import events
from semver import VersionInfo

from orchestrator.infrastructure.pulumi.event_outputs import EngineResults, EventOutputStack


def _stack_outputs_event(outputs: dict[str, Any], kind: str = "pulumi:pulumi:Stack") -> events.EngineEvent:
    state = {"type": kind, "urn": f"urn:pulumi:s::p::{kind}::p-s", "custom": False, "outputs": outputs}
    metadata = {"op": "same", "urn": state["urn"], "type": kind, "provider": "", "new": state}
    return events.EngineEvent.from_json({"sequence": 1, "timestamp": 0, "resOutputsEvent": {"metadata": metadata}})


def _summary_event() -> events.EngineEvent:
    summary = {"maybeCorrupt": False, "durationSeconds": 5, "resourceChanges": {"create": 3}, "PolicyPacks": {}}
    return events.EngineEvent.from_json({"sequence": 2, "timestamp": 0, "summaryEvent": summary})


def test_the_stack_resource_outputs_and_the_summary_answer_without_the_cli() -> None:
    forwarded: list[events.EngineEvent] = []
    results = EngineResults(forwarded.append)
    results(_stack_outputs_event({"ipv4": "10.200.77.9"}, kind="pulumi-python:dynamic:Resource"))
    assert results.output_map() is None  # another resource's outputs are not the stack's
    results(_stack_outputs_event({"ipv4": "10.200.77.9", "instance_name": "torrust-a"}))
    results(_summary_event())
    outputs = results.output_map()
    assert outputs is not None
    assert {key: (value.value, value.secret) for key, value in outputs.items()} == {
        "ipv4": ("10.200.77.9", False),
        "instance_name": ("torrust-a", False),
    }
    summary = results.update_summary()
    assert summary is not None and summary.result == "succeeded" and summary.resource_changes == {"create": 3}
    assert len(forwarded) == 3  # the caller's own on_event still sees every event


def test_a_secret_output_or_a_missing_event_falls_back_to_the_cli() -> None:
    results = EngineResults()
    assert results.output_map() is None and results.update_summary() is None
    results(_stack_outputs_event({"ipv4": "10.200.77.9", "token": "[secret]"}))
    assert results.output_map() is None


class _RecordingCommand(auto.PulumiCommand):
    """A `PulumiCommand` that runs nothing: it records each command and, for `destroy`, writes the events
    a real engine would stream (a SummaryEvent, then the CancelEvent that ends the stream) to the event log
    the Automation API names (file-based for this version)."""

    def __init__(self) -> None:
        self.command = "pulumi"
        self.version = VersionInfo(3, 200, 0)  # >= 3.181 (inline destroy), <= 3.205 (file event log)
        self.runs: list[list[str]] = []

    def run(
        self,
        args: list[str],
        cwd: str,
        additional_env: Mapping[str, str],
        on_output: auto.OnOutput | None = None,
        on_error: auto.OnOutput | None = None,
    ) -> auto.CommandResult:
        self.runs.append(list(args))
        if args[0] == "destroy":
            summary = {"maybeCorrupt": False, "durationSeconds": 1, "resourceChanges": {"delete": 4}, "PolicyPacks": {}}
            with open(args[args.index("--event-log") + 1], "a", encoding="utf-8") as log:
                log.write(json.dumps({"sequence": 1, "timestamp": 0, "summaryEvent": summary}) + "\n")
                log.write(json.dumps({"sequence": 2, "timestamp": 0, "cancelEvent": {}}) + "\n")
        return auto.CommandResult(stdout="", stderr="", code=0)


def test_destroy_of_an_existing_stack_is_one_cli_run_and_its_summary_comes_from_the_events(tmp_path: Path) -> None:
    command = _RecordingCommand()
    workspace = auto.LocalWorkspace(
        work_dir=str(tmp_path),
        pulumi_command=command,
        project_settings=auto.ProjectSettings(name="p", runtime="python"),
        program=lambda: None,
    )
    stack = EventOutputStack.existing("s", workspace)
    assert command.runs == []  # no `pulumi stack select`
    result = stack.destroy(color="never")
    assert [run[0] for run in command.runs] == ["destroy"]  # no `pulumi stack history` after it
    assert command.runs[0][-2:] == ["--stack", "s"]
    assert result.summary.kind == "destroy" and result.summary.result == "succeeded"
    assert result.summary.resource_changes == {"delete": 4}


def test_the_summary_of_a_destroy_says_destroy() -> None:
    results = EngineResults(kind="destroy")
    results(_summary_event())
    summary = results.update_summary()
    assert summary is not None and summary.kind == "destroy" and summary.resource_changes == {"create": 3}
