"""The LXD preseed the lab applies, and the comparison that says whether it must be applied.

``lxd init --preseed`` creates what is missing and merges config into what exists (a bridge that
exists with another address gets the configured one). :func:`ensure_preseed` applies it only when
:func:`needed_changes` finds a difference, so a second ``lab up`` leaves the daemon untouched. A missing
storage pool is created with the driver :mod:`.storage` picks (btrfs where the kernel has it); an existing
one is left out of the preseed (its driver cannot change).
"""

from __future__ import annotations

import ipaddress
import subprocess
from collections.abc import Callable
from typing import Any

import yaml

from orchestrator.lab.daemons import daemon_env
from orchestrator.lab.errors import InvalidSettingsError, LxdConfigurationError, tail
from orchestrator.lab.lxd_api import LxdApi, LxdSnapshot
from orchestrator.lab.settings import LabSettings
from orchestrator.lab.storage import (
    check_profile_move,
    driver_problem,
    kernel_has_btrfs,
    new_pool_driver,
    pool_config,
    resolved,
)

SERVER_CONFIG = {"images.auto_update_interval": "0"}


def parse_ipv4_address(value: str) -> ipaddress.IPv4Interface:
    """The bridge address (``10.200.77.1/24``): an IPv4 host address with a prefix of /8 to /30."""
    try:
        iface = ipaddress.IPv4Interface(value)
    except (ipaddress.AddressValueError, ipaddress.NetmaskValueError, ValueError) as exc:
        raise InvalidSettingsError(f"invalid bridge IPv4 address {value!r}: {exc}") from exc
    if "/" not in value:
        raise InvalidSettingsError(f"bridge IPv4 address {value!r} has no prefix length")
    if not 8 <= iface.network.prefixlen <= 30:
        raise InvalidSettingsError(f"bridge IPv4 prefix /{iface.network.prefixlen} is not between /8 and /30")
    if iface.ip in (iface.network.network_address, iface.network.broadcast_address):
        raise InvalidSettingsError(f"{value!r} is the network or broadcast address, not a host address")
    return iface


def dhcp_range(iface: ipaddress.IPv4Interface) -> str:
    """The DHCP range: the host addresses above the bridge's own (below it when it is the last one)."""
    low = iface.network.network_address + 1
    high = iface.network.broadcast_address - 1
    if iface.ip < high:
        return f"{iface.ip + 1}-{high}"
    return f"{low}-{iface.ip - 1}"


def bridge_config(settings: LabSettings) -> dict[str, str]:
    iface = parse_ipv4_address(settings.ipv4_address)
    return {
        "ipv4.address": str(iface),
        "ipv4.nat": "true",
        "ipv4.dhcp.ranges": dhcp_range(iface),
        "ipv6.address": "none",
    }


def profile_devices(settings: LabSettings) -> dict[str, dict[str, str]]:
    return {
        "root": {"type": "disk", "path": "/", "pool": settings.pool},
        "eth0": {"type": "nic", "name": "eth0", "network": settings.bridge},
    }


def preseed_document(settings: LabSettings, *, pool_driver: str | None = "dir") -> dict[str, Any]:
    """The preseed; ``pool_driver`` None leaves the storage pool out (it exists)."""
    doc: dict[str, Any] = {
        "config": dict(SERVER_CONFIG),
        "networks": [
            {
                "name": settings.bridge,
                "type": "bridge",
                "description": "torrust-deploy lab bridge",
                "config": bridge_config(settings),
            }
        ],
        "profiles": [{"name": "default", "devices": profile_devices(settings)}],
    }
    if pool_driver is not None:
        doc["storage_pools"] = [
            {"name": settings.pool, "driver": pool_driver, "config": pool_config(pool_driver, settings)}
        ]
    return doc


def render_preseed(settings: LabSettings, *, pool_driver: str | None = "dir") -> str:
    """The preseed YAML for ``lxd init --preseed``. An existing pool is left out (its driver can't change)."""
    return yaml.safe_dump(preseed_document(settings, pool_driver=pool_driver), sort_keys=False)


