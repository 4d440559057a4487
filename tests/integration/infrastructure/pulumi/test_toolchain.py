"""The Pulumi CLI the project builds, driven by the Automation API with no network."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestrator.infrastructure.pulumi.checkpoint import checkpoint_files, create_stack_files, read_checkpoint
from orchestrator.infrastructure.pulumi.toolchain import (
    MINIMUM_VERSION,
    PulumiToolchain,
    cli_version,
    find_pulumi,
    parse_version,
)

pytestmark = pytest.mark.integration
REPO_ROOT = Path(__file__).resolve().parents[4]


@pytest.fixture(scope="module")
def toolchain() -> PulumiToolchain:
    return find_pulumi()


def test_the_cli_found_reports_the_version_the_toolchain_recorded(toolchain: PulumiToolchain) -> None:
    # a cached build's version comes from the stamp its build wrote, one on PATH from running it: either
    # way the CLI itself must report that version, and one the orchestrator accepts
    version = cli_version(toolchain.cli)

    assert version == toolchain.version
    assert (parse_version(version) or (0, 0, 0)) >= MINIMUM_VERSION


def test_the_automation_command_is_the_cli_found_with_the_version_it_reported(toolchain: PulumiToolchain) -> None:
    from pulumi import automation as auto

    command = toolchain.command()
    assert Path(command.command) == toolchain.cli
    assert str(command.version) == toolchain.version.removeprefix("v")
    # the same as the Automation API's own constructor reads by running the CLI
    assert auto.PulumiCommand(root=str(toolchain.root), skip_version_check=True).version == command.version


def test_automation_api_runs_up_and_destroy_of_a_dynamic_resource(toolchain: PulumiToolchain, tmp_path: Path) -> None:
    from pulumi import automation as auto

    from tests.integration.infrastructure.pulumi.file_provider import LocalFile

    target = tmp_path / "hello.txt"
    backend = tmp_path / "backend"
    backend.mkdir()

    def program() -> None:
        import pulumi

        created = LocalFile("hello", str(target), "hello from pulumi")
        pulumi.export("size", created.size)

    env = {
        **toolchain.environment(),
        "PULUMI_CONFIG_PASSPHRASE": "",
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    stack = auto.create_or_select_stack(
        stack_name="toolchain-test",
        project_name="torrust-deploy-toolchain-test",
        program=program,
        opts=auto.LocalWorkspaceOptions(
            work_dir=str(tmp_path),
            pulumi_command=toolchain.command(),
            project_settings=auto.ProjectSettings(
                name="torrust-deploy-toolchain-test",
                runtime="python",
                backend=auto.ProjectBackend(url=backend.as_uri()),
            ),
            env_vars=env,
            secrets_provider="passphrase",
        ),
    )
    result = stack.up(color="never")
    assert result.outputs["size"].value == len("hello from pulumi")
    assert target.read_text(encoding="utf-8") == "hello from pulumi"

    stack.destroy(color="never")
    assert not target.exists()
    stack.workspace.remove_stack("toolchain-test")
    assert "toolchain-test" not in [s.name for s in stack.workspace.list_stacks()]


def test_a_stack_created_in_its_files_is_one_the_cli_lists_updates_and_removes(
    toolchain: PulumiToolchain, tmp_path: Path
) -> None:
    """What `create_stack_files` writes is a stack to the real CLI: listed with no update yet, its first
    `up` makes the passphrase salt (in the stack's config file, as `stack init` would have) and deploys."""
    from pulumi import automation as auto

    from orchestrator.infrastructure.pulumi.event_outputs import EventOutputStack

    backend = tmp_path / "backend"
    backend.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    assert create_stack_files(backend, "torrust-deploy-toolchain-test", "written")

    def program() -> None:
        import pulumi

        pulumi.export("greeting", "hello")

    workspace = auto.LocalWorkspace(
        work_dir=str(work),
        program=program,
        pulumi_command=toolchain.command(),
        project_settings=auto.ProjectSettings(
            name="torrust-deploy-toolchain-test", runtime="python", backend=auto.ProjectBackend(url=backend.as_uri())
        ),
        env_vars={**toolchain.environment(), "PULUMI_CONFIG_PASSPHRASE": ""},
    )
    [listed] = workspace.list_stacks()
    assert (listed.name, listed.last_update, listed.resource_count) == ("written", None, None)

    stack = EventOutputStack.written("written", workspace)
    assert stack.created
    result = stack.up(color="never")
    assert result.outputs["greeting"].value == "hello"
    assert "encryptionsalt: v1:" in (work / "Pulumi.written.yaml").read_text(encoding="utf-8")
    [checkpoint] = checkpoint_files(backend, "written")
    assert read_checkpoint(checkpoint)["checkpoint"]["latest"]["secrets_providers"]["type"] == "passphrase"

    stack.destroy(color="never")
    workspace.remove_stack("written")
    assert workspace.list_stacks() == []
