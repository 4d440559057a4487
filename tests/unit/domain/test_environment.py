from __future__ import annotations

import logging
import pickle
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from orchestrator.domain import (
    STATE_TYPES,
    STATE_TYPES_BY_TAG,
    AnyEnvironment,
    Configured,
    ConfigureFailed,
    ConfigureStep,
    Configuring,
    Created,
    Destroyed,
    DestroyFailed,
    Destroying,
    DestroyStep,
    Environment,
    FailureContext,
    InvalidFailureContextError,
    InvalidInstanceIpError,
    InvalidTransitionError,
    Provisioned,
    ProvisionFailed,
    Provisioning,
    ProvisionStep,
    RegisteredHostError,
    ReleaseStep,
    RunStep,
    State,
    WrongStateError,
    display_name,
)
from tests.support.environments import BUILDERS, IP, SSH, created, failure

ALL_TAGS = list(BUILDERS)


def test_new_environment_is_created_with_default_instance_and_lxd_target() -> None:
    env = created("staging")

    assert isinstance(env.state, Created)
    assert env.context.instance_name == "torrust-staging"
    assert env.context.lxd.image_alias == "torrust-trixie"
    assert env.context.ssh == SSH
    assert env.instance_ip is None
    assert env.context.created_at.tzinfo is not None
    assert env.last_seq == 1


def test_new_environment_records_the_create_transition() -> None:
    (transition,) = created().pending_transitions

    assert (transition.seq, transition.from_state, transition.to_state, transition.command) == (
        1,
        None,
        "created",
        "create",
    )
    assert transition.duration_in_previous_state_s is None


def test_happy_path_goes_created_to_configured_and_records_every_transition() -> None:
    env = created()
    provisioning = env.start_provisioning()
    provisioned = provisioning.complete_provisioning(IP)
    configuring = provisioned.start_configuring()
    configured = configuring.complete_configuring()

    assert [type(e.state) for e in (env, provisioning, provisioned, configuring, configured)] == [
        Created,
        Provisioning,
        Provisioned,
        Configuring,
        Configured,
    ]
    assert configured.instance_ip == IP
    assert [(t.seq, t.from_state, t.to_state, t.command) for t in configured.pending_transitions] == [
        (1, None, "created", "create"),
        (2, "created", "provisioning", "provision"),
        (3, "provisioning", "provisioned", "provision"),
        (4, "provisioned", "configuring", "configure"),
        (5, "configuring", "configured", "configure"),
    ]
    assert all((t.duration_in_previous_state_s or 0.0) >= 0.0 for t in configured.pending_transitions)
    assert configured.state_since == configured.pending_transitions[-1].at


def test_transitions_return_new_objects_and_leave_the_original_untouched() -> None:
    env = created()
    moved = env.start_provisioning()

    assert isinstance(moved.state, Provisioning)
    assert isinstance(env.state, Created)
    assert env.last_seq == 1
    assert len(env.pending_transitions) == 1
    with pytest.raises(AttributeError):
        cast(Any, env)._state = Provisioning()


def test_complete_provisioning_stores_the_normalized_ip() -> None:
    env = created().start_provisioning().complete_provisioning("10.0.0.1")

    assert env.context.instance_ip == "10.0.0.1"
    assert env.instance_ip == "10.0.0.1"


@pytest.mark.parametrize("ip", ["", "10.0.0", "localhost", "10.0.0.256"])
def test_complete_provisioning_rejects_a_value_that_is_not_an_ip(ip: str) -> None:
    with pytest.raises(InvalidInstanceIpError) as caught:
        created().start_provisioning().complete_provisioning(ip)

    assert caught.value.tip


@pytest.mark.parametrize(
    ("tag", "state_type", "step"),
    [
        ("provision_failed", ProvisionFailed, ProvisionStep.WAIT_CLOUD_INIT),
        ("configure_failed", ConfigureFailed, ConfigureStep.INSTALL_DOCKER_COMPOSE),
        ("destroy_failed", DestroyFailed, DestroyStep.PULUMI_DESTROY),
    ],
)
def test_fail_transitions_carry_the_failure_context(tag: str, state_type: type[State], step: Any) -> None:
    env = BUILDERS[tag]()

    assert isinstance(env.state, state_type)
    assert isinstance(env.state, ProvisionFailed | ConfigureFailed | DestroyFailed)
    assert env.state.failure.step is step
    assert env.pending_transitions[-1].step == env.state.failure.step_name


def test_fail_provisioning_rejects_a_failure_from_another_command() -> None:
    with pytest.raises(InvalidFailureContextError) as caught:
        created().start_provisioning().fail_provisioning(failure(ConfigureStep.INSTALL_DOCKER))

    assert "ProvisionStep" in str(caught.value)


