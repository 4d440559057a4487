"""The migration of an HTTPS environment's old stack hands the client key to `pulumi stack import` as a
secret: the backend then holds it encrypted, never in plain text (the real CLI, no LXD needed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from orchestrator.infrastructure.pulumi.migration import translate
from orchestrator.infrastructure.pulumi.stacks import project_settings
from orchestrator.infrastructure.pulumi.toolchain import find_pulumi, lxd_plugin_dir

pytestmark = pytest.mark.e2e
RECORDED = Path(__file__).parents[3] / "unit" / "infrastructure" / "pulumi" / "fixtures" / "dynamic-provider-stack.json"
KEY = "-----BEGIN PRIVATE KEY-----\nTHE-CLIENT-KEY-BODY\n-----END PRIVATE KEY-----\n"


def test_a_migrated_https_stack_holds_the_client_key_encrypted(tmp_path: Path) -> None:
    files = {"client_cert": "CERT", "client_key": KEY, "server_cert": "SERVER"}
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    recorded: dict[str, Any] = json.loads(RECORDED.read_text(encoding="utf-8"))
    for item in recorded["resources"]:
        if item["type"] == "pulumi-python:dynamic:Resource":
            for key in ("inputs", "outputs"):
                item[key].update({"endpoint": "https://lxd.example:8443"})
                item[key].update({name: str(tmp_path / name) for name in files})
    backend, work = tmp_path / "backend", tmp_path / "work"
    backend.mkdir()
    work.mkdir()
    toolchain = find_pulumi()
    workspace = auto.LocalWorkspace(
        work_dir=str(work),
        pulumi_command=toolchain.command(),
        project_settings=project_settings(backend.as_uri(), lxd_plugin_dir()),
        env_vars={**toolchain.environment(), "PULUMI_CONFIG_PASSPHRASE": ""},
        secrets_provider="passphrase",
        program=lambda: None,
    )
    stack = auto.Stack.create("mig-rec", workspace)
    secrets_providers = dict(stack.export_stack().deployment or {})["secrets_providers"]
    migrated = translate({**recorded, "secrets_providers": secrets_providers})

    stack.import_stack(auto.Deployment(version=3, deployment=migrated))

    stored = "\n".join(path.read_text(encoding="utf-8") for path in backend.rglob("*.json"))
    assert "THE-CLIENT-KEY-BODY" not in stored
    checkpoint = json.loads(next(backend.rglob("stacks/*/mig-rec.json")).read_text(encoding="utf-8"))
    provider = next(r for r in checkpoint["checkpoint"]["latest"]["resources"] if r["type"] == "pulumi:providers:lxd")
    assert set(provider["inputs"]["clientKey"]) == {"4dabf18193072939515e22adb298388d", "ciphertext"}
    assert provider["inputs"]["remote"] == "https://lxd.example:8443" and provider["inputs"]["clientCert"] == "CERT"
    exported = dict(stack.export_stack().deployment or {})
    assert exported["resources"][1]["inputs"]["clientKey"]["plaintext"] == json.dumps(KEY)  # shown on export
