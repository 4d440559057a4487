"""The states each command starts from agree in their two forms: the type alias mypy checks
(`Provisionable`, …) and the run-time tuple derived from `ACCEPTED` in the vocabulary (`PROVISIONABLE`, …)."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from orchestrator.domain import environment, vocabulary
from orchestrator.domain.states import State, states_accepted_by

PAIRS = [
    ("provision", environment.Provisionable, environment.PROVISIONABLE),
    ("configure", environment.Configurable, environment.CONFIGURABLE),
    ("release", environment.Releasable, environment.RELEASABLE),
    ("run", environment.Runnable, environment.RUNNABLE),
]


@pytest.mark.parametrize(("command", "alias", "accepted"), PAIRS, ids=[pair[0] for pair in PAIRS])
def test_the_type_alias_and_the_vocabulary_name_the_same_states(
    command: str, alias: Any, accepted: tuple[type[State], ...]
) -> None:
    assert set(get_args(alias)) == set(accepted) == set(states_accepted_by(command))
    assert [state.tag for state in accepted] == list(vocabulary.ACCEPTED[command])
