"""Errors of the local LXD lab. Each carries a one-line ``tip``; the CLI only prints them."""

from __future__ import annotations

from orchestrator.infrastructure.debian_packages import AptInstallError


class LabError(Exception):
    """Base of every error the lab raises on purpose."""

    default_tip = "Run `torrust-deploy lab status` to see what is in place."

    def __init__(self, message: str, *, tip: str | None = None, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.tip = tip or self.default_tip
        #: Tool output (tail of a log, apt output…) that explains the failure; may be empty.
        self.detail = detail

    def __str__(self) -> str:
        return self.message


class NotRootError(LabError):
    default_tip = "Run the command as root (e.g. `sudo torrust-deploy lab up`)."


class InvalidSettingsError(LabError):
    default_tip = "Pass a host address with its prefix, e.g. `--ipv4-address 10.200.77.1/24`."


class PackageInstallError(LabError):
    default_tip = AptInstallError.default_tip


class DaemonStartError(LabError):
    default_tip = "Read the daemon log named above; `torrust-deploy lab down` stops what the lab started."


class DaemonNotRunningError(LabError):
    default_tip = "Start the lab first: `torrust-deploy lab up`."


class LxdConfigurationError(LabError):
    default_tip = "Inspect the daemon with `lxc network list` / `lxc storage list`, or re-run `lab up`."


class DebootstrapError(LabError):
    default_tip = (
        "Check that the Debian mirror is reachable and the suite exists; "
        "rebuild with `torrust-deploy lab image build --force`."
    )


class ImageBuildError(LabError):
    default_tip = "Rebuild with `torrust-deploy lab image build --force`; the output above says which step failed."


class ImageImportError(LabError):
    default_tip = "Check the daemon log; delete the cached tarball and rebuild with `lab image build --force`."


def tail(text: str, lines: int = 20) -> str:
    """The last ``lines`` lines of ``text`` (what an error shows of a tool's output)."""
    return "\n".join(text.rstrip().splitlines()[-lines:])
