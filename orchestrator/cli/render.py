"""Rendering for the CLI: progress lines on stderr, results on stdout, errors with a tip."""

from __future__ import annotations

import json
import sys
from typing import Any

from orchestrator.domain import AnyEnvironment

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3
EXIT_NOT_FOUND = 4


class StderrProgress:
    """`[2/6] Wait ssh … done (3.1 s)` lines on stderr; tool output only when verbose."""

    def __init__(self, verbose: bool = False) -> None:
        self.verbose = verbose

    def step_started(self, command: str, index: int, total: int, title: str) -> None:
        print(f"[{index}/{total}] {title} …", file=sys.stderr, flush=True)

    def step_finished(self, command: str, index: int, total: int, title: str, seconds: float) -> None:
        print(f"[{index}/{total}] {title} … done ({seconds:.1f} s)", file=sys.stderr, flush=True)

    def step_failed(self, command: str, index: int, total: int, title: str, seconds: float) -> None:
        print(f"[{index}/{total}] {title} … FAILED ({seconds:.1f} s)", file=sys.stderr, flush=True)

    def detail(self, line: str) -> None:
        if self.verbose:
            print(f"      {line}", file=sys.stderr, flush=True)


def environment_document(env: AnyEnvironment) -> dict[str, Any]:
    """The stable JSON shape of an environment (used by `show`, `list` and command results)."""
    context = env.context
    state = env.state
    failure = getattr(state, "failure", None)
    document: dict[str, Any] = {
        "name": str(context.name),
        "state": type(state).__name__,
        "instance_name": context.instance_name,
        "instance_ip": context.instance_ip,
        "ssh": {
            "username": context.ssh.username,
            "port": context.ssh.port,
            "private_key_path": str(context.ssh.private_key_path),
        },
        "created_at": context.created_at.isoformat(),
        "failure": None,
    }
    if failure is not None:
        document["failure"] = {
            "step": failure.step.value,
            "error_kind": failure.error_kind,
            "summary": failure.summary,
            "trace_path": str(failure.trace_path) if failure.trace_path else None,
            "duration_s": failure.duration.total_seconds(),
        }
    return document


def ssh_command_line(env: AnyEnvironment) -> str | None:
    context = env.context
    if not context.instance_ip:
        return None
    port = "" if context.ssh.port == 22 else f" -p {context.ssh.port}"
    return f"ssh -i {context.ssh.private_key_path}{port} {context.ssh.username}@{context.instance_ip}"


NEXT_STEP = {
    "Created": "torrust-deploy provision {name}",
    "Provisioned": "torrust-deploy configure {name}",
    "ProvisionFailed": "torrust-deploy provision {name} (after fixing the cause) or torrust-deploy destroy {name}",
    "ConfigureFailed": "torrust-deploy configure {name} (after fixing the cause) or torrust-deploy destroy {name}",
    "Configured": None,
    "Destroyed": "torrust-deploy purge {name}",
    "DestroyFailed": "torrust-deploy destroy {name}",
}


def environment_text(env: AnyEnvironment) -> str:
    document = environment_document(env)
    lines = [f"Environment: {document['name']}", f"State:       {document['state']}"]
    lines.append(f"Instance:    {document['instance_name']}")
    if document["instance_ip"]:
        lines.append(f"IP address:  {document['instance_ip']}")
        lines.append(f"SSH:         {ssh_command_line(env)}")
    failure = document["failure"]
    if failure:
        lines.append(f"Failed step: {failure['step']} ({failure['error_kind']})")
        lines.append(f"Error:       {failure['summary']}")
        if failure["trace_path"]:
            lines.append(f"Trace:       {failure['trace_path']}")
    next_step = NEXT_STEP.get(document["state"])
    if next_step:
        lines.append(f"Next:        {next_step.format(name=document['name'])}")
    return "\n".join(lines)


def print_json(document: Any) -> None:
    print(json.dumps(document, indent=2, sort_keys=False))


def error_document(error: BaseException, exit_code: int) -> dict[str, Any]:
    trace = getattr(error, "trace_path", None)
    return {
        "ok": False,
        "error": {
            "kind": type(error).__name__,
            "message": str(error),
            "tip": getattr(error, "tip", None),
            "trace_path": str(trace) if trace else None,
            "exit_code": exit_code,
        },
    }


def print_error(error: BaseException, exit_code: int, as_json: bool) -> None:
    if as_json:
        print_json(error_document(error, exit_code))
        return
    first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
    print(f"Error: {first_line}", file=sys.stderr)
    tip = getattr(error, "tip", None)
    if tip:
        print(f"Tip: {tip}", file=sys.stderr)
    trace = getattr(error, "trace_path", None)
    if trace:
        print(f"Trace: {trace}", file=sys.stderr)
