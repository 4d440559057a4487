"""The top-level help (`torrust-deploy`, `--help`, `-h`): one table of the commands and global options.

Both the quick path (`quick_path`) and the typer app (`group.CliGroup.get_help`) print `top_level_help()`,
so the two can never differ; tests/unit/cli/test_top_help.py checks that the table matches the commands
and options registered on the typer app. Plain text wrapped at a fixed width: the same bytes on every
terminal. Standard library only, no `typing` at run time. A command's own help stays typer's.
"""

from __future__ import annotations

PROG = "torrust-deploy"
WIDTH = 80
DESCRIPTION = (
    "Take a Torrust Tracker deployment environment from nothing to a running tracker (LXD + Pulumi + Ansible). "
    "Start with `torrust-deploy create template`."
)

# Help panels, in the order shown (`rich_help_panel` of the registered commands).
SETUP, LIFECYCLE, INSPECT, DAY2, TOOLS = "Set up", "Lifecycle", "Inspect", "Day 2", "Tools"

COMMANDS: tuple[tuple[str, str, str], ...] = (
    # (panel, name, first paragraph of the command's help)
    (SETUP, "create", "Create an environment, or print a config template or its JSON Schema."),
    (
        SETUP,
        "validate",
        "Check a config file without creating anything (no network): syntax, fields, names, key files.",
    ),
    (LIFECYCLE, "provision", "Create the instance (Pulumi + LXD), wait for SSH and cloud-init."),
    (LIFECYCLE, "configure", "Install Docker and Docker Compose on the instance (ansible-runner)."),
    (
        LIFECYCLE,
        "release",
        "Put the tracker on the host: its image (built here, no registry), compose file, config and token.",
    ),
    (
        LIFECYCLE,
        "run",
        "Start the released tracker (`docker compose up -d`) and wait until its health check passes.",
    ),
    (
        LIFECYCLE,
        "deploy",
        "Provision, configure, release and run, continuing from wherever the environment is.",
    ),
    (
        LIFECYCLE,
        "destroy",
        "Delete the environment's instance, profile and stack, from any state. Keeps its records.",
    ),
    (
        LIFECYCLE,
        "purge",
        "Delete the environment's records and files (normally after destroy). Asks first unless --force.",
    ),
    (
        LIFECYCLE,
        "test",
        "Check from here that the tracker answers: health, REST API, HTTP and UDP announce + scrape.",
    ),
    (INSPECT, "show", "Show an environment: state, IP, SSH command, failed step and trace, and what to run next."),
    (INSPECT, "list", "List the environments in the working directory (name, state, IP)."),
    (DAY2, "check", "Compare the stored state with what is really there (LXD, Docker, the tracker); exit 5 on drift."),
    (
        DAY2,
        "register",
        "Adopt an existing host: --ip (never managed) or --lxd-instance (imported into the stack); SSH and "
        "cloud-init are checked.",
    ),
    (
        DAY2,
        "history",
        "The environment's audit trail: when, which process, from → to, time spent before, failed step.",
    ),
    (TOOLS, "toolchain", "The Pulumi CLI the orchestrator drives (found on PATH or built from Go modules)."),
    (
        TOOLS,
        "lab",
        "The local LXD lab: installs LXD from Debian, starts its daemons (no systemd needed), sets up a bridge "
        "and a storage pool, and builds the Debian trixie base image.",
    ),
    (
        TOOLS,
        "artifact",
        "The Torrust Tracker image: built once with cargo from crates.io, packaged as a root file system "
        "that `docker import` loads without a registry.",
    ),
)

GLOBAL_OPTIONS: tuple[tuple[tuple[str, ...], str | None, str, str | None], ...] = (
    # (names, value shown, help, default shown)
    (
        ("-C", "--working-dir"),
        "DIR",
        "Folder holding data/ (environment state) and build/ (rendered files). Default: the current folder.",
        None,
    ),
    (("--json",), None, "Print one JSON document on stdout, also for errors (docs/cli-json.md).", None),
    (("-v", "--verbose"), None, "-v: tool output and INFO logs on stderr; -vv: DEBUG.", None),
    (
        ("--log-file",),
        "FILE",
        "Append this run's log to FILE: INFO and up (DEBUG with -vv), state transitions included.",
        None,
    ),
    (
        ("--log-format",),
        "auto|text|json",
        "Log file format: text, json (JSON lines), or auto (json when FILE ends with .jsonl).",
        "auto",
    ),
    (("--debug",), None, "Show Python tracebacks on errors.", None),
    (
        ("--lock-timeout",),
        "SECONDS",
        "Seconds to wait for another command working on the same environment (then exit code 3).",
        "30",
    ),
    (("--version",), None, "Print the version and exit.", None),
    (("--install-completion",), None, "Install completion for the current shell.", None),
    (
        ("--show-completion",),
        None,
        "Show completion for the current shell, to copy it or customize the installation.",
        None,
    ),
    (("-h", "--help"), None, "Show this message and exit.", None),
)
HELP_OPTION_NAMES = ["-h", "--help"]


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, line]


def _rows(rows: list[tuple[str, str]], indent: int, column: int) -> list[str]:
    lines = []
    for left, text in rows:
        wrapped = _wrap(text, WIDTH - column)
        first = f"{' ' * indent}{left}"
        if len(first) + 2 > column:  # too long to share a line with the text
            lines.append(first)
            lines.extend(" " * column + part for part in wrapped)
            continue
        lines.append(first.ljust(column) + wrapped[0])
        lines.extend(" " * column + part for part in wrapped[1:])
    return lines


def _option_label(names: tuple[str, ...], value: str | None) -> str:
    short = [name for name in names if not name.startswith("--")]
    long = [name for name in names if name.startswith("--")]
    label = ", ".join([*short, *long]) if short else "    " + ", ".join(long)
    return f"{label} {value}" if value else label


def top_level_help() -> str:
    """The help text, without a final newline."""
    lines = [f"Usage: {PROG} [OPTIONS] COMMAND [ARGS]...", ""]
    lines += ["  " + line for line in _wrap(DESCRIPTION, WIDTH - 2)]
    panels: dict[str, list[tuple[str, str]]] = {}
    for panel, name, text in COMMANDS:
        panels.setdefault(panel, []).append((name, text))
    for panel, rows in panels.items():
        lines += ["", f"{panel}:", *_rows(rows, 2, 14)]
    options = [
        (_option_label(names, value), text + (f" [default: {default}]" if default else ""))
        for names, value, text, default in GLOBAL_OPTIONS
    ]
    lines += ["", "Options (before the command):", *_rows(options, 2, 30)]
    lines += ["", f"Run `{PROG} COMMAND --help` for a command's arguments and options."]
    return "\n".join(lines)
