"""An environment as the CLI shows it: its document (the `--json` shape) and its text, from plain facts.

Standard library only, no `typing` at run time: the quick path (`quick_path`) renders with it from what
`persistence.strict_read` decodes, the full CLI (`render`) from the domain objects. `facts` are the
document without what depends on the moment (see `environment_document`):

    name, state (the state class's name), state_since, created_at (ISO 8601), instance_name, instance_ip,
    ssh {username, port, private_key_path, public_key_path},
    lxd {endpoint, image_alias, instance_type, profile_name, network, storage_pool},
    failure (None, or {step, error_kind, summary, started_at, failed_at, duration_s, trace_path})
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

# In-progress states: found without a live lock holder they mean the run was interrupted.
IN_PROGRESS_STATES = ("Provisioning", "Configuring", "Destroying")

# What to run next, by state. A command re-run after a failure continues safely (see the domain's tips);
# an in-progress state that no live process holds is a run that was interrupted: re-running the same
# command records the interruption and carries on.
NEXT_COMMAND = {
    "Created": "torrust-deploy deploy {name}",
    "Provisioning": "torrust-deploy provision {name}",
    "Provisioned": "torrust-deploy configure {name}",
    "ProvisionFailed": "torrust-deploy provision {name}",
    "Configuring": "torrust-deploy configure {name}",
    "Configured": None,
    "ConfigureFailed": "torrust-deploy configure {name}",
    "Destroying": "torrust-deploy destroy {name}",
    "Destroyed": "torrust-deploy purge {name}",
    "DestroyFailed": "torrust-deploy destroy {name}",
}
NEXT_WHY = {
    "Created": "provisions and configures it",
    "Provisioning": "the provision that set this state was interrupted; this continues it",
    "Provisioned": "installs Docker and Docker Compose",
    "ProvisionFailed": "after fixing the cause; it continues safely (or destroy it)",
    "Configuring": "the configure that set this state was interrupted; this continues it",
    "ConfigureFailed": "after fixing the cause; it continues safely (or destroy it)",
    "Destroying": "the destroy that set this state was interrupted; this finishes it",
    "Destroyed": "drops its records; the name can then be created again",
    "DestroyFailed": "after fixing the cause",
}
NO_ENVIRONMENTS = "No environments."


def ssh_command(instance_ip: str | None, username: str, port: int, private_key_path: str) -> str | None:
    """`ssh -i KEY [-p PORT] USER@IP`, once the instance has an address."""
    if not instance_ip:
        return None
    port_option = "" if port == 22 else f" -p {port}"
    return f"ssh -i {private_key_path}{port_option} {username}@{instance_ip}"


def next_command(state: str, name: str, running_pid: int | None = None) -> str | None:
    if running_pid is not None:  # a command is running on it: wait for that one
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
            "command": ssh_command(facts["instance_ip"], ssh["username"], ssh["port"], ssh["private_key_path"]),
        },
        "lxd": facts["lxd"],
        "failure": facts["failure"],
        "running_pid": running_pid,
        "interrupted": facts["state"] in IN_PROGRESS_STATES and running_pid is None,
        "next_command": next_command(facts["state"], facts["name"], running_pid),
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
    if document["interrupted"]:
        lines.append("Interrupted: the run that set this state ended before it finished")
    if document["running_pid"] is not None:
        lines.append(f"Running:     process {document['running_pid']} is working on it; wait for it to finish")
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
