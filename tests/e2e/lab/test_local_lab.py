"""The local LXD lab for real: a container from the project's image boots, gets an address on the
lab's bridge, finishes cloud-init and accepts SSH; a second `up` changes nothing."""

from __future__ import annotations

import ipaddress
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from orchestrator.infrastructure.pulumi.lxd_provider import wait_for_ipv4
from orchestrator.infrastructure.ssh.wait import ssh_command
from orchestrator.lab.local_lab import Lab, LabStatus
from tests.support.keys import SshKeypair

pytestmark = pytest.mark.e2e

USER = "torrust"


def _user_data(public_key: str) -> str:
    return (
        "#cloud-config\n"
        "users:\n"
        f"  - name: {USER}\n"
        "    shell: /bin/bash\n"
        "    sudo: ALL=(ALL) NOPASSWD:ALL\n"
        "    ssh_authorized_keys:\n"
        f"      - {public_key}\n"
    )


def _client(lab: LabStatus) -> Any:
    import pylxd

    return pylxd.Client(endpoint=str(lab.settings.socket_path))


@contextmanager
def launched_container(lab: LabStatus, user_data: str) -> Iterator[Any]:
    """A started container from the lab's image; deleted on exit, also when the body fails."""
    client = _client(lab)
    name = f"e2e-lab-{uuid.uuid4().hex[:8]}"
    config = {
        "name": name,
        "source": {"type": "image", "alias": lab.image_alias},
        "profiles": ["default"],
        "config": {"user.user-data": user_data},
    }
    instance = client.instances.create(config, wait=True)
    try:
        instance.start(wait=True)
        yield instance
    finally:
        instance.sync()
        if instance.status != "Stopped":
            instance.stop(force=True, wait=True)
        instance.delete(wait=True)


def _eth0_ipv4(instance: Any, timeout: float = 60.0) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(wait_for_ipv4(instance, timeout))


def _ssh(
    keypair: SshKeypair, ip: ipaddress.IPv4Address, command: str, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    """``command`` over SSH as the cloud-init user, retried until it succeeds or ``timeout`` passes."""
    argv = ssh_command(str(ip), 22, USER, keypair.private_key, command)
    deadline = time.monotonic() + timeout
    while True:
        result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30)
        if result.returncode == 0 or time.monotonic() > deadline:
            return result
        time.sleep(1)


def test_container_from_lab_image_gets_bridge_ipv4_finishes_cloud_init_and_accepts_ssh(
    lab: LabStatus, ssh_keypair: SshKeypair
) -> None:
    started = time.monotonic()
    with launched_container(lab, _user_data(ssh_keypair.public_key)) as instance:
        name = instance.name

        ip = _eth0_ipv4(instance)
        print(f"IPv4 {ip} after {time.monotonic() - started:.1f} s")
        assert ip in ipaddress.IPv4Network(lab.subnet)

        result = _ssh(ssh_keypair, ip, "true")
        print(f"SSH as {USER} after {time.monotonic() - started:.1f} s")
        assert result.returncode == 0, result.stderr

        # Over SSH, as the product reads it: pylxd's `execute` runs on ws4py websockets, whose manager
        # thread can raise on close (a warning in the run, not a failure).
        status = _ssh(ssh_keypair, ip, "cloud-init status --wait")
        print(f"cloud-init finished after {time.monotonic() - started:.1f} s: {status.stdout.strip()}")
        assert "status: done" in status.stdout, (status.returncode, status.stdout, status.stderr)

    assert not _client(lab).instances.exists(name), f"{name} was not deleted"


def test_container_is_deleted_even_when_the_test_body_fails(lab: LabStatus) -> None:
    names: list[str] = []
    with pytest.raises(RuntimeError), launched_container(lab, "#cloud-config\n{}\n") as instance:
        names.append(instance.name)
        raise RuntimeError("the body failed")

    assert names
    assert not _client(lab).instances.exists(names[0])


def test_second_up_on_a_ready_lab_changes_nothing(lab: LabStatus) -> None:
    the_lab = Lab(lab.settings)
    before = the_lab.status()
    messages: list[str] = []

    started = time.monotonic()
    returned = the_lab.up(progress=messages.append)
    elapsed = time.monotonic() - started
    print(f"second `lab up` took {elapsed:.2f} s")

    after = the_lab.status()
    assert after == before
    assert returned == before
    assert after.image_fingerprint == before.image_fingerprint
    assert (after.lxd.pid, after.lxcfs.pid) == (before.lxd.pid, before.lxcfs.pid)
    assert not any(word in m for m in messages for word in ("starting", "installing", "applied", "imported")), messages


def _subvolume_field(path: str, field: str) -> str:
    shown = subprocess.run(["btrfs", "subvolume", "show", path], capture_output=True, text=True, check=True).stdout
    for line in shown.splitlines():
        key, _, value = line.strip().partition(":")
        if key == field:
            return value.strip()
    raise AssertionError(f"no {field} in `btrfs subvolume show {path}`:\n{shown}")


def test_an_instance_on_a_btrfs_lab_pool_is_a_snapshot_of_the_unpacked_image(lab: LabStatus) -> None:
    if lab.storage_pool_driver != "btrfs":
        pytest.skip(f"the lab's pool {lab.storage_pool} is {lab.storage_pool_driver}, not btrfs")
    assert lab.image_on_pool, "`lab up` leaves the image unpacked on a btrfs pool"
    assert lab.image_fingerprint is not None
    pool_dir = lab.settings.lxd_dir / "storage-pools" / lab.storage_pool
    with launched_container(lab, "#cloud-config\n{}\n") as instance:
        image_uuid = _subvolume_field(str(pool_dir / "images" / lab.image_fingerprint), "UUID")
        parent = _subvolume_field(str(pool_dir / "containers" / instance.name), "Parent UUID")

    assert parent == image_uuid


def test_status_of_a_lab_says_how_its_pool_stores_instances(lab: LabStatus) -> None:
    assert lab.storage_pool_driver is not None
    assert lab.copy_on_write == (lab.storage_pool_driver in ("btrfs", "zfs", "lvm"))
    if lab.storage_pool_driver == "dir" and lab.btrfs_available:
        assert lab.storage_hint is not None and "--storage-pool" in lab.storage_hint
