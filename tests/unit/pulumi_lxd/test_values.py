"""`values` reads and writes property maps as the SDK's own `PropertyValue` does: the same signatures,
secrets kept per top-level key, unknowns as the engine's sentinel, other signed values refused."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf import struct_pb2
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.runtime import rpc

from pulumi_lxd.plugin.values import SECRET_SIG, SIG_KEY, UNKNOWN, UNKNOWN_SENTINEL, plain, wire

VALUES: dict[str, Any] = {
    "null": None,
    "flag": True,
    "count": 3.0,
    "name": "box",
    "empty_map": {},
    "empty_list": [],
    "nested": {"a": [1.0, "x", {"b": None}], "c": {"d": False}},
    "later": UNKNOWN,
}


def test_the_signatures_are_the_engine_s() -> None:
    assert (rpc._special_sig_key, rpc._special_secret_sig, rpc.UNKNOWN) == (SIG_KEY, SECRET_SIG, UNKNOWN_SENTINEL)


def test_plain_values_and_their_secrets_round_trip() -> None:
    assert plain(wire(VALUES, frozenset({"nested", "name"}))) == (VALUES, frozenset({"nested", "name"}))


def test_a_map_the_sdk_marshals_reads_the_same() -> None:
    sdk = PropertyValue.marshal_map(
        {
            "name": PropertyValue("box"),
            "key": PropertyValue("K", is_secret=True),
            "deep": PropertyValue({"inner": PropertyValue("s", is_secret=True)}),
            "list": PropertyValue([PropertyValue(1.0), PropertyValue(None)]),
            "later": PropertyValue(rpc.UNKNOWN),
        }
    )
    values, secrets = plain(sdk)
    assert values == {"name": "box", "key": "K", "deep": {"inner": "s"}, "list": [1.0, None], "later": UNKNOWN}
    assert secrets == {"key", "deep"}


def test_the_sdk_reads_what_the_plugin_writes() -> None:
    read = PropertyValue.unmarshal_map(wire({"name": "box", "key": "K", "n": 2}, frozenset({"key"})))
    assert read == {"name": PropertyValue("box"), "key": PropertyValue("K", is_secret=True), "n": PropertyValue(2.0)}


def test_a_signed_value_other_than_a_secret_is_refused() -> None:
    asset = struct_pb2.Struct()
    asset.fields["file"].struct_value.fields[SIG_KEY].string_value = rpc._special_asset_sig
    with pytest.raises(TypeError, match="unsupported property value"):
        plain(asset)
