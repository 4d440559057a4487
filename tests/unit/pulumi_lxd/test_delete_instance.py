"""`delete_instance` beside another client deleting the same instance (the orchestrator's destroy deletes
ahead of the engine): LXD's refusals while the other's stop or delete runs are waited out, an instance gone
at any point is done, and a refusal with nothing running on the instance is still an error."""

from __future__ import annotations

from typing import Any

import pytest
from pylxd.exceptions import LXDAPIException, NotFound

from pulumi_lxd.plugin import resources


class _Response:
    def __init__(self, status_code: int, body: dict[str, Any]) -> None:
        self.status_code = status_code
        self.content = b""
        self._body = body

    def json(self) -> dict[str, Any]:
        return self._body


def _not_found() -> NotFound:
    return NotFound(_Response(404, {"error": "Instance not found"}))


def _busy() -> LXDAPIException:
    return LXDAPIException(_Response(400, {"error": 'Instance is busy running a "stop" operation'}))


class _Lxd:
    """A server with one running instance `box`, stopped and deleted by `other` (an operation running on
    it) until a client waits for that operation."""

    def __init__(self, other_running: bool) -> None:
        self.exists = True
        self.other_running = other_running
        self.waited: list[str] = []
        self.refusals = 0
        self.instances = self
        self.api = self
        self.operations = self

    # client.instances.get
    def get(self, name: str | None = None, params: dict[str, Any] | None = None) -> Any:
        if params is not None:  # client.api.operations.get(params=…)
            running = [{"id": "op-1", "resources": {"instances": ["/1.0/instances/box"]}}]
            return _Response(200, {"metadata": {"running": running} if self.other_running else {}})
        if not self.exists:
            raise _not_found()
        return _Instance(self)

    # client.api.operations[id].wait.get(params=…)
    def __getitem__(self, operation: str) -> Any:
        lxd = self

        class Wait:
            def get(self, params: dict[str, Any]) -> None:
                lxd.waited.append(operation)
                lxd.other_running, lxd.exists = False, False  # the other client's delete finished

        class Operation:
            wait = Wait()

        return Operation()


class _Instance:
    status = "Running"

    def __init__(self, lxd: _Lxd) -> None:
        self._lxd = lxd

    def sync(self) -> None:
        if not self._lxd.exists:
            raise _not_found()

    def stop(self, force: bool, wait: bool) -> None:
        self._lxd.refusals += 1
        raise _busy()

    def delete(self, wait: bool) -> None:
        raise AssertionError("not reached: the stop is refused")


def test_a_refusal_while_another_client_deletes_the_instance_waits_for_it_and_is_not_an_error() -> None:
    lxd = _Lxd(other_running=True)
    resources.delete_instance(lxd, "box")
    assert lxd.waited == ["op-1"] and not lxd.exists


def test_an_instance_already_gone_is_not_an_error() -> None:
    lxd = _Lxd(other_running=False)
    lxd.exists = False
    resources.delete_instance(lxd, "box")


def test_a_refusal_with_no_operation_running_on_the_instance_is_retried_a_few_times_then_raised() -> None:
    lxd = _Lxd(other_running=False)
    with pytest.raises(LXDAPIException, match="busy"):
        resources.delete_instance(lxd, "box")
    assert lxd.refusals == resources.QUIET_RETRIES + 1 and lxd.waited == []


def test_operations_on_other_instances_are_not_waited_for() -> None:
    class Other(_Lxd):
        def get(self, name: str | None = None, params: dict[str, Any] | None = None) -> Any:
            if params is not None:
                running = [{"id": "op-2", "resources": {"instances": ["/1.0/instances/box-2"]}}]
                return _Response(200, {"metadata": {"running": running}})
            return super().get(name, params)

    assert resources.running_operations(Other(other_running=False), "box") == []
    assert resources.running_operations(_Lxd(other_running=True), "box") == ["op-1"]
