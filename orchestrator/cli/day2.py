"""Day-2 commands (check, register, history): added to the app by `add_day2_commands`."""

from __future__ import annotations

import typer


def add_day2_commands(app: typer.Typer) -> None:
    """Register the day-2 commands on the root app."""
