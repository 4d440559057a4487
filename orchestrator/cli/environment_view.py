"""An environment as the CLI shows it: its document (the `--json` shape) and its text, from plain facts.

Standard library only, no `typing` at run time: the quick path (`quick_path`) renders with it from what
`persistence.strict_read` decodes, the full CLI (`render`) from the domain objects. `facts` are the
document without what depends on the moment (see `environment_document`):

    name, state (the state class's name), state_since, created_at (ISO 8601), instance_name, instance_ip,
    ssh {username, port, private_key_path, public_key_path},
    lxd {endpoint, image_alias, instance_type, profile_name, network, storage_pool},
    failure (None, or {step, error_kind, summary, started_at, failed_at, duration_s, trace_path}),
    tracker (None, or {version, image, udp_ports, http_ports, api_port, health_check_port, private,
             announce_interval_s, database}),
    drift (None, or {checked_at, findings}: what the last `check` found)

States come from the domain's vocabulary (`orchestrator.domain.vocabulary`, standard library only).
"""

from __future__ import annotations

from orchestrator.domain import vocabulary

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

# In-progress states: found without a live lock holder they mean the run was interrupted.
IN_PROGRESS_STATES = tuple(vocabulary.DISPLAY_NAME[tag] for tag in vocabulary.IN_PROGRESS_TAGS)

# What to run next, by state, and why. A command re-run after a failure continues safely (see the domain's
# tips); an in-progress state that no live process holds is a run that was interrupted: re-running the
# command that set it records the interruption and carries on.
_RESTING_NEXT = {
    "created": ("deploy", "provisions and configures it (and starts its tracker)"),
    "provisioned": ("configure", "installs Docker and Docker Compose"),
    "configured": ("release", "puts the tracker's image, compose file and config on the host"),
    "released": ("run", "starts the tracker and waits for its health check"),
    "destroyed": ("purge", "drops its records; the name can then be created again"),
}
_KIND_WHY = {
    "in_progress": "the {command} that set this state was interrupted; this continues it",
    "failed": "after fixing the cause; it continues safely (or destroy it)",
}
NEXT_COMMAND: dict[str, str | None] = {}
NEXT_WHY: dict[str, str] = {}
for _tag, _display, _command, _kind in vocabulary.STATES:
    if _kind == "rest":
        _next, _why = _RESTING_NEXT.get(_tag, (None, None))
    else:
        _next, _why = _command, _KIND_WHY[_kind].format(command=_command)
    NEXT_COMMAND[_display] = None if _next is None else f"torrust-deploy {_next} {{name}}"
    if _why is not None:
        NEXT_WHY[_display] = _why
NEXT_WHY["Destroying"] = "the destroy that set this state was interrupted; this finishes it"
NEXT_WHY["DestroyFailed"] = "after fixing the cause"
# Without a tracker the journey ends at Configured.
_END_WITHOUT_TRACKER = "Configured"
NO_ENVIRONMENTS = "No environments."


def ssh_command_text(instance_ip: str | None, username: str, port: int, private_key_path: str) -> str | None:
    """`ssh -i KEY [-p PORT] USER@IP`, once the instance has an address."""
    if not instance_ip:
        return None
    port_option = "" if port == 22 else f" -p {port}"
    return f"ssh -i {private_key_path}{port_option} {username}@{instance_ip}"


def next_command(state: str, name: str, running_pid: int | None = None, tracker: bool = False) -> str | None:
    if running_pid is not None:  # a command is running on it: wait for that one
        return None
    if state == _END_WITHOUT_TRACKER and not tracker:
        return None
    template = NEXT_COMMAND.get(state)
    return template.format(name=name) if template else None


