"""The `torrust-deploy` console script: answers the most common read-only command lines itself, at once,
and runs the full CLI (`main.main`: typer, rich, pydantic, the domain) for everything else.

Answered here (docs/decisions/0007-cli-quick-path.md), exactly these forms:

- no arguments, `--help`, `-h` — the top-level help (`top_help`);
- `list`, `show NAME`, each optionally after `-C DIR` / `--working-dir DIR` / `--working-dir=DIR`.

Any other option or command goes to the full CLI unchanged. So does any doubt: the state files are read
by `persistence.strict_read`, which gives up on anything but what torrust-deploy itself writes (and on
unreadable or unknown files), and the answer is rendered by `environment_view`, the code the full CLI
renders with. Nothing is printed before the whole answer is known, so the quick path answers only with
what the full CLI would print (stdout, stderr, exit code), or not at all.

Imports stay within the standard library's cheapest modules (`datetime`, `fcntl`): no typer, rich,
pydantic, filelock — and no `typing` or `dataclasses`, which alone cost about as much as starting the
interpreter, nor `re` or `json` (half as much; `strict_read` parses with `json`'s own C scanner).
tests/unit/cli/test_imports.py checks it.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any, TextIO

    from orchestrator.persistence.strict_read import StoredEnvironment

Answer = tuple[str, str, int]
"""stdout, stderr and exit code of a command line."""


def quick_answer(argv: Sequence[str], environ: Mapping[str, str]) -> Answer | None:
    """What `torrust-deploy ARGV` prints and returns, when this path is sure of it; None otherwise."""
    try:
        return _answer(argv, environ)
    except Exception:  # a surprise (e.g. a garbled PID note) must not cost the user the answer: the full CLI
        return None  # reports it properly


def _answer(argv: Sequence[str], environ: Mapping[str, str]) -> Answer | None:
    if any(key.startswith("_") and key.endswith("_COMPLETE") for key in environ):
        return None  # a shell completion request
    args = list(argv)
    if args in ([], ["--help"], ["-h"]):
        from orchestrator.cli.top_help import top_level_help

        text = top_level_help() + "\n"
        return ("", text, 2) if not args else (text, "", 0)  # no command: a usage error, like typer's
    working_dir = "."
    if len(args) > 1 and args[0] in ("-C", "--working-dir"):
        working_dir, args = args[1], args[2:]
    elif args and args[0].startswith("--working-dir="):
        working_dir, args = args[0].removeprefix("--working-dir="), args[1:]
    if args == ["list"]:
        return _answer_list(working_dir)
    if len(args) == 2 and args[0] == "show" and not args[1].startswith("-"):
        return _answer_show(working_dir, args[1])
    return None


def _data_dir(working_dir: str) -> str | None:
    """`Path(working_dir).resolve() / "data"`, as the full CLI computes it; None when not sure it would."""
    from orchestrator.persistence.strict_read import plain_path

    if working_dir.startswith("-") or "\0" in working_dir or not plain_path(working_dir):
        return None
    try:
        os.stat(working_dir)
    except FileNotFoundError:
        pass  # typer takes a folder that does not exist (and `list` says "No environments.")
    except OSError:
        return None
    else:
        if not os.access(working_dir, os.R_OK):
            return None  # typer refuses a folder it cannot read
    root = os.path.realpath(working_dir)
    try:
        os.stat(root)
    except FileNotFoundError:
        pass
    except OSError:  # e.g. a symlink loop, which `Path.resolve` reports as an error
        return None
    return os.path.join(root, "data")


def _answer_show(working_dir: str, name: str) -> Answer | None:
    from orchestrator.cli.environment_view import environment_text
    from orchestrator.persistence.strict_read import read_environment

    data_dir = _data_dir(working_dir)
    if data_dir is None:
        return None
    stored = read_environment(data_dir, name)
    if stored is None:  # not found, unreadable, or not sure: the full CLI says which
        return None
    return environment_text(_document(data_dir, stored)) + "\n", "", 0


def _answer_list(working_dir: str) -> Answer | None:
    from orchestrator.cli.environment_view import list_text
    from orchestrator.persistence.strict_read import environment_names, read_environment

    data_dir = _data_dir(working_dir)
    if data_dir is None:
        return None
    names = environment_names(data_dir)
    if names is None:
        return None
    documents = []
    for name in names:
        stored = read_environment(data_dir, name)
        if stored is None:  # unreadable: the full CLI lists it with a warning
            return None
        documents.append(_document(data_dir, stored))
    return list_text(documents) + "\n", "", 0


def _document(data_dir: str, stored: StoredEnvironment) -> dict[str, Any]:
    """`render.environment_document(env, running_pid)` of the environment the repository would load."""
    from orchestrator.cli.environment_view import environment_document
    from orchestrator.persistence.lock_holder import running_holder_pid
    from orchestrator.persistence.strict_read import LOCK_FILE

    running_pid = running_holder_pid(os.path.join(data_dir, stored["name"], LOCK_FILE))
    return environment_document(facts(stored), running_pid)


def facts(stored: StoredEnvironment) -> dict[str, Any]:
    """`render.environment_facts(env)` of the environment `stored` describes."""
    ssh, lxd, failure = stored["ssh"], stored["lxd"], stored["failure"]
    return {
        "name": stored["name"],
        "state": stored["state"],
        "state_since": stored["state_since"].isoformat(),
        "created_at": stored["created_at"].isoformat(),
        "instance_name": stored["instance_name"],
        "instance_ip": stored["instance_ip"],
        "ssh": {
            "username": ssh["username"],
            "port": ssh["port"],
            "private_key_path": ssh["private_key_path"],
            "public_key_path": ssh["public_key_path"],
        },
        "lxd": {
            "endpoint": lxd["endpoint"],
            "image_alias": lxd["image_alias"],
            "instance_type": lxd["instance_type"],
            "profile_name": lxd["profile_name"] or f"torrust-{stored['name']}",  # EnvironmentContext.profile_name
            "network": lxd["network"],
            "storage_pool": lxd["storage_pool"],
        },
        "failure": None
        if failure is None
        else {
            "step": failure["step"],
            "error_kind": failure["error_kind"],
            "summary": failure["summary"],
            "started_at": failure["started_at"].isoformat(),
            "failed_at": failure["failed_at"].isoformat(),
            "duration_s": round((failure["failed_at"] - failure["started_at"]).total_seconds(), 3),
            "trace_path": failure["trace_path"],
        },
        "tracker": None if stored["tracker"] is None else dict(stored["tracker"]),
        "drift": None,  # a noted drift is shown by the full CLI
    }


def _printable(stream: TextIO | None, text: str) -> bool:
    """Whether `print` could write `text` to `stream` as the full CLI would."""
    if not text:
        return True
    if stream is None:
        return False
    try:
        text.encode(stream.encoding or "utf-8", stream.errors or "strict")
    except (LookupError, UnicodeError):
        return False
    return True


def main() -> None:
    """The console script."""
    answer = quick_answer(sys.argv[1:], os.environ)
    if answer is not None:
        stdout, stderr, code = answer
        if _printable(sys.stdout, stdout) and _printable(sys.stderr, stderr):
            try:
                sys.stdout.write(stdout)
            except OSError as error:  # a closed pipe, a full disk: reported as the full CLI's commands do
                from orchestrator.cli.render import EXIT_FAILED, print_error

                print_error(error, EXIT_FAILED, as_json=False)
                raise SystemExit(EXIT_FAILED) from None
            sys.stderr.write(stderr)
            raise SystemExit(code)
    from orchestrator.cli.main import main as full_cli

    full_cli()


if __name__ == "__main__":
    main()
