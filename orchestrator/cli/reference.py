"""The command reference (docs/cli.md), generated from the CLI itself: `torrust-deploy cli-reference`.

Walks the command tree of the typer app and renders every visible command's usage, description,
arguments and options as Markdown, after a fixed introduction (exit codes, output, logs). The output
depends only on the code, never on the terminal or the environment, so a test can compare it with the
committed file.
"""

from __future__ import annotations

import inspect
from typing import Any

import typer
from typer import _click
from typer.core import TyperArgument, TyperOption
from typer.main import get_command

from orchestrator.cli.render import EXIT_CODES

PROG = "torrust-deploy"
REGENERATE = f"{PROG} cli-reference > docs/cli.md"
ORDER = ("create", "validate", "provision", "configure", "deploy", "show", "list", "destroy", "purge")

INTRO = f"""# `{PROG}` command reference

<!-- Generated from the CLI by `{REGENERATE}`; do not edit by hand.
     tests/unit/cli/test_reference.py fails when this file is out of date. -->

`{PROG} [GLOBAL OPTIONS] COMMAND [ARGS]…` — global options go before the command
(`{PROG} --json -C work show my-env`).

## Output

- **Results** go to stdout: text for people, or with `--json` exactly one JSON document per command,
  also for errors (`"ok": false`). The documents and their JSON Schemas: [cli-json.md](cli-json.md).
- **Progress** goes to stderr: `[2/6] Wait ssh … done (3.1 s)`, one line per step with its elapsed
  time; on a terminal a live spinner shows the running step and its elapsed time instead.
- **Errors** go to stderr as one `Error: …` line saying what failed, one `Tip: …` line saying what to
  do, and, when a step failed, a `Trace: …` line naming the trace file with the full error chain and
  the tool output. No Python traceback unless `--debug`. Usage errors (unknown option or command,
  missing argument) are reported the same way.

## Exit codes

| code | meaning |
|---|---|
{"".join(f"| {code} | {meaning} |" + chr(10) for code, meaning in EXIT_CODES.items())}
## Logs

`-v` shows INFO logs and the tools' output (Pulumi engine, ansible events) on stderr, `-vv` DEBUG.
`--log-file FILE` appends this run's log to FILE: INFO and up (DEBUG with `-vv`), including every state
transition (logger `orchestrator.transitions` with the fields `environment`, `from_state`, `to_state`,
`duration_s`, `command`, `step`, `seq`), the command line, and a failed command's traceback. The file
holds text lines, or JSON lines (one object per record, the fields above included) when FILE ends
with `.jsonl` or with `--log-format json`.

## Shell completion

`{PROG} --install-completion` installs completion for the current shell (bash, zsh, fish,
PowerShell); `{PROG} --show-completion` prints the script instead. Commands, options and the
names of the environments in the working directory complete.

"""


def _clean(text: str | None) -> str:
    return inspect.cleandoc(text or "").strip()


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _default(param: Any) -> str:
    if not param.show_default and param.show_default is not None:
        return ""
    default = param.default
    if default is None or default is False or callable(default) or getattr(param, "is_flag", False):
        return ""
    if isinstance(default, list | tuple) and not default:
        return ""
    return f"`{default}`"


def _option_row(param: Any, ctx: _click.Context) -> str:
    names = ", ".join(f"`{name}`" for name in [*param.opts, *param.secondary_opts])
    if getattr(param, "count", False):
        kind, default = "flag, repeatable", ""
    elif getattr(param, "is_flag", False):
        kind, default = "flag", ""
    else:
        kind, default = f"`{param.metavar or param.display_type(ctx)}`", _default(param)
    if param.required:
        default = "required"
    return f"| {names} | {_cell(kind)} | {default} | {_cell(param.help or '')} |"


def _argument_row(param: Any) -> str:
    name = param.display_name_raw
    required = "yes" if param.required else "no"
    return f"| `{name}` | {required} | {_cell(param.help or '')} |"


def _render_command(command: _click.Command, ctx: _click.Context, path: str, out: list[str]) -> None:
    out.append(f"### `{path}`\n")
    description = _clean(command.help)
    if description:
        out.append(description + "\n")
    usage = " ".join(command.collect_usage_pieces(ctx))
    out.append(f"```\n{path} {usage}\n```\n")
    arguments = [p for p in command.params if isinstance(p, TyperArgument) and not getattr(p, "hidden", False)]
    opts = [
        p
        for p in command.params
        if isinstance(p, TyperOption) and not p.hidden and p.name not in ("help",) and "--help" not in p.opts
    ]
    if arguments:
        out.append("| argument | required | description |\n|---|---|---|")
        out.extend(_argument_row(p) for p in arguments)
        out.append("")
    if opts:
        out.append("| option | value | default | description |\n|---|---|---|---|")
        out.extend(_option_row(p, ctx) for p in opts)
        out.append("")


def _walk(command: _click.Command, ctx: _click.Context, path: str, out: list[str]) -> None:
    subcommands = getattr(command, "commands", None)
    if subcommands is None:
        _render_command(command, ctx, path, out)
        return
    if ctx.parent is not None:
        out.append(f"### `{path} …`\n")
        description = _clean(command.help)
        if description:
            out.append(description + "\n")
    names = command.list_commands(ctx)  # type: ignore[attr-defined]
    if ctx.parent is None:  # the root: the newcomer's order first, then the rest as the CLI lists them
        names = [n for n in ORDER if n in names] + [n for n in names if n not in ORDER]
    for name in names:
        sub = command.get_command(ctx, name)  # type: ignore[attr-defined]
        if sub is None or sub.hidden:
            continue
        sub_ctx = _click.Context(sub, info_name=name, parent=ctx)
        _walk(sub, sub_ctx, f"{path} {name}", out)


def render_reference(app: typer.Typer) -> str:
    """The Markdown of docs/cli.md."""
    root = get_command(app)
    ctx = _click.Context(root, info_name=PROG)
    out = [INTRO.rstrip() + "\n"]
    out.append("## Global options\n")
    out.append(f"```\n{PROG} {' '.join(root.collect_usage_pieces(ctx))}\n```\n")
    out.append("| option | value | default | description |\n|---|---|---|---|")
    out.extend(
        _option_row(p, ctx)
        for p in root.params
        if isinstance(p, TyperOption) and not p.hidden and "--help" not in p.opts
    )
    out.append("")
    out.append("## Commands\n")
    _walk(root, ctx, PROG, out)
    return "\n".join(out).rstrip() + "\n"
