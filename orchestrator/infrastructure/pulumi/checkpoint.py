"""Reading an environment's Pulumi checkpoint file (file backend) without the CLI.

The file backend keeps a stack's latest state in `.pulumi/stacks/<project>/<stack>.json` (projects
layout, the default since Pulumi 3.61) or `.pulumi/stacks/<stack>.json` (the layout of backends made
before), gzipped as `….json.gz` when the CLI was told to compress the state. Pulumi is the one that
writes a stack's state: `create_stack_files` only writes a new stack that has none yet (as the first `up`
expects it), and `remove_stack_files` only removes a stack that records nothing any more.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

INSTANCE_TYPE: Final = "lxd:index:Instance"
PROVIDER_TYPE: Final = "pulumi:providers:lxd"
SUFFIXES: Final = (".json", ".json.gz")
CHECKPOINT_VERSION: Final = 3
"""The checkpoint format the Pulumi CLI writes and reads (`apitype.VersionedCheckpoint`)."""
PROJECTS_LAYOUT: Final = "version: 1\n"
"""A file backend's `.pulumi/meta.yaml` when its stacks are kept per project (the layout a new backend gets)."""


def checkpoint_files(backend_dir: Path, stack: str) -> list[Path]:
    """The checkpoint files of `stack` in either layout (none: the backend has no such stack)."""
    stacks = backend_dir / ".pulumi" / "stacks"
    return [
        path
        for pattern in ("*/{stack}{suffix}", "{stack}{suffix}")
        for suffix in SUFFIXES
        for path in stacks.glob(pattern.format(stack=stack, suffix=suffix))
        if path.is_file()
    ]


def read_checkpoint(path: Path) -> dict[str, Any]:
    raw = path.read_bytes()
    document: dict[str, Any] = json.loads(gzip.decompress(raw) if path.suffix == ".gz" else raw)
    return document


def _latest(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """The checkpoint's latest deployment (empty for a stack never deployed)."""
    latest: Mapping[str, Any] = (document.get("checkpoint") or {}).get("latest") or {}
    return latest


def latest_resources(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [item for item in _latest(document).get("resources") or [] if isinstance(item, dict)]


@dataclass(frozen=True)
class RecordedInstance:
    """An LXD instance the stack's state holds, that a `pulumi destroy` of the stack would delete."""

    name: str
    remote: str  # the provider's `remote` ("" = the local socket)


def _provider_ref_urn(reference: str) -> str:
    """`urn::id` → `urn` (a provider reference is the provider's URN and id joined by `::`)."""
    return reference.rsplit("::", 1)[0]


def instances_destroy_deletes(document: Mapping[str, Any]) -> list[RecordedInstance]:
    """The instances `pulumi destroy` of this state deletes through the provider: custom `lxd` instances with
    an id, not read-only (`external`), not protected (the destroy would fail), not retained on delete (it
    would leave them), not already pending deletion, whose provider is an `lxd` provider of the state on the
    local socket (no `socketPath`) or a `remote`."""
    resources = latest_resources(document)
    providers = {
        str(item.get("urn")): dict(item.get("inputs") or {}) for item in resources if item.get("type") == PROVIDER_TYPE
    }
    found: list[RecordedInstance] = []
    for item in resources:
        if item.get("type") != INSTANCE_TYPE or not item.get("custom") or not item.get("id"):
            continue
        if any(item.get(flag) for flag in ("external", "protect", "retainOnDelete", "delete")):
            continue
        inputs = providers.get(_provider_ref_urn(str(item.get("provider") or "")))
        if inputs is None or inputs.get("socketPath"):
            continue
        remote = inputs.get("remote") or ""
        if not isinstance(remote, str):  # a secret or unknown value: not for this reader
            continue
        found.append(RecordedInstance(name=str(item["id"]), remote=remote))
    return found


def records_resources(document: Mapping[str, Any]) -> bool:
    """Whether the state still holds resources or operations in flight (a destroyed stack holds neither)."""
    latest = _latest(document)
    return bool(latest.get("resources") or latest.get("pending_operations"))


def remove_stack_files(backend_dir: Path, checkpoint: Path) -> None:
    """Remove the stack whose checkpoint is `checkpoint` as `pulumi stack rm --force` does on a file backend:
    the checkpoint first (from then on the stack does not exist), then its backup, attribute and tags files
    beside it, and its `history` and `backups` directories. The backend itself stays usable (its `meta.yaml`,
    its lock directories and other stacks are left). The caller has checked that the state records nothing."""
    pulumi_dir = backend_dir / ".pulumi"
    name = checkpoint.name.removesuffix(".gz").removesuffix(".json")
    base = checkpoint.parent.relative_to(pulumi_dir / "stacks") / name  # `<project>/<stack>` or `<stack>`
    checkpoint.unlink(missing_ok=True)
    for pattern in (f"{name}.json*", f"{name}.pulumi-tags*"):
        for path in checkpoint.parent.glob(pattern):
            path.unlink(missing_ok=True)
    for kind in ("history", "backups"):
        directory = pulumi_dir / kind / base
        if directory.is_dir():
            shutil.rmtree(directory)


def create_stack_files(backend_dir: Path, project: str, stack: str) -> bool:
    """Create `stack` of `project` in the file backend without the CLI: a checkpoint with no deployment yet
    (`latest` null, what a backend reads as a stack never updated), in the projects layout. The first `up`
    then makes the stack's passphrase salt and writes its first deployment, as after `pulumi stack init`
    (which derives a passphrase key only to make that salt: ~0.4 s of CLI on this machine, measured by
    `python -m bench`, section deploy).

    Only a new backend (no `.pulumi` yet, which gets `meta.yaml` with the projects layout) or one already
    in the projects layout is written to; False leaves any other backend, or a stack that exists, to
    `pulumi stack init`. The checkpoint appears whole (a temporary file linked onto its name, never over
    an existing one) and, like the rest of the backend, is the owner's only."""
    pulumi_dir = backend_dir / ".pulumi"
    meta = pulumi_dir / "meta.yaml"
    if pulumi_dir.exists():
        if not meta.is_file() or meta.read_text(encoding="utf-8") != PROJECTS_LAYOUT:
            return False
    elif not backend_dir.is_dir():
        return False
    if checkpoint_files(backend_dir, stack):
        return False
    stacks = pulumi_dir / "stacks" / project
    for directory in (pulumi_dir, stacks.parent, stacks):
        directory.mkdir(exist_ok=True, mode=0o700)
    if not meta.exists():
        _write_new(meta, PROJECTS_LAYOUT.encode())
    document = {
        "version": CHECKPOINT_VERSION,
        "checkpoint": {"stack": f"organization/{project}/{stack}", "latest": None},
    }
    return _write_new(stacks / f"{stack}.json", json.dumps(document).encode())


def _write_new(path: Path, data: bytes) -> bool:
    """Write `path` whole and private (a temporary file beside it, mode 0600, fsync'd, linked onto the
    name); False, leaving it as it is, when `path` exists."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(temporary, path)  # unlike rename, never replaces a file another process created meanwhile
    except FileExistsError:
        return False
    finally:
        temporary.unlink()
    return True
