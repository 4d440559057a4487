"""The provider protocol's messages and gRPC stubs, the Pulumi SDK's own generated modules
(`pulumi/runtime/proto/*_pb2*.py`), loaded without the rest of the SDK.

Importing `pulumi.runtime.proto` runs `pulumi/__init__.py`, which imports the whole SDK (automation,
dynamic providers, OpenTelemetry, asyncio): 0.37 s of the plugin's start, against 0.12 s for gRPC and the
three modules the provider protocol needs (ADR 0011, "The plugin without the SDK's import"). So the SDK's
folder of generated modules is loaded as a package of ours, `pulumi_lxd.plugin.sdk_proto`: the files and
their relative imports are the SDK's, nothing is copied or generated here. The messages register in
protobuf's default pool under their `.proto` names, as the SDK's own import does; a process that imports
both (the tests) gets the same classes from either.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

PACKAGE = "pulumi_lxd.plugin.sdk_proto"


def _sdk_proto_folder() -> str:
    """Where the installed SDK keeps its generated modules (found without importing the SDK)."""
    spec = importlib.util.find_spec("pulumi")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the Pulumi SDK (the `pulumi` package) is not installed")
    return f"{spec.submodule_search_locations[0]}/runtime/proto"


def _package() -> types.ModuleType:
    package = sys.modules.get(PACKAGE)
    if package is None:
        package = types.ModuleType(PACKAGE, "The Pulumi SDK's generated protocol modules (pulumi_lxd.plugin.proto).")
        package.__path__ = [_sdk_proto_folder()]
        package.__package__ = PACKAGE
        sys.modules[PACKAGE] = package
    return package


def sdk_module(name: str) -> Any:
    """The SDK's generated module `name` (e.g. "provider_pb2"), loaded under `PACKAGE`."""
    _package()
    return importlib.import_module(f"{PACKAGE}.{name}")


provider_pb2: Any = sdk_module("provider_pb2")
provider_pb2_grpc: Any = sdk_module("provider_pb2_grpc")
plugin_pb2: Any = sdk_module("plugin_pb2")
