"""Finds or builds the Pulumi CLI the Automation API drives — never downloads it from a site.

Order: a `pulumi` on PATH that is new enough (with the dynamic-provider plugin script beside it or on
PATH), else a CLI built earlier into the cache (`~/.cache/torrust-deploy/pulumi/<version>/bin`), else an
error whose tip lists the ways to get one. `build_pulumi_cli` builds it from Go modules with the
machine's `go` (the Go module proxy is the only source) through the shipped `build-pulumi-cli.sh`.

The LXD provider plugin `pulumi-resource-lxd` is this distribution's console script (`lxd_plugin_dir`):
every Pulumi run gets its directory on PATH, and the workspaces name it as the project's provider plugin.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.domain.errors import DeployError
from orchestrator.infrastructure.cache import cache_root

if TYPE_CHECKING:
    from pulumi import automation as auto

PULUMI_VERSION = "v3.274.1"
"""The CLI version `build_pulumi_cli` builds (served by the Go module proxy)."""

MINIMUM_VERSION = (3, 200, 0)
"""A CLI on PATH older than this is not used."""

PLUGIN_SCRIPT = "pulumi-resource-pulumi-python"
LXD_PLUGIN = "pulumi-resource-lxd"
BUILD_SCRIPT = Path(__file__).with_name("build-pulumi-cli.sh")


class ToolchainError(DeployError):
    """A Pulumi CLI could not be found or built."""

    tip = "Run `torrust-deploy toolchain build` to build the Pulumi CLI from Go modules."

    def __init__(self, message: str, tip: str | None = None) -> None:
        super().__init__(message, tip or type(self).tip)


class PulumiCliNotFoundError(ToolchainError):
    def __init__(self, cache_root: Path) -> None:
        super().__init__(
            f"no usable Pulumi CLI: none on PATH (>= {'.'.join(map(str, MINIMUM_VERSION))}) "
            f"and none built in {cache_root}"
        )
        self.tip = (
            "Run `torrust-deploy toolchain build` (needs `go`; builds from the Go module proxy, ~10 min once), "
            f"or put a pulumi >= {'.'.join(map(str, MINIMUM_VERSION))} and {PLUGIN_SCRIPT} on PATH."
        )


class LxdPluginNotFoundError(ToolchainError):
    def __init__(self, looked_in: list[Path]) -> None:
        super().__init__(
            f"the LXD provider plugin {LXD_PLUGIN} is not installed (looked in {', '.join(map(str, looked_in))} "
            "and on PATH)",
            f"Reinstall torrust-deploy (`pip install -e .` in the checkout): it installs {LXD_PLUGIN} as a console "
            "script beside its Python.",
        )


class PulumiBuildError(ToolchainError):
    def __init__(self, detail: str) -> None:
        super().__init__(f"building the Pulumi CLI failed: {detail}")
        self.tip = "Check that `go version` works and the Go module proxy is reachable; the full build output is above."


@dataclass(frozen=True)
class PulumiToolchain:
    """A Pulumi CLI and the directory holding it (with the dynamic-provider plugin script)."""

    cli: Path
    version: str

    @property
    def bin_dir(self) -> Path:
        return self.cli.parent

    @property
    def root(self) -> Path:
        """The `root` PulumiCommand expects: the CLI is `root/bin/pulumi`."""
        return self.cli.parent.parent

    def environment(self) -> dict[str, str]:
        """Variables every Pulumi run gets: the CLI's and the LXD plugin's directories first on PATH, no
        update check, no plugin download, no package registry lookup, this interpreter."""
        directories = list(dict.fromkeys([str(self.bin_dir), str(lxd_plugin_dir())]))
        return {
            "PATH": os.pathsep.join([*directories, os.environ.get("PATH", "")]),
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_DISABLE_REGISTRY_RESOLVE": "true",
            "PULUMI_PYTHON_CMD": sys.executable,
        }

    def command(self) -> auto.PulumiCommand:
        """The explicit PulumiCommand handed to every Automation API workspace (one per CLI in this
        process), built from the version this toolchain has already read."""
        return _pulumi_command(str(self.root), self.version)


@functools.cache
def lxd_plugin_dir() -> Path:
    """The directory of this installation's `pulumi-resource-lxd` (its console scripts' directory, else
    the interpreter's, else the first on PATH)."""
    candidates = [Path(sysconfig.get_path("scripts")), Path(sys.executable).parent]
    for directory in candidates:
        if (directory / LXD_PLUGIN).is_file():
            return directory
    on_path = shutil.which(LXD_PLUGIN)
    if on_path:
        return Path(on_path).parent
    raise LxdPluginNotFoundError(candidates)


