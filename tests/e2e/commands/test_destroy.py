"""destroy on the real lab: the instance is deleted ahead of the engine and by it, the profile and the stack
are gone (the plain CLI lists no stack, the backend stays usable), an instance already gone is not an
error, and a failure of the engine ends DestroyFailed with its output in the trace, the retry finishing."""

from __future__ import annotations

import time
from typing import Any

import pytest

from orchestrator.api import Deployer
from orchestrator.commands.errors import DestroyFailedError
from orchestrator.domain import Destroyed, DestroyFailed, DestroyStep, Provisioned
from orchestrator.infrastructure.pulumi.checkpoint import checkpoint_files
from tests.support.e2e import MakeConfig, stacks_in_backend

pytestmark = pytest.mark.e2e

POOL = "lab-btrfs"


def _pool(lxd_client: Any) -> str:
    """The lab's copy-on-write pool when it has one, else the default profile's."""
    return POOL if any(pool.name == POOL for pool in lxd_client.storage_pools.all()) else "default"


def _provisioned(deployer: Deployer, make_config: MakeConfig, lxd_client: Any, prefix: str) -> Any:
    config = make_config(prefix, storage_pool=_pool(lxd_client))
    deployer.create(config)
    provisioned = deployer.provision(config.name)
    assert isinstance(provisioned.state, Provisioned)
    assert lxd_client.instances.get(provisioned.context.instance_name).status == "Running"
    return provisioned


def test_destroy_deletes_the_instance_and_profile_and_removes_the_stack(
    deployer: Deployer, make_config: MakeConfig, lxd_client: Any
) -> None:
    env = _provisioned(deployer, make_config, lxd_client, "e2e-destroy")
    name = str(env.name)
    assert stacks_in_backend(deployer, name) == [f"organization/torrust-deploy/{name}"]

    started = time.monotonic()
    destroyed = deployer.destroy(name)
    print(f"destroy wall time: {time.monotonic() - started:.2f} s")
    assert isinstance(destroyed.state, Destroyed)
    assert not lxd_client.instances.exists(env.context.instance_name)
    assert not lxd_client.profiles.exists(env.context.profile_name)
    backend = deployer.layout.pulumi_backend_dir(name)
    assert checkpoint_files(backend, name) == []
    assert stacks_in_backend(deployer, name) == []  # the backend stays a usable (empty) one
    assert not list((backend / ".pulumi" / "history").rglob("*.json"))

    again = deployer.destroy(name)  # a second destroy finds no stack: nothing to delete, no error
    assert isinstance(again.state, Destroyed)
    assert stacks_in_backend(deployer, name) == []  # and it made none


def test_destroy_of_an_instance_deleted_behind_the_tool_s_back_is_no_error(
    deployer: Deployer, make_config: MakeConfig, lxd_client: Any
) -> None:
    env = _provisioned(deployer, make_config, lxd_client, "e2e-gone")
    instance = lxd_client.instances.get(env.context.instance_name)
    instance.stop(force=True, wait=True)
    instance.delete(wait=True)

    assert isinstance(deployer.destroy(str(env.name)).state, Destroyed)
    assert not lxd_client.profiles.exists(env.context.profile_name)
    assert stacks_in_backend(deployer, str(env.name)) == []


def test_a_failed_engine_run_ends_destroy_failed_with_its_output_and_the_retry_finishes(
    deployer: Deployer, make_config: MakeConfig, lxd_client: Any
) -> None:
    """Another instance on the environment's profile: the instance is deleted (ahead of the engine and by
    it), then LXD refuses to delete the profile. Pulumi keeps the profile in the state; once the other
    instance is gone, destroy again finds the instance gone and finishes."""
    env = _provisioned(deployer, make_config, lxd_client, "e2e-fail")
    name = str(env.name)
    other = f"{env.context.instance_name}-other"
    lxd_client.instances.create(
        {
            "name": other,
            "source": {"type": "none"},
            "profiles": [env.context.profile_name],
        },
        wait=True,
    )
    try:
        with pytest.raises(DestroyFailedError) as raised:
            deployer.destroy(name)
        failed = deployer.show(name)
        assert isinstance(failed.state, DestroyFailed)
        assert failed.state.failure.step is DestroyStep.PULUMI_DESTROY
        trace = raised.value.trace_path
        assert trace is not None
        text = trace.read_text()
        assert "lxd:index:Profile" in text and "in use" in text.lower(), text[-2000:]
        assert not lxd_client.instances.exists(env.context.instance_name)
        assert lxd_client.profiles.exists(env.context.profile_name)
        assert stacks_in_backend(deployer, name) == [f"organization/torrust-deploy/{name}"]
    finally:
        lxd_client.instances.get(other).delete(wait=True)

    assert isinstance(deployer.destroy(name).state, Destroyed)
    assert not lxd_client.profiles.exists(env.context.profile_name)
    assert stacks_in_backend(deployer, name) == []
