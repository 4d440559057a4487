"""The tracker's transitions are rejected from the states they do not start from."""

from orchestrator.domain import Created, Environment, Provisioned, Released, Releasing


def created() -> Environment[Created]:
    raise NotImplementedError


def provisioned() -> Environment[Provisioned]:
    raise NotImplementedError


def released() -> Environment[Released]:
    raise NotImplementedError


def releasing() -> Environment[Releasing]:
    raise NotImplementedError


created().start_releasing()  # E: "Environment[Created]" to attribute function "start_releasing"
provisioned().start_releasing()  # E: "Environment[Provisioned]" to attribute function "start_releasing"
created().start_running()  # E: "Environment[Created]" to attribute function "start_running"
releasing().start_running()  # E: "Environment[Releasing]" to attribute function "start_running"
released().complete_running()  # E: "Environment[Released]" to attribute function "complete_running"
