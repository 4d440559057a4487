"""The plugin's IPv4 wait: it asks the instance's state only once the network has leased it an address."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_lxd.plugin import client as plugin_client
from pulumi_lxd.plugin.client import InstanceNotReadyError, dhcp_lease_granted, wait_for_ipv4

MAC = "00:16:3e:aa:bb:cc"


class _Leases:
    def __init__(self, instance: _Instance) -> None:
        self._instance = instance

    def get(self) -> Any:
        instance = self._instance
        instance.lease_calls += 1
        leased = instance.lease_calls > instance.lease_after
        leases = [{"hostname": "lxdbr0.gw", "hwaddr": "", "address": "10.0.0.1", "type": "gateway"}]
        if leased:
            leases.append({"hostname": instance.name, "hwaddr": MAC.upper(), "address": "10.0.0.7", "type": "dynamic"})
        return type("Response", (), {"json": lambda _self: {"metadata": leases}})()


class _Instance:
    """A pylxd instance as far as the wait reads it: its devices, config, state, and the network API."""

    def __init__(self, lease_after: int, devices: dict[str, Any] | None = None, refuse: bool = False) -> None:
        self.name = "web"
        self.lease_after = lease_after
        self.lease_calls = 0
        self.state_calls = 0
        self.expanded_devices = devices if devices is not None else {"eth0": {"type": "nic", "network": "lxdbr0"}}
        self.config = {"volatile.eth0.hwaddr": MAC}
        networks: dict[str, Any] = {} if refuse else {"lxdbr0": type("Network", (), {"leases": _Leases(self)})()}
        self.client = type("Client", (), {"api": type("Api", (), {"networks": networks})()})()

    def state(self) -> Any:
        self.state_calls += 1
        addresses = (
            [{"family": "inet", "scope": "global", "address": "10.0.0.7"}]
            if self.lease_calls > self.lease_after
            else []
        )
        return type("State", (), {"network": {"eth0": {"addresses": addresses}}})()


@pytest.fixture(autouse=True)
def _fast_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plugin_client, "POLL_INTERVAL_S", 0.0)


def test_the_state_is_asked_only_once_the_network_has_leased_the_instance_an_address() -> None:
    instance = _Instance(lease_after=5)

    assert wait_for_ipv4(instance, timeout_s=10) == "10.0.0.7"
    assert instance.lease_calls == 6
    assert instance.state_calls == 1


def test_without_a_managed_network_the_wait_asks_the_state() -> None:
    instance = _Instance(lease_after=0, devices={"eth0": {"type": "nic", "nictype": "bridged", "parent": "br0"}})
    instance.lease_calls = 1  # the state shows the address

    assert dhcp_lease_granted(instance) is None
    assert wait_for_ipv4(instance, timeout_s=10) == "10.0.0.7"
    assert instance.state_calls == 1


def test_a_static_address_or_a_refused_leases_call_cannot_tell() -> None:
    static = _Instance(
        lease_after=0, devices={"eth0": {"type": "nic", "network": "lxdbr0", "ipv4.address": "10.0.0.7"}}
    )
    assert dhcp_lease_granted(static) is None
    assert dhcp_lease_granted(_Instance(lease_after=0, refuse=True)) is None


def test_no_lease_until_the_deadline_is_not_ready_without_asking_the_state() -> None:
    instance = _Instance(lease_after=10**9)

    with pytest.raises(InstanceNotReadyError, match="no IPv4 address on eth0 within 0 s"):
        wait_for_ipv4(instance, timeout_s=0.05)
    assert instance.state_calls == 0
