"""The import rules of docs/architecture.md hold: every module of `orchestrator/` and `stacks/` imports only
the layers (and third-party packages) its layer's row allows, or an exception the doc lists with its reason.

The rule is written once, in the doc's tables; this test reads them. Every import counts: module level,
inside functions, under TYPE_CHECKING, and `import_module` / `__import__` of a literal module name.
"""

from __future__ import annotations

import pytest

from tests.support.architecture import (
    Rules,
    Violation,
    cycles,
    import_time_graph,
    imports_of,
    parse_rules,
    read_rules,
    source_modules,
    under,
    violations,
)


@pytest.fixture(scope="module")
def rules() -> Rules:
    return read_rules()


def _all_violations(rules: Rules) -> list[Violation]:
    problems = []
    for module, path in source_modules():
        found = list(imports_of(path.read_text(encoding="utf-8"), module, path.name == "__init__.py"))
        problems += violations(rules, module, found)
    return problems


# --- the tests ---------------------------------------------------------------------------------------------


def test_every_module_imports_only_what_its_layer_allows(rules: Rules) -> None:
    problems = _all_violations(rules)

    assert problems == [], "imports docs/architecture.md does not allow:\n" + "\n".join(map(str, problems))


def test_the_tables_name_known_layers_and_real_modules(rules: Rules) -> None:
    names = [layer.name for layer in rules.layers]
    modules = {module for module, _ in source_modules()}

    assert len(names) == len(set(names)), "a layer is listed twice"
    for layer in rules.layers:
        assert layer.may_import <= set(names), f"{layer.name} may import an unknown layer"
        for prefix in layer.modules:
            assert any(under(module, prefix) for module in modules), f"{layer.name}: no module {prefix}"
    for rule in rules.exceptions:
        assert rule.why, f"the exception for {rule.importers} gives no reason"
        for prefix in (*rule.importers, *rule.imported):
            assert any(under(module, prefix) for module in modules), f"exception names no module {prefix}"


def test_every_exception_is_still_needed(rules: Rules) -> None:
    """An exception row no import uses any more is a rule that lies: drop it."""
    used: set[tuple[str, str]] = set()
    for module, path in source_modules():
        layer = rules.layer_of(module)
        assert layer is not None
        for item in imports_of(path.read_text(encoding="utf-8"), module, path.name == "__init__.py"):
            target = rules.layer_of(item.imported)
            if target is None or target.name in {layer.name, *layer.may_import}:
                continue
            for rule in rules.exceptions:
                for who in rule.importers:
                    for what in rule.imported:
                        if under(module, who) and under(item.imported, what):
                            used.add((who, what))
    unused = [
        rule.importers
        for rule in rules.exceptions
        if not any((who, what) in used for who in rule.importers for what in rule.imported)
    ]
    assert unused == []


def test_the_domain_imports_nothing_but_the_standard_library_and_itself(rules: Rules) -> None:
    domain = next(layer for layer in rules.layers if layer.name == "domain")

    assert domain.may_import == frozenset() and domain.third_party == frozenset()
    assert not any(under("orchestrator.domain", who) for rule in rules.exceptions for who in rule.importers)


def test_commands_never_import_infrastructure(rules: Rules) -> None:
    assert "infrastructure" not in next(layer for layer in rules.layers if layer.name == "commands").may_import
    assert not any(
        any(under(who, "orchestrator.commands") for who in rule.importers)
        and any(under(what, "orchestrator.infrastructure") for what in rule.imported)
        for rule in rules.exceptions
    )


def test_no_modules_import_each_other_in_a_circle_at_import_time() -> None:
    """Type-only and function-level imports do not count: they cannot half-initialise a module."""
    sources = {module: path.read_text(encoding="utf-8") for module, path in source_modules()}

    assert cycles(import_time_graph(sources)) == []


def test_a_circle_is_caught_and_a_type_only_back_edge_is_not_one() -> None:
    sources = {
        "orchestrator.domain.errors": "from orchestrator.domain.states import State\n",
        "orchestrator.domain.states": "from orchestrator.domain.failure import FailureContext\n",
        "orchestrator.domain.failure": "from orchestrator.domain.errors import InvalidFailureContextError\n",
        "orchestrator.domain.names": (
            "TYPE_CHECKING = False\nif TYPE_CHECKING:\n    from orchestrator.domain.tips import state_tip\n"
        ),
        "orchestrator.domain.tips": "from orchestrator.domain.names import EnvironmentName\n",
    }

    assert cycles(import_time_graph(sources)) == [
        ["orchestrator.domain.errors", "orchestrator.domain.failure", "orchestrator.domain.states"]
    ]


# --- the checker catches what it must (synthetic modules) ----------------------------------------------------

SYNTHETIC = [
    ("orchestrator.domain.bad", "import pydantic\n", "domain may not import the third-party pydantic"),
    ("orchestrator.domain.bad", "from orchestrator.persistence import JsonFileRepository\n", "layer persistence"),
    (
        "orchestrator.domain.bad",
        "TYPE_CHECKING = False\nif TYPE_CHECKING:\n    from orchestrator.api import Deployer\n",
        "layer api",
    ),
    (
        "orchestrator.commands.bad",
        "def build():\n    from orchestrator.infrastructure.ssh.wait import SshWaiter\n",
        "commands may not import layer infrastructure",
    ),
    (
        "orchestrator.commands.bad",
        "from importlib import import_module\nimport_module('orchestrator.infrastructure.traces')\n",
        "layer infrastructure",
    ),
    ("orchestrator.cli.bad", "from orchestrator.infrastructure.ansible import playbooks\n", "layer infrastructure"),
    ("orchestrator.cli.bad", "from orchestrator.persistence.repository import JsonFileRepository\n", "persistence"),
    ("orchestrator.infrastructure.bad", "from orchestrator.cli.render import print_json\n", "layer cli"),
    ("orchestrator.infrastructure.pulumi.bad", "from ...api import Deployer\n", "layer api"),
    ("orchestrator.newmodule", "from orchestrator.domain import ExitCode\n", "package may not import layer domain"),
    ("elsewhere.module", "import json\n", "belongs to no layer"),
]


@pytest.mark.parametrize(
    ("module", "source", "expected"), SYNTHETIC, ids=[case[0] + ":" + case[1] for case in SYNTHETIC]
)
def test_a_module_that_breaks_a_rule_is_caught(rules: Rules, module: str, source: str, expected: str) -> None:
    problems = violations(rules, module, list(imports_of(source, module)))

    assert len(problems) == 1 and expected in str(problems[0]), problems


def test_allowed_imports_of_a_synthetic_module_pass(rules: Rules) -> None:
    source = (
        "import json\nfrom orchestrator.domain import Environment\nfrom orchestrator.commands.ports import SshProbe\n"
        "from . import steps\nfrom .progress import SilentProgress\n"
    )

    assert violations(rules, "orchestrator.commands.fine", list(imports_of(source, "orchestrator.commands.fine"))) == []


def test_an_exception_covers_only_the_module_it_names(rules: Rules) -> None:
    source = "from orchestrator.infrastructure.pulumi.toolchain import find_pulumi\n"

    assert violations(rules, "orchestrator.cli.toolchain", list(imports_of(source, "orchestrator.cli.toolchain"))) == []
    assert len(violations(rules, "orchestrator.cli.day2", list(imports_of(source, "orchestrator.cli.day2")))) == 1


def test_a_broken_table_is_an_error_not_an_empty_rule() -> None:
    with pytest.raises(AssertionError, match="no '## Layers' section"):
        parse_rules("# nothing here\n")
