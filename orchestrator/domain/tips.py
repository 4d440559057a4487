"""Tips that tell the user which command gets an environment into the state a command needs."""

from __future__ import annotations

# Position on the happy path, and the command that reaches each position.
_PROGRESS = {"created": 0, "provisioned": 1, "configured": 2}
_REACHED_BY = {1: "provision", 2: "configure"}
_COMMAND_OF = {
    "provisioning": "provision",
    "provision_failed": "provision",
    "configuring": "configure",
    "configure_failed": "configure",
}


def state_tip(env_name: str, actual: str, required: str) -> str:
    """One line telling the user how to get environment `env_name` from `actual` to `required`."""
    cli = "torrust-deploy"
    destroy = f"`{cli} destroy {env_name}`"
    if actual in ("provision_failed", "configure_failed"):
        command = _COMMAND_OF[actual]
        return (
            f"{command} of '{env_name}' failed earlier (its trace file has the details); fix the cause and "
            f"re-run `{cli} {command} {env_name}` (it continues safely), or run {destroy}"
        )
    if actual == "destroy_failed":
        return f"destroy of '{env_name}' failed earlier; re-run {destroy}"
    if actual in ("provisioning", "configuring"):
        command = _COMMAND_OF[actual]
        return (
            f"a `{command}` of '{env_name}' is running, or was interrupted; once no other process holds the "
            f"environment, re-run `{cli} {command} {env_name}`, or run {destroy}"
        )
    if actual == "destroying":
        return f"a previous destroy of '{env_name}' stopped before finishing; re-run {destroy}"
    if actual == "destroyed":
        return f"'{env_name}' was destroyed; create it again with `{cli} create` to use it"
    if actual in _PROGRESS and required in _PROGRESS:
        have, want = _PROGRESS[actual], _PROGRESS[required]
        if have < want:
            steps = [f"`{cli} {_REACHED_BY[i]} {env_name}`" for i in range(have + 1, want + 1)]
            return f"run {' and then '.join(steps)} first"
        return f"'{env_name}' is already {actual}; run {destroy} to start over"
    return f"'{env_name}' is {actual.replace('_', ' ')}; re-run the command, or run {destroy} to start over"
