"""The README agrees with the code (no daemon needed): every `torrust-deploy` command it shows — code
blocks, prose, tables — resolves through the CLI with all its options, the exit codes it lists are the
CLI's table, its JSON config parses, the quick start follows the newcomer's path, and its examples run.
The checks live in tests/support/readme.py; the negative tests here prove each one rejects a wrong line.
tests/e2e/test_readme.py executes the marked blocks against the real lab."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from pydantic import BaseModel

from orchestrator.cli.render import EXIT_CODES
from orchestrator.config import LxdSection, SshSection, parse_config
from tests.support.keys import make_keypair
from tests.support.readme import (
    command_path,
    command_problems,
    config_blocks,
    config_field_problems,
    exit_code_problems,
    global_option_problems,
    marked_block,
    mentions,
    quickstart_lines,
    readme_text,
)


def test_quickstart_is_the_newcomers_path() -> None:
    commands = [
        " ".join(command_path(shlex.split(line, comments=True)[1:]))
        for line in quickstart_lines()
        if line.startswith("torrust-deploy ")
    ]

    assert commands == [
        "create template",
        "validate",
        "create environment",
        "deploy",
        "test",
        "show",
        "list",
        "destroy",
        "purge",
    ]
    assert all("my-env" in line for line in quickstart_lines() if line.startswith(("torrust-deploy d", "ssh-keygen")))


def test_every_torrust_deploy_command_in_the_readme_resolves_through_the_cli() -> None:
    found = mentions(readme_text())

    where = {kind: [m for m in found if m.where == kind] for kind in ("code", "prose", "table")}
    assert len(where["code"]) >= 15
    assert sum(m.complete for m in where["prose"]) >= 5  # whole `torrust-deploy …` lines written in prose
    assert len(where["table"]) >= 2
    assert [f"README.md:{m.line}: {m.text}: {problem}" for m in found for problem in m.problems()] == []


@pytest.mark.parametrize(
    "line",
    [
        "create schemaa",
        "create schemaa --bogus-flag",
        "create schema --bogus-flag",
        "show my-env --no-such-option",
        "show my-env extra-argument",
        "show",  # its argument is required
        "register my-env --ip",  # --ip takes a value
        "register my-env --lxd-instance",  # --lxd-instance takes a value
        "create",  # a group needs its command
        "toolchain ensure|stats|build",  # each alternative is checked
        "history ENV --json",  # a global option after the command belongs to the command
        "--no-such-global show my-env",
        "provison my-env",
    ],
)
def test_the_command_check_rejects_a_command_line_the_cli_would_reject(line: str) -> None:
    assert command_problems(shlex.split(line)) != []


@pytest.mark.parametrize(
    "line",
    [
        "create template [--name NAME]",
        "-C work --json -vv --lock-timeout 5 show my-env",
        "toolchain ensure|status|build",
        "purge my-env [--force]",
        "show --help",
        "--install-completion",
        "register ENV --ip IP [--ssh-port N]",
        "register ENV --lxd-instance NAME",
    ],
)
def test_the_command_check_accepts_the_forms_the_readme_uses(line: str) -> None:
    assert command_problems(shlex.split(line)) == []


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("```sh\ntorrust-deploy show my-env --no-such-option   # a comment\n```\n", "code"),
        ("```sh\nmkdir -p x && torrust-deploy create schemaa > schema.json\n```\n", "code"),
        ("Then run `torrust-deploy show my-env --no-such-option` to see it.\n", "prose"),
        ("Then run `create schemaa` to see it.\n", "prose"),
        ("| what | time |\n|---|---|\n| `torrust-deploy create schemaa` | 1 s |\n", "table"),
        ("| what | time |\n|---|---|\n| `show my-env --no-such-option` | 1 s |\n", "table"),
    ],
)
def test_wrong_commands_are_found_in_code_blocks_prose_and_tables(text: str, where: str) -> None:
    found = mentions(text)

    assert [m.where for m in found] == [where]
    assert found[0].problems() != []


def test_the_global_options_the_readme_names_exist() -> None:
    assert global_option_problems(readme_text()) == []
    assert global_option_problems("Global options go before the command: `--json`, `-v/-vv`, `--debug`.") == []
    assert global_option_problems("Global options go before the command: `--json`, `-v`, `--debugging`.") != []


def test_the_readme_lists_exactly_the_exit_codes_of_the_cli() -> None:
    assert 130 in EXIT_CODES
    assert exit_code_problems(readme_text(), EXIT_CODES) == []


@pytest.mark.parametrize(
    "listing",
    [
        "`0` ok, `1` failed, `2` usage, `3` locked, `4` not found, `5` drift, `7` who knows, `130` interrupted",
        "`0` ok, `1` failed, `2` usage, `3` locked, `4` not found, `5` drift",  # 130 left out
        "`0` ok, `1` failed, `2` usage, `3` locked, `4` not found, `5` drift, `130` interrupted. It exits 9 on Sundays",
    ],
)
def test_the_exit_code_check_rejects_an_unknown_or_missing_code(listing: str) -> None:
    assert exit_code_problems(f"- **Exit codes**: {listing}.\n", EXIT_CODES) != []


def test_the_json_config_in_the_readme_is_a_valid_config(tmp_path: Path) -> None:
    blocks = config_blocks(readme_text())

    assert len(blocks) >= 1
    for document in blocks:
        make_keypair(tmp_path / document["ssh"]["private_key_path"])
        config = parse_config(document, tmp_path, source="README.md's config")
        assert config.ssh.public_key_path == tmp_path / document["ssh"]["public_key_path"]


def test_the_config_fields_the_readme_names_exist() -> None:
    sections: dict[str, type[BaseModel]] = {"ssh": SshSection, "lxd": LxdSection}

    assert config_field_problems(readme_text(), sections) == []
    assert config_field_problems("`lxd` also takes `endpoint`, `storage_pools`.", sections) != []


def test_the_python_example_is_marked_for_the_e2e_test() -> None:
    block = marked_block("e2e")

    assert "deployer.configure(deployer.provision(env))" in block
    assert 'load_config(Path("env.json"))' in block


def test_the_threads_example_is_marked_for_the_e2e_test() -> None:
    block = marked_block("e2e-threads")

    assert "ThreadPoolExecutor" in block and '["a.json", "b.json"]' in block


def test_the_state_machine_example_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the example writes ./data
    exec(compile(marked_block("unit"), "README.md (state machine example)", "exec"), {})
    assert (tmp_path / "data" / "staging" / "events.jsonl").read_text().count("\n") == 3
