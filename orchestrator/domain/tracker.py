"""What the environment's Torrust Tracker is: version, image source, ports, mode, announce interval, database.

The one place that says which tracker version is the default and which ports it listens on; the config
model, the release renderer, the `test` checks and the docs derive from it. No I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from orchestrator.domain.errors import DomainError

DEFAULT_TRACKER_VERSION = "3.0.0"
"""The torrust-tracker release on crates.io that is built when the config names none (it builds here)."""

DEFAULT_UDP_PORTS: tuple[int, ...] = (6969,)
DEFAULT_HTTP_PORTS: tuple[int, ...] = (7070,)
DEFAULT_API_PORT = 1212
DEFAULT_HEALTH_CHECK_PORT = 1313
DEFAULT_ANNOUNCE_INTERVAL_S = 120

DatabaseDriver = Literal["sqlite3"]
_VERSION = re.compile(r"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")


class InvalidTrackerSettingsError(DomainError, ValueError):
    """A tracker setting that cannot work (a port out of range or used twice, a bad version)."""


@dataclass(frozen=True, slots=True)
class TrackerSettings:
    """The tracker an environment runs.

    `image` None: the offline path — the binary is built from crates.io at `version` on the controller and
    shipped to the host as an image without any registry. Else a registry reference the host pulls.
    """

    version: str = DEFAULT_TRACKER_VERSION
    image: str | None = None
    udp_ports: tuple[int, ...] = DEFAULT_UDP_PORTS
    http_ports: tuple[int, ...] = DEFAULT_HTTP_PORTS
    api_port: int = DEFAULT_API_PORT
    health_check_port: int = DEFAULT_HEALTH_CHECK_PORT
    private: bool = False
    announce_interval_s: int = DEFAULT_ANNOUNCE_INTERVAL_S
    database: DatabaseDriver = "sqlite3"
    reserved_ports: tuple[int, ...] = field(default=(22,), compare=False, repr=False)
    """Ports the host already uses (its SSH port): none of the tracker's may be one of them."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "udp_ports", tuple(self.udp_ports))
        object.__setattr__(self, "http_ports", tuple(self.http_ports))
        if not _VERSION.match(self.version):
            raise InvalidTrackerSettingsError(
                f"invalid tracker version {self.version!r}", "use a torrust-tracker release number such as `3.0.0`"
            )
        if self.image is not None and (not self.image.strip() or any(c.isspace() for c in self.image)):
            raise InvalidTrackerSettingsError(
                f"invalid tracker image reference {self.image!r}",
                "use a reference such as `torrust/tracker:v3.0.0`, or leave `image` unset to build offline",
            )
        if not self.udp_ports and not self.http_ports:
            raise InvalidTrackerSettingsError(
                "the tracker has neither a UDP nor an HTTP tracker port", "give at least one of udp_ports, http_ports"
            )
        if self.private and self.udp_ports:
            raise InvalidTrackerSettingsError(
                "a private tracker serves no UDP tracker (torrust-tracker runs UDP only in public mode)",
                "drop udp_ports (use the HTTP tracker) or set private to false",
            )
        if self.announce_interval_s < 1:
            raise InvalidTrackerSettingsError(
                f"announce interval {self.announce_interval_s} s is not positive", "use a number of seconds, e.g. 120"
            )
        seen: dict[tuple[bool, int], str] = {}  # (is UDP, port): a UDP and a TCP socket may share a number
        for what, port in self.named_ports():
            if not 1 <= port <= 65535:
                raise InvalidTrackerSettingsError(f"tracker {what} {port} is out of range", "use a port in 1-65535")
            if port in self.reserved_ports:
                raise InvalidTrackerSettingsError(
                    f"tracker {what} {port} is the host's SSH port", "pick another port for the tracker"
                )
            key = (what.startswith("UDP"), port)
            if key in seen:
                raise InvalidTrackerSettingsError(
                    f"tracker {what} {port} is also its {seen[key]}", "give each tracker service its own port"
                )
            seen[key] = what

    def named_ports(self) -> list[tuple[str, int]]:
        """Every port with what it serves, e.g. ("UDP tracker port", 6969)."""
        return [
            *(("UDP tracker port", port) for port in self.udp_ports),
            *(("HTTP tracker port", port) for port in self.http_ports),
            ("REST API port", self.api_port),
            ("health check port", self.health_check_port),
        ]

    @property
    def offline(self) -> bool:
        """True when the image is built here and shipped without a registry."""
        return self.image is None