def needed_changes(snapshot: LxdSnapshot, settings: LabSettings) -> list[str]:
    """What applying the preseed would change, in words; empty when everything is in place."""
    changes: list[str] = []
    for key, value in SERVER_CONFIG.items():
        if str(snapshot.server_config.get(key, "")) != value:
            changes.append(f"server config {key}={value}")
    if snapshot.network is None:
        changes.append(f"create bridge {settings.bridge}")
    else:
        current = {k: str(v) for k, v in (snapshot.network.get("config") or {}).items()}
        for key, value in bridge_config(settings).items():
            if current.get(key) != value:
                changes.append(f"bridge {settings.bridge}: {key} {current.get(key)!r} -> {value!r}")
    if snapshot.storage_pool_driver is None:
        changes.append(f"create storage pool {settings.pool}")
    devices = snapshot.default_profile_devices
    if devices is None:
        changes.append("create the default profile")
    else:
        for name, wanted in profile_devices(settings).items():
            have = devices.get(name)
            if have is None or any(str(have.get(k)) != v for k, v in wanted.items()):
                changes.append(f"default profile: device {name}")
    return changes


def network_problem(snapshot: LxdSnapshot, settings: LabSettings) -> str | None:
    """A reason the preseed cannot fix the network (it exists but isn't an LXD-managed bridge)."""
    network = snapshot.network
    if network is None:
        return None
    if not network.get("managed", False):
        return f"{settings.bridge} exists but is not managed by LXD (a host interface of that name)"
    if network.get("type") != "bridge":
        return f"network {settings.bridge} is of type {network.get('type')!r}, not bridge"
    return None


def ensure_preseed(settings: LabSettings, say: Callable[[str], None], btrfs: bool | None = None) -> str:
    """Apply the preseed when the daemon differs from ``settings``; says what it did in one line.
    ``btrfs``: whether the kernel has btrfs (read from /proc/filesystems when None)."""
    api = LxdApi(settings.socket_path)
    snapshot = api.snapshot(settings)
    s = resolved(settings, snapshot)
    problem = network_problem(snapshot, s)
    if problem:
        raise LxdConfigurationError(
            problem,
            tip=f"Choose another bridge name with `--bridge`, or remove the interface {s.bridge}.",
        )
    wrong_driver = driver_problem(snapshot, s)
    if wrong_driver is not None:
        raise wrong_driver
    changes = needed_changes(snapshot, s)
    if not changes:
        return f"{s.bridge} {s.ipv4_address}, pool {s.pool} ({snapshot.storage_pool_driver}): unchanged"
    check_profile_move(api, snapshot, s)
    driver = None
    how = ""
    if snapshot.storage_pool_driver is None:
        driver = new_pool_driver(s, kernel_has_btrfs() if btrfs is None else btrfs)
        how = f" ({driver}, a loop file of {s.storage_size})" if driver == "btrfs" else f" ({driver})"
    for change in changes:
        say(f"  {change}" + (how if change.startswith("create storage pool") else ""))
    preseed = render_preseed(s, pool_driver=driver)
    result = subprocess.run(
        ["lxd", "init", "--preseed"],
        input=preseed,
        capture_output=True,
        text=True,
        env=daemon_env(s.lxd_dir),
        check=False,
    )
    if result.returncode != 0:
        raise LxdConfigurationError(
            f"`lxd init --preseed` failed (exit {result.returncode})",
            detail=tail(result.stdout + result.stderr) + "\n--- preseed ---\n" + preseed,
        )
    after = api.snapshot(s)
    remaining = needed_changes(after, s)
    if remaining:
        raise LxdConfigurationError("the preseed did not take: " + "; ".join(remaining))
    return f"{s.bridge} {s.ipv4_address}, pool {s.pool} ({after.storage_pool_driver}): applied ({len(changes)} changes)"
