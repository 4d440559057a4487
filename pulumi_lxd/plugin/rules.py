"""What the provider decides without talking to LXD: defaults, input checks and diffs.

Instance: a change of `name`, `type` or `image` replaces it (an `image` that names the image the
instance was created from — an alias of its fingerprint — is no change); `profiles`, `config`, `devices`
and the IPv4 wait settings are updated in place; an instance found not running (refresh) is updated,
which starts it. A replacement that keeps the name deletes first (LXD names are unique); a rename
creates the new instance first.

Profile: a change of `name` replaces it (the new one first, so that instances can move over before the
old one goes); `description`, `config` and `devices` are updated in place.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from pulumi_lxd.plugin.values import Props, Unknown, contains_unknown

INSTANCE: Final = "lxd:index:Instance"
PROFILE: Final = "lxd:index:Profile"

INSTANCE_TYPES: Final = ("container", "virtual-machine")
DEFAULT_IPV4_TIMEOUT_S: Final = 180.0

INSTANCE_DEFAULTS: Final[Mapping[str, Any]] = {
    "type": "container",
    "profiles": ["default"],
    "config": {},
    "devices": {},
    "waitForIpv4": True,
    "ipv4Interface": "eth0",
    "ipv4TimeoutSeconds": DEFAULT_IPV4_TIMEOUT_S,
}
INSTANCE_INPUTS: Final = ("name", "image", *INSTANCE_DEFAULTS)
INSTANCE_REPLACES: Final = ("name", "image", "type")
INSTANCE_OUTPUTS: Final = ("ipv4", "status", "imageFingerprint")

PROFILE_DEFAULTS: Final[Mapping[str, Any]] = {"description": "", "config": {}, "devices": {}}
PROFILE_INPUTS: Final = ("name", *PROFILE_DEFAULTS)
PROFILE_REPLACES: Final = ("name",)

PROVIDER_INPUTS: Final = ("remote", "socketPath", "clientCert", "clientKey", "serverCert")
PROVIDER_SECRETS: Final = frozenset({"clientKey"})

RUNNING: Final = "Running"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,62}$")

ImageResolver = Callable[[str], str | None]
"""The full fingerprint of an image alias or fingerprint on the server, or None when there is none."""


@dataclass(frozen=True)
class Failure:
    property: str
    reason: str


@dataclass(frozen=True)
class Diff:
    """Which properties changed, which of them replace the resource, and in which order."""

    changed: tuple[str, ...] = ()
    replaces: tuple[str, ...] = ()
    delete_before_replace: bool = False
    outputs_only: frozenset[str] = field(default_factory=frozenset)
    """Changed properties that are not inputs (an instance's `status`)."""

    @property
    def changes(self) -> bool:
        return bool(self.changed)


# --- checks ------------------------------------------------------------------------------------------


def with_defaults(news: Mapping[str, Any], defaults: Mapping[str, Any], keys: tuple[str, ...]) -> Props:
    """The inputs in `keys`, each given one or its default (copied); unset means None."""
    values: Props = {}
    for key in keys:
        given = news.get(key)
        if given is None and key in defaults:
            default = defaults[key]
            given = type(default)(default) if isinstance(default, dict | list) else default
        if given is not None:
            values[key] = given
    return values


def _unknown_keys(news: Mapping[str, Any], keys: tuple[str, ...]) -> list[Failure]:
    return [Failure(key, f"unknown property {key!r}") for key in sorted(set(news) - set(keys))]


def _check_name(value: Any, kind: str) -> list[Failure]:
    if isinstance(value, Unknown):
        return []
    if not isinstance(value, str) or not _NAME.match(value) or value.endswith("-"):
        return [
            Failure(
                "name",
                f"an LXD {kind} name is 1-63 letters, digits and hyphens, starting with a letter and not ending "
                f"with a hyphen; got {value!r}",
            )
        ]
    return []


def _check_string_map(key: str, value: Any) -> list[Failure]:
    if contains_unknown(value):
        return []
    if not isinstance(value, dict) or not all(isinstance(item, str) for item in value.values()):
        return [Failure(key, f"{key} must map names to strings (LXD keeps every config value as a string)")]
    return []


def _check_devices(value: Any) -> list[Failure]:
    if contains_unknown(value):
        return []
    if not isinstance(value, dict):
        return [Failure("devices", "devices must map device names to maps of device keys")]
    failures: list[Failure] = []
    for name, device in value.items():
        failures += [Failure(f"devices.{name}", item.reason) for item in _check_string_map("device keys", device)]
    return failures


def check_instance(news: Mapping[str, Any]) -> tuple[Props, list[Failure]]:
    """The instance's inputs with defaults, and what is wrong with them."""
    failures = _unknown_keys(news, INSTANCE_INPUTS)
    inputs = with_defaults(news, INSTANCE_DEFAULTS, INSTANCE_INPUTS)
    failures += _check_name(inputs.get("name"), "instance")
    image = inputs.get("image")
    if not isinstance(image, Unknown) and (not isinstance(image, str) or not image):
        failures.append(Failure("image", "give the alias or fingerprint of an image on the LXD server"))
    kind = inputs["type"]
    if not isinstance(kind, Unknown) and kind not in INSTANCE_TYPES:
        failures.append(Failure("type", f"type is one of {', '.join(INSTANCE_TYPES)}; got {kind!r}"))
    profiles = inputs["profiles"]
    if not contains_unknown(profiles) and (
        not isinstance(profiles, list) or not all(isinstance(item, str) for item in profiles)
    ):
        failures.append(Failure("profiles", "profiles is a list of profile names"))
    failures += _check_string_map("config", inputs["config"])
    failures += _check_devices(inputs["devices"])
    if not isinstance(inputs["waitForIpv4"], bool | Unknown):
        failures.append(Failure("waitForIpv4", "waitForIpv4 is true or false"))
    interface = inputs["ipv4Interface"]
    if not isinstance(interface, Unknown) and (not isinstance(interface, str) or not interface):
        failures.append(Failure("ipv4Interface", "ipv4Interface names a network interface of the instance"))
    timeout = inputs["ipv4TimeoutSeconds"]
    if not isinstance(timeout, Unknown) and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
    ):
        failures.append(Failure("ipv4TimeoutSeconds", "ipv4TimeoutSeconds is a number of seconds above 0"))
    return inputs, failures


