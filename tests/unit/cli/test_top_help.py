"""The top-level help is one table (`top_help`): it matches the commands and options registered on the typer
app, and the typer app prints it for `--help`, `-h` and no arguments, like the quick path."""

from __future__ import annotations

from typing import Any

from typer import _click
from typer.core import TyperOption
from typer.main import get_command
from typer.testing import CliRunner

from orchestrator.cli.main import app
from orchestrator.cli.top_help import COMMANDS, DESCRIPTION, GLOBAL_OPTIONS, PROG, WIDTH, top_level_help


def _root() -> tuple[Any, _click.Context]:
    root = get_command(app)
    return root, _click.Context(root, info_name=PROG, **root.context_settings)


def _first_paragraph(text: str | None) -> str:
    return " ".join((text or "").split("\n\n")[0].split())


def test_table_lists_every_visible_command_with_its_panel_and_help() -> None:
    root, ctx = _root()
    registered = set()
    for name in root.list_commands(ctx):
        command = root.get_command(ctx, name)
        if not command.hidden:
            registered.add((command.rich_help_panel, name, _first_paragraph(command.help)))

    assert len(COMMANDS) == len(set(COMMANDS))
    assert set(COMMANDS) == registered
    assert _first_paragraph(root.help) == DESCRIPTION


def test_table_lists_every_global_option_with_its_help_value_and_default() -> None:
    root, ctx = _root()
    options = [p for p in root.get_params(ctx) if isinstance(p, TyperOption) and not p.hidden]
    by_names = {frozenset(names): (value, text, default) for names, value, text, default in GLOBAL_OPTIONS}

    assert len(by_names) == len(GLOBAL_OPTIONS) == len(options)
    for option in options:
        value, text, default = by_names[frozenset([*option.opts, *option.secondary_opts])]
        assert text == option.help, option.opts
        if option.is_flag or option.count:
            assert value is None, option.opts
        elif option.metavar:
            assert value == option.metavar, option.opts
        shown = option.show_default is not False and option.default is not None and not option.count
        if shown and not option.is_flag:
            expected = f"{option.default:g}" if isinstance(option.default, float) else str(option.default)
            assert default == expected, option.opts
        else:
            assert default is None, option.opts


def test_help_fits_80_columns_and_names_every_command() -> None:
    text = top_level_help()

    assert max(len(line) for line in text.splitlines()) <= WIDTH
    for _, name, _ in COMMANDS:
        assert f"\n  {name} " in text


def test_typer_app_prints_the_table_for_help_h_and_no_arguments() -> None:
    expected = top_level_help() + "\n"
    runner = CliRunner()

    for flag in ("--help", "-h"):
        result = runner.invoke(app, [flag])
        assert (result.exit_code, result.stdout, result.stderr) == (0, expected, "")
    bare = runner.invoke(app, [])
    assert (bare.exit_code, bare.stdout, bare.stderr) == (2, "", expected)


def test_a_command_help_stays_typers() -> None:
    runner = CliRunner()
    long, short = runner.invoke(app, ["show", "--help"]), runner.invoke(app, ["show", "-h"])

    assert long.exit_code == short.exit_code == 0
    assert "ENVIRONMENT" in long.stdout
    assert long.stdout == short.stdout != top_level_help() + "\n"
