"""Errors a command raises. Each carries its own tip; the CLI only renders them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from orchestrator.domain import (
    ConfigureStep,
    DeployError,
    DestroyStep,
    ExitCode,
    FailureContext,
    ProvisionStep,
    ReleaseStep,
)
from orchestrator.domain.failure import INTERRUPTED


class CommandFailedError(DeployError):
    """A command ran and failed; the environment was moved to a *Failed state (if it could be saved).
    Exit code 1, or 130 when Ctrl-C/SIGTERM stopped the step."""

    tip = "Read the trace file for the full error chain and tool output."
    command = "command"

    def __init__(self, environment: str, failure: FailureContext) -> None:
        message = f"{self.command} of '{environment}' failed at step {failure.step_name}: {failure.summary}"
        super().__init__(message, type(self).tip)
        self.environment = environment
        self.failure = failure
        if failure.error_kind == INTERRUPTED:
            self.exit_code = ExitCode.INTERRUPTED

    @property
    def trace_path(self) -> Path | None:
        return self.failure.trace_path


_PROVISION_TIPS = {
    ProvisionStep.PREPARE_STACK: "Check that the Pulumi CLI works (`torrust-deploy toolchain status`), then run "
    "`torrust-deploy provision {env}` again.",
    ProvisionStep.PULUMI_UP: "Check the LXD target: is the daemon up and does the image alias exist "
    "(`torrust-deploy lab status`, `lxc image list`)? Fix it, then run `torrust-deploy provision {env}` again, "
    "or `torrust-deploy destroy {env}`.",
    ProvisionStep.READ_OUTPUTS: "The stack has no instance address; run `torrust-deploy provision {env}` again.",
    ProvisionStep.RENDER_INVENTORY: "Check that the build directory is writable, then provision again.",
    ProvisionStep.WAIT_SSH: "Check that the private key matches the public key in the environment's config "
    "and that the instance's sshd is up; then `torrust-deploy destroy {env}` and create it again.",
    ProvisionStep.WAIT_CLOUD_INIT: "cloud-init did not finish cleanly; the trace has its status. "
    "Run `torrust-deploy provision {env}` again or destroy the environment.",
}


class ProvisionFailedError(CommandFailedError):
    command = "provision"

    def __init__(self, environment: str, failure: FailureContext) -> None:
        super().__init__(environment, failure)
        step = failure.step
        template = _PROVISION_TIPS.get(step, CommandFailedError.tip) if isinstance(step, ProvisionStep) else ""
        self.tip = template.format(env=environment) or CommandFailedError.tip


class ConfigureFailedError(CommandFailedError):
    command = "configure"

    def __init__(self, environment: str, failure: FailureContext) -> None:
        super().__init__(environment, failure)
        step = failure.step.value if isinstance(failure.step, ConfigureStep) else "configure"
        self.tip = (
            f"The playbook for {step} failed on the host; the trace has the ansible events. "
            f"Fix the cause, then run `torrust-deploy configure {environment}` again."
        )


class DestroyFailedError(CommandFailedError):
    command = "destroy"

    def __init__(self, environment: str, failure: FailureContext) -> None:
        super().__init__(environment, failure)
        step = failure.step.value if isinstance(failure.step, DestroyStep) else "destroy"
        self.tip = (
            f"Destroying failed at {step}; check the LXD target (`torrust-deploy lab status`), "
            f"then run `torrust-deploy destroy {environment}` again."
        )


class ReleaseFailedError(CommandFailedError):
    command = "release"

    def __init__(self, environment: str, failure: FailureContext) -> None:
        super().__init__(environment, failure)
        step = failure.step.value if isinstance(failure.step, ReleaseStep) else "release"
        if failure.step is ReleaseStep.RENDER_RELEASE:
            self.tip = (
                "Rendering the release or building the tracker image failed on this machine; the trace has the "
                "details (`torrust-deploy artifact status`). Fix it, then run "
                f"`torrust-deploy release {environment}`."
            )
        else:
            self.tip = (
                f"The playbook for {step} failed on the host; the trace has the ansible events. "
                f"Fix the cause, then run `torrust-deploy release {environment}` again."
            )


class RunFailedError(CommandFailedError):
    command = "run"

    def __init__(self, environment: str, failure: FailureContext) -> None:
        super().__init__(environment, failure)
        self.tip = (
            "The tracker did not come up healthy; the trace has its container's last log lines. Fix the config "
            f"(edit it and `torrust-deploy release {environment}`), then run `torrust-deploy run {environment}`."
        )


class TrackerTestFailedError(DeployError):
    """`test` ran and at least one check failed (exit code 1); the environment's state is unchanged."""

    def __init__(self, environment: str, failed: list[tuple[str, str]], checks: Sequence[object] = ()) -> None:
        names = ", ".join(name for name, _ in failed)
        first = failed[0][1] if failed else ""
        super().__init__(
            f"test of '{environment}' failed: {len(failed)} check(s) did not pass ({names}): {first}",
            f"Run `torrust-deploy show {environment}`, then `torrust-deploy run {environment}` to restart the "
            f"tracker (or `torrust-deploy deploy {environment}`).",
        )
        self.environment = environment
        self.failed = failed
        self.checks = tuple(checks)