@pytest.mark.parametrize("tag", ALL_TAGS)
def test_start_destroying_is_allowed_from_every_state(tag: str) -> None:
    env = BUILDERS[tag]()

    destroying = env.start_destroying()

    assert isinstance(destroying.state, Destroying)
    assert destroying.pending_transitions[-1].from_state == tag
    assert destroying.pending_transitions[-1].command == "destroy"


def test_complete_destroying_forgets_the_instance_ip() -> None:
    env = BUILDERS["configured"]().start_destroying()
    assert env.instance_ip == IP

    destroyed = env.complete_destroying()

    assert isinstance(destroyed.state, Destroyed)
    assert destroyed.instance_ip is None


# transition name -> (the states it accepts, extra arguments)
TRANSITIONS: dict[str, tuple[tuple[str, ...], tuple[Any, ...]]] = {
    "start_provisioning": (
        (
            "created",
            "provision_failed",
            "provisioned",
            "configured",
            "configure_failed",
            "released",
            "release_failed",
            "running",
            "run_failed",
        ),
        (),
    ),
    "start_registering": (("created",), ()),
    "complete_provisioning": (("provisioning",), (IP,)),
    "complete_registration": (("provisioning",), (IP,)),
    "fail_provisioning": (("provisioning",), (failure(ProvisionStep.PULUMI_UP),)),
    "start_configuring": (
        ("provisioned", "configure_failed", "configured", "released", "release_failed", "running", "run_failed"),
        (),
    ),
    "complete_configuring": (("configuring",), ()),
    "fail_configuring": (("configuring",), (failure(ConfigureStep.INSTALL_DOCKER),)),
    "start_releasing": (("configured", "release_failed", "released", "running", "run_failed"), ()),
    "complete_releasing": (("releasing",), ()),
    "fail_releasing": (("releasing",), (failure(ReleaseStep.UPLOAD_RELEASE),)),
    "start_running": (("released", "run_failed", "running"), ()),
    "complete_running": (("starting",), ()),
    "fail_running": (("starting",), (failure(RunStep.START_TRACKER),)),
    "complete_destroying": (("destroying",), ()),
    "fail_destroying": (("destroying",), (failure(DestroyStep.REMOVE_STACK),)),
}
WRONG_STATE_CALLS = [
    (transition, tag) for transition, (accepted, _) in TRANSITIONS.items() for tag in ALL_TAGS if tag not in accepted
]
RIGHT_STATE_CALLS = [(transition, tag) for transition, (accepted, _) in TRANSITIONS.items() for tag in accepted]


@pytest.mark.parametrize(("transition", "tag"), WRONG_STATE_CALLS)
def test_transition_on_a_wrong_state_raises_at_run_time(transition: str, tag: str) -> None:
    env: Any = BUILDERS[tag]()  # a loaded environment's static type may not match its state
    accepted, args = TRANSITIONS[transition]

    with pytest.raises(InvalidTransitionError) as caught:
        getattr(env, transition)(*args)

    required = " or ".join(accepted)
    assert str(caught.value) == (
        f"cannot {transition} environment 'e2e': it is in state {display_name(tag)}, and {transition} needs state "
        + " or ".join(display_name(state) for state in accepted)
    )
    assert caught.value.tip
    assert (caught.value.actual, caught.value.required) == (tag, required)


@pytest.mark.parametrize(("transition", "tag"), RIGHT_STATE_CALLS)
def test_transition_from_each_accepted_state_succeeds(transition: str, tag: str) -> None:
    env: Any = BUILDERS[tag]()
    _, args = TRANSITIONS[transition]

    moved = getattr(env, transition)(*args)

    assert moved.last_seq == env.last_seq + 1


def test_provisioning_a_registered_host_is_refused_with_a_tip_to_configure() -> None:
    registering = BUILDERS["created"]().require(Created).start_registering()
    registered: Any = registering.complete_registration(IP, ssh_port=2222)

    with pytest.raises(RegisteredHostError) as caught:
        registered.start_provisioning()

    assert "torrust-deploy configure e2e" in caught.value.tip


def test_registration_records_address_port_and_that_the_host_was_adopted() -> None:
    registering = BUILDERS["created"]().require(Created).start_registering()

    registered = registering.complete_registration(IP, ssh_port=2222)

    assert isinstance(registered.state, Provisioned)
    assert registered.instance_ip == IP
    assert registered.context.ssh.port == 2222
    assert registered.context.registered
    assert [t.command for t in registered.pending_transitions][-2:] == ["register", "register"]


