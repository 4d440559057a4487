"""The plugin process: it starts without the Pulumi SDK, serves the protocol on the port it prints, and on
SIGINT (how the engine ends a plugin it is done with), after the engine's one closing Cancel, an idle
plugin exits at once; one with an LXD call running, one whose operation was cancelled (a second Cancel)
and one never cancelled (a signal from the terminal) are interrupted as before."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from pulumi_lxd.plugin import server
from pulumi_lxd.plugin.provider import LxdProvider, package_version

PLUGIN = str(Path(sys.executable).parent / "pulumi-resource-lxd")


class _ExitedError(Exception):
    pass


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[LxdProvider, Any]]:
    def exit_now(code: int) -> None:
        raise _ExitedError(code)

    monkeypatch.setattr(os, "_exit", exit_now)
    previous = signal.getsignal(signal.SIGINT)
    provider = LxdProvider(lambda config: None)
    try:
        server.exit_at_once_when_done(provider)
        yield provider, signal.getsignal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, previous)


def _cancel(provider: LxdProvider, times: int) -> None:
    for _ in range(times):
        provider.Cancel(empty_pb2.Empty(), None)


def test_a_plugin_the_engine_is_done_with_exits_at_once_on_sigint(handler: tuple[LxdProvider, Any]) -> None:
    provider, on_sigint = handler
    _cancel(provider, 1)
    assert provider.done
    with pytest.raises(_ExitedError):
        on_sigint(signal.SIGINT, None)


def test_a_sigint_before_any_cancel_is_an_interrupt_as_before(handler: tuple[LxdProvider, Any]) -> None:
    provider, on_sigint = handler
    assert not provider.done
    with pytest.raises(KeyboardInterrupt):
        on_sigint(signal.SIGINT, None)


def test_a_plugin_with_an_lxd_call_running_is_interrupted_as_before(handler: tuple[LxdProvider, Any]) -> None:
    provider, on_sigint = handler
    _cancel(provider, 1)
    seen: list[bool] = []

    def call() -> None:
        seen.append(provider.busy)
        with pytest.raises(KeyboardInterrupt):
            on_sigint(signal.SIGINT, None)

    provider._call(call)
    assert seen == [True] and not provider.busy


def test_a_plugin_whose_operation_was_cancelled_is_interrupted_as_before(handler: tuple[LxdProvider, Any]) -> None:
    provider, on_sigint = handler
    _cancel(provider, 2)  # Ctrl-C: one Cancel during the operation, one before the close
    assert not provider.done
    with pytest.raises(KeyboardInterrupt):
        on_sigint(signal.SIGINT, None)


def test_main_sets_the_sigint_handler_before_it_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    previous = signal.getsignal(signal.SIGINT)
    seen: list[Any] = []
    monkeypatch.setattr(server, "serve", lambda provider: seen.append(signal.getsignal(signal.SIGINT)))
    try:
        server.main(["127.0.0.1:1"])
    finally:
        signal.signal(signal.SIGINT, previous)
    assert len(seen) == 1 and seen[0] is not previous


def test_the_plugin_starts_without_importing_the_pulumi_sdk() -> None:
    probe = "import sys, pulumi_lxd.plugin.server; print(' '.join(sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = {name.split(".")[0] for name in result.stdout.split() if name.startswith("pulumi")}
    assert loaded == {"pulumi_lxd"}


@pytest.fixture
def plugin() -> Iterator[tuple[subprocess.Popen[str], Any]]:
    process = subprocess.Popen([PLUGIN, "127.0.0.1:1"], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield process, provider_pb2_grpc.ResourceProviderStub(channel)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def test_the_plugin_serves_the_protocol_on_the_port_it_prints(plugin: tuple[subprocess.Popen[str], Any]) -> None:
    _, stub = plugin
    assert stub.GetPluginInfo(empty_pb2.Empty(), timeout=10).version == package_version()
    with pytest.raises(grpc.RpcError) as refused:
        stub.Check(provider_pb2.CheckRequest(urn="urn:pulumi:d::p::lxd:index:Volume::v"), timeout=10)
    assert refused.value.code() == grpc.StatusCode.UNKNOWN
    assert "no resource type 'lxd:index:Volume'" in refused.value.details()


@pytest.mark.parametrize("cancels", [0, 1, 2])
def test_the_plugin_process_ends_on_sigint(plugin: tuple[subprocess.Popen[str], Any], cancels: int) -> None:
    process, stub = plugin
    stub.GetPluginInfo(empty_pb2.Empty(), timeout=10)
    for _ in range(cancels):
        stub.Cancel(empty_pb2.Empty(), timeout=10)
    process.send_signal(signal.SIGINT)
    assert process.wait(10) == 0