def environment_document(facts: dict[str, Any], running_pid: int | None) -> dict[str, Any]:
    """The stable JSON shape of an environment (`show`, `list` and command results); see docs/cli-json.md."""
    ssh = facts["ssh"]
    return {
        "name": facts["name"],
        "state": facts["state"],
        "state_since": facts["state_since"],
        "created_at": facts["created_at"],
        "instance_name": facts["instance_name"],
        "instance_ip": facts["instance_ip"],
        "ssh": {
            **ssh,
            "command": ssh_command_text(facts["instance_ip"], ssh["username"], ssh["port"], ssh["private_key_path"]),
        },
        "lxd": facts["lxd"],
        "failure": facts["failure"],
        "running_pid": running_pid,
        "interrupted": facts["state"] in IN_PROGRESS_STATES and running_pid is None,
        "next_command": next_command(facts["state"], facts["name"], running_pid, facts["tracker"] is not None),
        "tracker": tracker_document(facts["tracker"], facts["instance_ip"]),
        "drift": facts["drift"],
    }


def _host(ip: str) -> str:
    return f"[{ip}]" if ":" in ip else ip


def tracker_document(tracker: dict[str, Any] | None, instance_ip: str | None) -> dict[str, Any] | None:
    """The tracker's settings and, once the instance has an address, the URLs clients use."""
    if tracker is None:
        return None
    host = _host(instance_ip) if instance_ip else None
    return {
        "version": tracker["version"],
        "image": tracker["image"],
        "private": tracker["private"],
        "announce_interval_s": tracker["announce_interval_s"],
        "announce_urls": []
        if host is None
        else [
            *(f"udp://{host}:{port}/announce" for port in tracker["udp_ports"]),
            *(f"http://{host}:{port}/announce" for port in tracker["http_ports"]),
        ],
        "api_url": None if host is None else f"http://{host}:{tracker['api_port']}/api/v1",
        "health_check_url": None if host is None else f"http://{host}:{tracker['health_check_port']}/health_check",
    }


def environment_text(document: dict[str, Any]) -> str:
    """What `show` prints."""
    lines = [f"Environment: {document['name']}", f"State:       {document['state']}"]
    lines.append(f"Instance:    {document['instance_name']}")
    if document["instance_ip"]:
        lines.append(f"IP address:  {document['instance_ip']}")
        lines.append(f"SSH:         {document['ssh']['command']}")
    failure = document["failure"]
    if failure:
        step = failure["step"] or "unknown step"
        lines.append(f"Failed step: {step} ({failure['error_kind']}, after {failure['duration_s']:.1f} s)")
        lines.append(f"Error:       {failure['summary']}")
        if failure["trace_path"]:
            lines.append(f"Trace:       {failure['trace_path']}")
    drift = document["drift"]
    if drift:
        lines.append(f"Drift:       `check` found at {drift['checked_at']}: {'; '.join(drift['findings'])}")
    tracker = document["tracker"]
    if tracker:
        mode = "private" if tracker["private"] else "public"
        source = tracker["image"] or "built here, no registry"
        lines.append(
            f"Tracker:     torrust-tracker {tracker['version']} ({source}; {mode}, "
            f"announce every {tracker['announce_interval_s']} s)"
        )
        for index, url in enumerate(tracker["announce_urls"]):
            lines.append(f"{'Announce:' if index == 0 else '':<13}{url}")
        if tracker["api_url"]:
            lines.append(f"REST API:    {tracker['api_url']} (token: torrust-deploy show {document['name']} --token)")
            lines.append(f"Health:      {tracker['health_check_url']}")
    if document["interrupted"]:
        lines.append("Interrupted: the run that set this state ended before it finished")
    if document["running_pid"] is not None:
        lines.append(f"Running:     process {document['running_pid']} is working on it; wait for it to finish")
    elif drift:
        lines.append(f"Next:        torrust-deploy deploy {document['name']} — repairs the drift, then carries on")
    elif document["next_command"]:
        why = NEXT_WHY.get(document["state"])
        lines.append(f"Next:        {document['next_command']}" + (f" — {why}" if why else ""))
    return "\n".join(lines)


def list_row(name: str, state: str, instance_ip: str | None) -> str:
    return f"{name:<24} {state:<16} {instance_ip or '-'}"


LIST_HEADER = f"{'NAME':<24} {'STATE':<16} IP"


def list_text(documents: Iterable[dict[str, Any]]) -> str:
    """What `list` prints when every environment could be read."""
    rows = [list_row(doc["name"], doc["state"], doc["instance_ip"]) for doc in documents]
    return "\n".join([LIST_HEADER, *rows]) if rows else NO_ENVIRONMENTS
