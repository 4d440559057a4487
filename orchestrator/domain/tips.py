"""Tips that tell the user which command gets an environment into the state a command needs.

Derived from `vocabulary`: the happy path gives the commands to run in order; each in-progress and
failed state names the command whose run set it.
"""

from __future__ import annotations

from orchestrator.domain import vocabulary

_CLI = "torrust-deploy"
_POSITION = {tag: index for index, (tag, _) in enumerate(vocabulary.HAPPY_PATH)}
_REACHED_BY = [command for _, command in vocabulary.HAPPY_PATH]


def state_tip(env_name: str, actual: str, required: str) -> str:
    """One line telling the user how to get environment `env_name` from `actual` to `required`."""
    destroy = f"`{_CLI} destroy {env_name}`"
    command = vocabulary.COMMAND_OF.get(actual)
    if actual == "destroy_failed":
        return f"destroy of '{env_name}' failed earlier; re-run {destroy}"
    if actual in vocabulary.FAILED_TAGS:
        return (
            f"{command} of '{env_name}' failed earlier (its trace file has the details); fix the cause and "
            f"re-run `{_CLI} {command} {env_name}` (it continues safely), or run {destroy}"
        )
    if actual == "destroying":
        return f"a previous destroy of '{env_name}' stopped before finishing; re-run {destroy}"
    if actual in vocabulary.IN_PROGRESS_TAGS:
        return (
            f"a `{command}` of '{env_name}' is running, or was interrupted; once no other process holds the "
            f"environment, re-run `{_CLI} {command} {env_name}`, or run {destroy}"
        )
    if actual == "destroyed":
        return f"'{env_name}' was destroyed; create it again with `{_CLI} create` to use it"
    if actual in _POSITION and required in _POSITION:
        have, want = _POSITION[actual], _POSITION[required]
        if have < want:
            steps = [f"`{_CLI} {_REACHED_BY[i]} {env_name}`" for i in range(have + 1, want + 1)]
            return f"run {' and then '.join(steps)} first"
        return f"'{env_name}' is already {actual}; run {destroy} to start over"
    return f"'{env_name}' is {actual.replace('_', ' ')}; re-run the command, or run {destroy} to start over"
