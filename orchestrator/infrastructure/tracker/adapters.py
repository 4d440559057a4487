"""The tracker adapters the commands use: the release preparer (image + rendered files) and the checks.

`TrackerReleasePreparer` has the image ready — built once with cargo and packaged without any registry
(`artifact.TrackerArtifacts`), or the registry reference the config names — and renders the release into
`build/{env}/release/`. `TrackerProbe` talks to the running tracker from the controller (`probe`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from orchestrator.domain import EnvironmentContext, TrackerSettings
from orchestrator.infrastructure.tracker.artifact import TrackerArtifacts, image_tag
from orchestrator.infrastructure.tracker.probe import CheckResult, check_health, run_checks
from orchestrator.infrastructure.tracker.release import (
    TrackerImageSource,
    release_extravars,
    release_files,
    render_release,
)
from orchestrator.layout import WorkingDirLayout

LineSink = Callable[[str], None]
_HEALTH_POLL_S = 0.25


class TrackerNotConfiguredError(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(f"environment '{name}' has no tracker section")


class TrackerHealthTimeoutError(Exception):
    """The health-check endpoint did not answer Ok in time."""


def _tracker(context: EnvironmentContext) -> TrackerSettings:
    if context.tracker is None:
        raise TrackerNotConfiguredError(str(context.name))
    return context.tracker


def _address(context: EnvironmentContext) -> str:
    if not context.instance_ip:
        raise TrackerHealthTimeoutError(f"environment '{context.name}' has no instance address")
    return context.instance_ip


class TrackerReleasePreparer:
    """Renders an environment's release (compose file, TOML, env file) and has its image ready."""

    def __init__(self, layout: WorkingDirLayout, artifacts: TrackerArtifacts | None = None) -> None:
        self._layout = layout
        self._artifacts = artifacts

    @property
    def artifacts(self) -> TrackerArtifacts:
        if self._artifacts is None:
            self._artifacts = TrackerArtifacts()
        return self._artifacts

    def image_source(self, settings: TrackerSettings, on_output: LineSink) -> TrackerImageSource:
        """The registry reference the config names, or the image built and packaged here (once)."""
        if settings.image is not None:
            return TrackerImageSource.registry(settings.image)
        image = self.artifacts.ensure_image(settings.version)
        on_output(f"tracker image {image.tag}: {image.archive} ({image.size / 1e6:.1f} MB)")
        return TrackerImageSource.from_artifact(image)

    def ready_image_source(self, settings: TrackerSettings) -> TrackerImageSource | None:
        """`image_source` when it needs no build or packaging (a cache hit, or a registry reference)."""
        if settings.image is not None:
            return TrackerImageSource.registry(settings.image)
        image = self.artifacts.status(settings.version).image
        return TrackerImageSource.from_artifact(image) if image is not None else None

    def prepare(self, context: EnvironmentContext, api_token: str, on_output: LineSink) -> Mapping[str, object]:
        source = self.image_source(_tracker(context), on_output)
        return self._render(context, source, api_token, on_output)

    def prepare_ahead(self, context: EnvironmentContext, api_token: str) -> Mapping[str, object] | None:
        source = self.ready_image_source(_tracker(context))
        return None if source is None else self._render(context, source, api_token, lambda _line: None)

    def variables(self, context: EnvironmentContext) -> Mapping[str, object]:
        settings = _tracker(context)
        # without a cached image (deleted since the release), the tag alone: the host has the image already
        source = self.ready_image_source(settings) or TrackerImageSource.registry(image_tag(settings.version))
        return release_extravars(release_files(self._release_dir(context)), source)

    def _release_dir(self, context: EnvironmentContext) -> Path:
        return self._layout.environment_build_dir(str(context.name)) / "release"

    def _render(
        self, context: EnvironmentContext, source: TrackerImageSource, api_token: str, on_output: LineSink
    ) -> Mapping[str, object]:
        files = render_release(_tracker(context), source.tag, api_token, self._release_dir(context))
        on_output(f"release rendered into {files.directory}")
        return release_extravars(files, source)


class TrackerProbe:
    """The running tracker, as the controller reaches it."""

    def __init__(self, timeout_s: float = 5.0) -> None:
        self._timeout_s = timeout_s

    def wait_healthy(self, context: EnvironmentContext, timeout_s: float) -> float:
        settings, host = _tracker(context), _address(context)
        began = time.monotonic()
        while True:
            result = check_health(host, settings.health_check_port, min(self._timeout_s, 2.0))
            if result.ok:
                return time.monotonic() - began
            if time.monotonic() - began > timeout_s:
                raise TrackerHealthTimeoutError(
                    f"the tracker's health check at {host}:{settings.health_check_port} did not pass within "
                    f"{timeout_s:.0f} s: {result.detail}"
                )
            time.sleep(_HEALTH_POLL_S)

    def health(self, context: EnvironmentContext) -> CheckResult:
        return check_health(_address(context), _tracker(context).health_check_port, 2.0)

    def run_checks(self, context: EnvironmentContext, api_token: str) -> Sequence[CheckResult]:
        return run_checks(_address(context), _tracker(context), api_token, self._timeout_s)
