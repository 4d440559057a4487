"""release: Configured → Releasing → Released | ReleaseFailed.

Also re-runs safely: from ReleaseFailed (retry) and from Released, Running or RunFailed (re-release: a new
version or config). The tracker keeps running meanwhile; `run` then brings it to the new release.

Steps: render the release on the controller (the image built once, the compose file, TOML and the env file
with the API token into `build/{env}/release/`) → upload it to the host → load the image there (no
registry). The two host steps are one ansible-playbook run (deploy's, when it runs them); both playbooks are
idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextlib import ExitStack
from functools import partial
from typing import Any

from orchestrator.commands.base import StateChangingCommand, StepFailedError, TraceWriter
from orchestrator.commands.errors import ReleaseFailedError
from orchestrator.commands.playbook_run import PlaybookRun
from orchestrator.commands.ports import CancelToken, PlaybookRunner, never_cancelled
from orchestrator.commands.progress import ProgressObserver
from orchestrator.commands.tracker_ports import ApiTokens, ReleasePreparer
from orchestrator.domain import Environment, Releasable, Released, ReleaseStep, TrackerSettings
from orchestrator.persistence import EnvironmentRepository

PLAYBOOKS = {
    ReleaseStep.UPLOAD_RELEASE: "upload-tracker-release.yml",
    ReleaseStep.LOAD_IMAGE: "load-tracker-image.yml",
}
RELEASE_PLAYBOOKS = list(PLAYBOOKS.values())
log = logging.getLogger("orchestrator.commands")


class ReleaseCommand(StateChangingCommand):
    def __init__(
        self,
        repository: EnvironmentRepository,
        playbooks: PlaybookRunner,
        preparer: ReleasePreparer,
        tokens: ApiTokens,
        traces: TraceWriter,
        observer: ProgressObserver | None = None,
        cancelled: CancelToken = never_cancelled,
    ) -> None:
        super().__init__(repository, traces, observer, cancelled)
        self._playbooks = playbooks
        self._preparer = preparer
        self._tokens = tokens
        self.changed_tasks = 0

    def execute(self, env: Environment[Releasable], tracker: TrackerSettings | None = None) -> Environment[Released]:
        """The run itself, under the caller's hold of the environment's lock; `tracker` replaces the
        environment's tracker settings (a changed config or version)."""
        return self.release(env, None, tracker)

    def prepare_ahead(self, env: Environment[Any]) -> Mapping[str, object] | None:
        """Render `env`'s release before the command runs, when its image is ready without a build, and
        return the playbooks' variables; None when it cannot be done now. `deploy` uses it to start one
        ansible process for all its playbooks (their variables are given when the process starts, and the
        upload reads the files as soon as it begins). The release step renders again, the same bytes, and
        reports whatever failed here."""
        if env.context.tracker is None:
            return None
        try:
            return self._preparer.prepare_ahead(env.context, self._tokens.get_or_create(env.name))
        except Exception as error:  # the release step meets the same error and reports it, in its state
            log.debug("release of %s not rendered ahead: %s", env.name, error)
            return None

    def release(
        self, env: Environment[Releasable], run: PlaybookRun | None, tracker: TrackerSettings | None = None
    ) -> Environment[Released]:
        """`execute`, waiting for its playbooks in `run` when given (one started with `prepare_ahead`'s
        variables), else in a run of its own."""
        releasing = env.start_releasing(tracker)
        self._saver.save(releasing)
        runner = self._steps("release", list(ReleaseStep))
        context = releasing.context
        self.changed_tasks = 0
        try:
            extravars: Mapping[str, object] = runner.run(
                ReleaseStep.RENDER_RELEASE,
                lambda: self._preparer.prepare(context, self._tokens.get_or_create(env.name), runner.sink),
            )
            with ExitStack() as own:
                playbooks = run or own.enter_context(
                    PlaybookRun(self._playbooks, context, RELEASE_PLAYBOOKS, extravars)
                )
                for step, playbook in PLAYBOOKS.items():
                    self.changed_tasks += runner.run(step, partial(playbooks.wait, playbook, runner.sink))
        except StepFailedError as failed:
            raise self._failed(failed, runner, env.name, releasing.fail_releasing, ReleaseFailedError) from failed.error
        released = releasing.complete_releasing()
        self._saver.save(released)
        return released