def test_a_failure_at_an_unknown_step_records_an_interrupted_run() -> None:
    now = datetime.now(UTC)
    interrupted = FailureContext(
        step=None, error_kind="Interrupted", summary="process gone", started_at=now, failed_at=now
    )

    failed = BUILDERS["configuring"]().require(Configuring).fail_configuring(interrupted)

    assert failed.state.failure.step_name == "unknown"
    assert failed.pending_transitions[-1].step == "unknown"


@pytest.mark.parametrize("tag", ALL_TAGS)
def test_require_the_actual_state_returns_the_same_environment(tag: str) -> None:
    env = BUILDERS[tag]()

    assert env.require(STATE_TYPES_BY_TAG[tag]) is env


def test_require_narrows_a_loaded_environment_so_the_next_transition_type_checks() -> None:
    loaded: AnyEnvironment = BUILDERS["provisioned"]()

    configuring = loaded.require(Provisioned).start_configuring()

    assert isinstance(configuring.state, Configuring)


@pytest.mark.parametrize(
    ("tag", "required", "tip"),
    [
        ("created", Provisioned, "run `torrust-deploy provision e2e` first"),
        (
            "created",
            Configured,
            "run `torrust-deploy provision e2e` and then `torrust-deploy configure e2e` first",
        ),
        ("provisioned", Configured, "run `torrust-deploy configure e2e` first"),
        ("configured", Created, "'e2e' is already configured; run `torrust-deploy destroy e2e` to start over"),
        ("provision_failed", Provisioned, "provision of 'e2e' failed earlier"),
        ("configure_failed", Configured, "configure of 'e2e' failed earlier"),
        ("destroy_failed", Created, "re-run `torrust-deploy destroy e2e`"),
        ("provisioning", Provisioned, "a `provision` of 'e2e' is running, or was interrupted"),
        ("destroyed", Provisioned, "'e2e' was destroyed"),
    ],
)
def test_require_a_missing_state_says_which_command_to_run(tag: str, required: type[State], tip: str) -> None:
    env = BUILDERS[tag]()

    with pytest.raises(WrongStateError) as caught:
        env.require(required)

    assert str(caught.value) == (
        f"environment 'e2e' is in state {display_name(tag)}, but this needs state {required.__name__}"
    )
    assert tip in caught.value.tip
    assert caught.value.required is required
    assert caught.value.actual == tag


def test_domain_errors_survive_pickling_with_their_tip() -> None:
    with pytest.raises(WrongStateError) as caught:
        created().require(Provisioned)

    copy = pickle.loads(pickle.dumps(caught.value))

    assert (str(copy), copy.tip, copy.required) == (str(caught.value), caught.value.tip, Provisioned)


def test_every_state_has_a_distinct_tag() -> None:
    assert len({cls.tag for cls in STATE_TYPES}) == len(STATE_TYPES) == 16


def test_restore_rebuilds_an_equal_environment_without_pending_transitions() -> None:
    env = BUILDERS["configure_failed"]()

    restored = Environment.restore(env.context, env.state, state_since=env.state_since, last_seq=env.last_seq)

    assert restored == env
    assert hash(restored) == hash(env)
    assert restored.pending_transitions == ()


def test_restore_refuses_a_provisioned_environment_without_ip() -> None:
    env = BUILDERS["created"]()

    with pytest.raises(InvalidInstanceIpError):
        Environment.restore(env.context, Provisioned(), state_since=datetime.now(UTC), last_seq=3)


def test_each_transition_emits_one_structured_log_event(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="orchestrator.transitions")

    env = created("logged").start_provisioning()
    env.fail_provisioning(failure(ProvisionStep.WAIT_SSH))

    records = [r for r in caplog.records if r.name == "orchestrator.transitions"]
    assert [(r.environment, r.from_state, r.to_state) for r in records] == [  # type: ignore[attr-defined]
        ("logged", None, "created"),
        ("logged", "created", "provisioning"),
        ("logged", "provisioning", "provision_failed"),
    ]
    assert records[0].duration_s is None  # type: ignore[attr-defined]
    assert all(r.duration_s >= 0.0 for r in records[1:])  # type: ignore[attr-defined]
    assert records[2].step == "wait_ssh"  # type: ignore[attr-defined]
    assert records[1].getMessage().startswith("environment logged: created -> provisioning after ")


def test_require_does_not_log_anything(caplog: pytest.LogCaptureFixture) -> None:
    env = created()
    caplog.set_level(logging.DEBUG, logger="orchestrator.transitions")

    env.require(Created)

    assert caplog.records == []