def check_profile(news: Mapping[str, Any]) -> tuple[Props, list[Failure]]:
    """The profile's inputs with defaults, and what is wrong with them."""
    failures = _unknown_keys(news, PROFILE_INPUTS)
    inputs = with_defaults(news, PROFILE_DEFAULTS, PROFILE_INPUTS)
    failures += _check_name(inputs.get("name"), "profile")
    description = inputs["description"]
    if not isinstance(description, str | Unknown):
        failures.append(Failure("description", "description is a string"))
    failures += _check_string_map("config", inputs["config"])
    failures += _check_devices(inputs["devices"])
    return inputs, failures


def check_provider(news: Mapping[str, Any]) -> tuple[Props, list[Failure]]:
    """The provider configuration (every key optional), and what is wrong with it."""
    failures = _unknown_keys({key: value for key, value in news.items() if key != "version"}, PROVIDER_INPUTS)
    config = {key: news[key] for key in PROVIDER_INPUTS if news.get(key) not in (None, "")}
    for key, value in config.items():
        if not isinstance(value, str | Unknown):
            failures.append(Failure(key, f"{key} is a string"))
    remote = config.get("remote")
    if isinstance(remote, str) and not remote.startswith("https://"):
        failures.append(Failure("remote", f"remote is an HTTPS URL such as https://HOST:8443; got {remote!r}"))
    if ("clientCert" in config) != ("clientKey" in config):
        failures.append(Failure("clientKey", "give the client certificate and its key together, or neither"))
    if remote is None:
        failures += [
            Failure(key, f"{key} is for an HTTPS remote; set remote too")
            for key in ("clientCert", "clientKey", "serverCert")
            if key in config
        ]
    return config, failures


# --- diffs -------------------------------------------------------------------------------------------


def _changed(old: Any, new: Any) -> bool:
    return contains_unknown(new) or old != new


def diff_instance(olds: Mapping[str, Any], news: Mapping[str, Any], resolve_image: ImageResolver | None = None) -> Diff:
    """`olds`: the instance's last state (inputs and outputs); `news`: the checked new inputs."""
    old_inputs = with_defaults(olds, INSTANCE_DEFAULTS, INSTANCE_INPUTS)
    changed = [key for key in INSTANCE_INPUTS if _changed(old_inputs.get(key), news.get(key))]
    if "image" in changed and _same_image(olds, news.get("image"), resolve_image):
        changed.remove("image")
    outputs_only: set[str] = set()
    status = olds.get("status")
    if status is not None and status != RUNNING:
        changed.append("status")
        outputs_only.add("status")
    replaces = tuple(key for key in changed if key in INSTANCE_REPLACES)
    return Diff(
        changed=tuple(changed),
        replaces=replaces,
        delete_before_replace=bool(replaces) and "name" not in replaces,
        outputs_only=frozenset(outputs_only),
    )


def _same_image(olds: Mapping[str, Any], image: Any, resolve_image: ImageResolver | None) -> bool:
    """Whether `image` names the image the instance was created from (its fingerprint, or an alias or
    fingerprint prefix that resolves to it)."""
    fingerprint = olds.get("imageFingerprint")
    if not isinstance(image, str) or not isinstance(fingerprint, str) or not fingerprint:
        return False
    if image == fingerprint or (len(image) >= 12 and fingerprint.startswith(image)):
        return True
    return resolve_image is not None and resolve_image(image) == fingerprint


def diff_profile(olds: Mapping[str, Any], news: Mapping[str, Any]) -> Diff:
    old_inputs = with_defaults(olds, PROFILE_DEFAULTS, PROFILE_INPUTS)
    changed = tuple(key for key in PROFILE_INPUTS if _changed(old_inputs.get(key), news.get(key)))
    return Diff(changed=changed, replaces=tuple(key for key in changed if key in PROFILE_REPLACES))


def diff_provider(olds: Mapping[str, Any], news: Mapping[str, Any]) -> Diff:
    """A changed connection updates the provider; it never replaces it (that would replace every instance
    and profile it manages): the resources are looked up where the new configuration points."""
    changed = tuple(key for key in PROVIDER_INPUTS if _changed(olds.get(key) or None, news.get(key) or None))
    return Diff(changed=changed)