@functools.cache
def _pulumi_command(root: str, version: str) -> auto.PulumiCommand:
    """`PulumiCommand(root)` without its constructor's own `pulumi version` run (~0.1 s): the version was
    read (and checked against MINIMUM_VERSION) when the toolchain was found. Sets the same two attributes
    the constructor sets."""
    from pulumi import automation as auto
    from semver import VersionInfo

    command = auto.PulumiCommand.__new__(auto.PulumiCommand)
    command.command = os.path.join(root, "bin", "pulumi")
    command.version = VersionInfo.parse(version.removeprefix("v"))
    return command


def default_cache_root() -> Path:
    return cache_root() / "pulumi"


def parse_version(text: str) -> tuple[int, int, int] | None:
    match = re.search(r"v?(\d+)\.(\d+)\.(\d+)", text)
    if match is None:
        return None
    return (int(match[1]), int(match[2]), int(match[3]))


def cli_version(cli: Path) -> str | None:
    """What `pulumi version` prints, or None when it does not run or prints nothing (unstamped)."""
    try:
        out = subprocess.run(
            [str(cli), "version"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"},
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    version = out.stdout.strip()
    return version if out.returncode == 0 and parse_version(version) else None


def _usable(cli: Path) -> PulumiToolchain | None:
    version = cli_version(cli)
    if version is None or (parse_version(version) or (0, 0, 0)) < MINIMUM_VERSION:
        return None
    plugin_beside = cli.with_name(PLUGIN_SCRIPT)
    if not (plugin_beside.exists() or shutil.which(PLUGIN_SCRIPT)):
        return None
    return PulumiToolchain(cli=cli, version=version)


def cached_cli(cache_root: Path, version: str = PULUMI_VERSION) -> Path:
    return cache_root / version / "bin" / "pulumi"


def find_pulumi(cache_root: Path | None = None) -> PulumiToolchain:
    """The Pulumi CLI to use, or PulumiCliNotFoundError with a tip."""
    root = cache_root or default_cache_root()
    on_path = shutil.which("pulumi")
    if on_path:
        found = _usable(Path(on_path).resolve())
        if found:
            return found
    cached = cached_cli(root)
    marker = cached.parent.parent / ".complete"
    if marker.exists():
        found = _stamped(cached, marker) or _usable(cached)
        if found:
            _stamp(marker, found.version)
            return found
    raise PulumiCliNotFoundError(root)


def _stamped(cli: Path, marker: Path) -> PulumiToolchain | None:
    """The cached CLI with the version its build wrote into `.complete` after running it: no `pulumi
    version` run (~0.1 s of every command). None when the marker holds no usable version (older caches)."""
    try:
        version = marker.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    parsed = parse_version(version)
    if parsed is None or parsed < MINIMUM_VERSION or not os.access(cli, os.X_OK):
        return None
    if not cli.with_name(PLUGIN_SCRIPT).exists():
        return None
    return PulumiToolchain(cli=cli, version=version)


def _stamp(marker: Path, version: str) -> None:
    """Record the version in an older cache's empty marker (best effort)."""
    try:
        if not marker.read_text(encoding="utf-8").strip():
            marker.write_text(version + "\n", encoding="utf-8")
    except OSError:
        pass


def build_pulumi_cli(cache_root: Path | None = None, version: str = PULUMI_VERSION) -> PulumiToolchain:
    """Build the CLI from Go modules into the cache (a no-op when that version is already built)."""
    root = cache_root or default_cache_root()
    if shutil.which("go") is None:
        raise PulumiBuildError("`go` is not on PATH")
    result = subprocess.run(["bash", str(BUILD_SCRIPT), version, str(root)], check=False)
    if result.returncode != 0:
        raise PulumiBuildError(f"{BUILD_SCRIPT.name} exited with {result.returncode}")
    found = _usable(cached_cli(root, version))
    if found is None:
        raise PulumiBuildError(f"the built CLI in {cached_cli(root, version)} does not report a version")
    return found


def ensure_pulumi(cache_root: Path | None = None) -> PulumiToolchain:
    """Find a usable CLI, building it when there is none."""
    try:
        return find_pulumi(cache_root)
    except PulumiCliNotFoundError:
        return build_pulumi_cli(cache_root)
