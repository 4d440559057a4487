"""The generated command reference (docs/cli.md) is up to date, and the JSON documentation
(docs/cli-json.md) covers every command with examples that match the schemas."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from orchestrator.cli.main import app
from orchestrator.cli.reference import REGENERATE, render_reference
from orchestrator.cli.schemas import SCHEMAS, ErrorDocument, all_schemas, validate_output
from tests.support.cli import run_cli

DOCS = Path(__file__).resolve().parents[3] / "docs"
EXAMPLE = re.compile(r"<!-- json: (?P<command>[a-z -]+?) -->\n```json\n(?P<body>.*?)\n```", re.S)


def test_cli_md_is_generated_from_the_cli_and_up_to_date() -> None:
    assert (DOCS / "cli.md").read_text(encoding="utf-8") == render_reference(app), (
        f"docs/cli.md is out of date; regenerate it with `{REGENERATE}`"
    )


def test_the_hidden_command_prints_the_reference(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "cli-reference")

    assert result.exit_code == 0
    assert result.stdout == render_reference(app)


def test_the_reference_covers_every_visible_command_and_the_exit_codes() -> None:
    text = render_reference(app)

    for command in SCHEMAS:  # `show --token` is a document of `show`
        assert f"### `torrust-deploy {command.split(' --')[0]}`" in text
    assert "cli-reference" not in text.split("## Commands", 1)[1]
    for code in ("| 0 |", "| 1 |", "| 2 |", "| 3 |", "| 4 |"):
        assert code in text


def _examples() -> list[tuple[str, str]]:
    text = (DOCS / "cli-json.md").read_text(encoding="utf-8")
    return [(match["command"], match["body"]) for match in EXAMPLE.finditer(text)]


def test_cli_json_md_names_every_command_and_has_examples() -> None:
    text = (DOCS / "cli-json.md").read_text(encoding="utf-8")
    for command in SCHEMAS:
        assert f"| `{command}` |" in text, command
    kinds = {command.removeprefix("error ") for command, _ in _examples()}
    documents = {SCHEMAS[command] for command in kinds if command in SCHEMAS}
    assert len(documents) >= 8
    assert any(command.startswith("error ") for command, _ in _examples())


@pytest.mark.parametrize("example", _examples(), ids=lambda example: example[0])
def test_cli_json_md_example_matches_its_schema(example: tuple[str, str]) -> None:
    command, body = example
    if command.startswith("error "):
        document = ErrorDocument.model_validate_json(body)
        assert document.command == command.removeprefix("error ")
    else:
        validate_output(command, body)


def test_cli_schemas_prints_a_json_schema_per_command(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "cli-schemas")

    assert result.exit_code == 0
    schemas = json.loads(result.stdout)
    assert schemas == json.loads(json.dumps(all_schemas()))
    assert set(schemas["commands"]) == set(SCHEMAS)
    assert schemas["error"]["properties"]["ok"]["const"] is False
