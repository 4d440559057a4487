"""`register ENV --lxd-instance NAME` adopts an instance made with `lxc launch` (cloud-init giving it the
environment's user and key): imported into the environment's stack as it is — same instance — and managed
from then on: `provision` converges it in place and `destroy` deletes it. A name that is not the
environment's instance changes nothing; a registration that fails after the import lets go of the instance."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from orchestrator.api import Deployer
from orchestrator.commands.register import LxdInstanceNameMismatchError, RegisterLxdInstanceFailedError
from orchestrator.config import EnvironmentConfig
from orchestrator.domain import Created, Destroyed, Provisioned, ProvisionFailed, ProvisionStep
from orchestrator.infrastructure.pulumi.stacks import load_environment_module, stack_spec
from tests.support.cli import run_cli
from tests.support.e2e import MakeConfig, ssh_run
from tests.support.keys import make_keypair

pytestmark = pytest.mark.e2e


def _lxc(*args: str) -> str:
    return subprocess.run(["lxc", *args], capture_output=True, text=True, check=True).stdout.strip()


def _launch(deployer: Deployer, config: EnvironmentConfig, image: str) -> str:
    """`lxc launch` of the environment's instance by hand, with the environment's cloud-init user-data."""
    environment = deployer.show(config.name)
    user_data = load_environment_module().cloud_init_user_data(stack_spec(environment.context))
    instance = environment.context.instance_name
    pool = environment.context.lxd.storage_pool  # where the environment's profile puts the root disk
    _lxc("launch", image, instance, "--storage", pool, "-c", f"user.user-data={user_data}")
    return instance


def test_an_instance_made_with_lxc_launch_is_imported_as_it_is_then_managed_and_destroyed(
    tmp_path: Path, deployer: Deployer, make_config: MakeConfig, lxd_client: Any, lab: Any
) -> None:
    config = make_config("e2e-adopt")
    deployer.create(config)
    instance = _launch(deployer, config, lab.image_alias)
    uuid = _lxc("config", "get", instance, "volatile.uuid")

    work = deployer.layout.working_dir
    registered = run_cli(work, "register", config.name, "--lxd-instance", instance, json_output=True)

    assert registered.exit_code == 0, registered.output
    adopted = deployer.show(config.name)
    assert isinstance(adopted.state, Provisioned) and not adopted.context.registered
    ip = adopted.instance_ip
    assert ip is not None and ssh_run(config, ip, "true").returncode == 0
    assert _lxc("config", "get", instance, "volatile.uuid") == uuid
    assert list(lxd_client.instances.get(instance).profiles) == ["default"], "imported as it is"

    converged = deployer.provision(config.name)  # managed: the program's profile, applied in place
    assert converged.instance_ip == ip and _lxc("config", "get", instance, "volatile.uuid") == uuid
    assert list(lxd_client.instances.get(instance).profiles) == [converged.context.profile_name]

    assert isinstance(deployer.destroy(config.name).state, Destroyed)
    assert not lxd_client.instances.exists(instance), "unlike register --ip, destroy deletes it"


def test_an_instance_that_is_not_the_environment_s_is_refused_before_anything_changes(
    deployer: Deployer, make_config: MakeConfig
) -> None:
    config = make_config("e2e-adoptname")
    deployer.create(config)
    with pytest.raises(LxdInstanceNameMismatchError, match="not 'somebody-else'") as raised:
        deployer.register(config.name, lxd_instance="somebody-else")
    assert "instance_name: somebody-else" in raised.value.tip
    assert isinstance(deployer.show(config.name).state, Created)


def test_a_registration_that_fails_after_the_import_lets_go_of_the_instance(
    tmp_path: Path, make_config: MakeConfig, lxd_client: Any, lab: Any
) -> None:
    other = make_keypair(tmp_path / "other_key")
    config = make_config("e2e-adoptfail", public_key=other.public_key_path)  # the instance gets the other key
    deployer = Deployer(working_dir=tmp_path / "work", ssh_timeout_s=15.0)
    deployer.create(config)
    instance = _launch(deployer, config, lab.image_alias)
    with pytest.raises(RegisterLxdInstanceFailedError) as raised:
        deployer.register(config.name, lxd_instance=instance)
    assert raised.value.failure.step is ProvisionStep.WAIT_SSH
    assert "let go" in raised.value.tip
    assert isinstance(deployer.show(config.name).state, ProvisionFailed)
    backend = deployer.layout.pulumi_backend_dir(config.name) / ".pulumi" / "stacks" / "torrust-deploy"
    checkpoint = json.loads((backend / f"{config.name}.json").read_text(encoding="utf-8"))["checkpoint"]["latest"]
    assert [item["type"] for item in checkpoint["resources"]] == ["pulumi:pulumi:Stack"]

    assert isinstance(deployer.destroy(config.name).state, Destroyed)
    assert lxd_client.instances.exists(instance), "not managed: destroy left it alone"
