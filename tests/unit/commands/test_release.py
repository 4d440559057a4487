"""ReleaseCommand with fake adapters: states, saves, failures, the token kept out of the playbooks'
variables, and a changed tracker config stored by a re-release."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from orchestrator.commands.errors import ReleaseFailedError
from orchestrator.commands.release import ReleaseCommand
from orchestrator.domain import (
    NoTrackerError,
    Released,
    ReleaseFailed,
    ReleaseStep,
    TrackerSettings,
)
from tests.support.fakes import (
    FakePlaybooks,
    FakeReleasePreparer,
    ToolError,
)
from tests.support.tracker_commands import NAME, configured, parts


def test_release_renders_then_uploads_and_loads_the_image_in_one_run_and_endsreleased(tmp_path: Path) -> None:
    p = parts(tmp_path)
    repo, playbooks, preparer, tokens, traces = p.repo, p.playbooks, p.preparer, p.tokens, p.traces
    env = configured(tmp_path)
    repo.save(env)

    released = ReleaseCommand(repo, playbooks, preparer, tokens, traces).execute(env)

    assert isinstance(released.state, Released)
    assert preparer.calls == ["prepare demo"]
    assert playbooks.calls == [
        "start upload-tracker-release.yml load-tracker-image.yml",
        "upload-tracker-release.yml",
        "load-tracker-image.yml",
        "stop",
    ]
    token = tokens.read(NAME)
    assert token is not None and all(token not in str(value) for value in playbooks.extravars[0].values())
    stored = repo.load(NAME)
    assert stored is not None and isinstance(stored.state, Released)


def test_a_re_release_with_new_settings_stores_them(tmp_path: Path) -> None:
    p = parts(tmp_path)
    repo, playbooks, preparer, tokens, traces = p.repo, p.playbooks, p.preparer, p.tokens, p.traces
    env = configured(tmp_path)
    repo.save(env)
    changed = replace(TrackerSettings(), announce_interval_s=300)

    released = ReleaseCommand(repo, playbooks, preparer, tokens, traces).execute(env, changed)

    stored = repo.load(NAME)
    assert released.context.tracker == changed
    assert stored is not None and stored.context.tracker == changed


def test_a_failed_upload_ends_release_failed_at_that_step_with_a_trace(tmp_path: Path) -> None:
    p = parts(tmp_path)
    repo, preparer, tokens, traces = p.repo, p.preparer, p.tokens, p.traces
    playbooks = FakePlaybooks(failing={"upload-tracker-release.yml": ToolError("copy failed", ["failed: copy"])})
    env = configured(tmp_path)
    repo.save(env)

    with pytest.raises(ReleaseFailedError) as raised:
        ReleaseCommand(repo, playbooks, preparer, tokens, traces).execute(env)

    failure = raised.value.failure
    assert failure.step is ReleaseStep.UPLOAD_RELEASE
    assert failure.trace_path is not None and "failed: copy" in failure.trace_path.read_text()
    assert "torrust-deploy release demo" in raised.value.tip
    stored = repo.load(NAME)
    assert stored is not None and isinstance(stored.state, ReleaseFailed)


def test_a_failed_render_ends_release_failed_before_any_playbook(tmp_path: Path) -> None:
    p = parts(tmp_path)
    repo, playbooks, tokens, traces = p.repo, p.playbooks, p.tokens, p.traces
    preparer = FakeReleasePreparer(fail=RuntimeError("cargo failed"))
    env = configured(tmp_path)
    repo.save(env)

    with pytest.raises(ReleaseFailedError) as raised:
        ReleaseCommand(repo, playbooks, preparer, tokens, traces).execute(env)

    assert raised.value.failure.step is ReleaseStep.RENDER_RELEASE
    assert "artifact status" in raised.value.tip
    assert playbooks.calls == []


def test_release_of_an_environment_without_a_tracker_is_refused(tmp_path: Path) -> None:
    p = parts(tmp_path)
    repo, playbooks, preparer, tokens, traces = p.repo, p.playbooks, p.preparer, p.tokens, p.traces
    env = configured(tmp_path, tracker=None)

    with pytest.raises(NoTrackerError) as raised:
        ReleaseCommand(repo, playbooks, preparer, tokens, traces).execute(env)

    assert "create template" in raised.value.tip
