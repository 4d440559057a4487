"""EngineResults: the outputs and summary of an `up`, taken from the engine's events."""

from __future__ import annotations

from typing import Any

from pulumi.automation import events

from orchestrator.infrastructure.pulumi.event_outputs import EngineResults


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
