"""The plugin's SIGINT (how the engine ends a plugin it is done with): after the engine's one closing Cancel
an idle plugin exits at once; one with an LXD call running, one whose operation was cancelled (a second
Cancel) and one never cancelled (a signal from the terminal) are interrupted as before."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from typing import Any

import pytest
from pulumi.provider.experimental import provider as protocol

from pulumi_lxd.plugin import server
from pulumi_lxd.plugin.provider import LxdProvider


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
    loop = asyncio.new_event_loop()
    try:
        for _ in range(times):
            loop.run_until_complete(provider.cancel())
    finally:
        loop.close()


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

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(provider._call(call))
    finally:
        loop.close()
    assert seen == [True] and not provider.busy


def test_the_handler_is_installed_by_the_first_configure_only() -> None:
    calls: list[int] = []
    provider = LxdProvider(lambda config: None, on_configure=lambda: calls.append(1))
    request = protocol.ConfigureRequest({}, {}, True, True)
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(provider.configure(request))
        loop.run_until_complete(provider.configure(request))
    finally:
        loop.close()
    assert calls == [1]


def test_a_plugin_whose_operation_was_cancelled_is_interrupted_as_before(handler: tuple[LxdProvider, Any]) -> None:
    provider, on_sigint = handler
    _cancel(provider, 2)  # Ctrl-C: one Cancel during the operation, one before the close
    assert not provider.done
    with pytest.raises(KeyboardInterrupt):
        on_sigint(signal.SIGINT, None)
