"""The import rules of docs/architecture.md hold: every module of `orchestrator/` and `stacks/` imports only
the layers (and third-party packages) its layer's row allows, or an exception the doc lists with its reason.

The rule is written once, in the doc's tables; this test reads them. Every import counts: module level,
inside functions, under TYPE_CHECKING, and `import_module` / `__import__` of a literal module name.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
SOURCES = ("orchestrator", "stacks")
FIRST_PARTY = {"orchestrator", "stacks"}
NONE = {"", "—", "-"}


@dataclass(frozen=True)
class Layer:
    name: str
    modules: tuple[str, ...]
    may_import: frozenset[str]
    third_party: frozenset[str]


@dataclass(frozen=True)
class ExceptionRow:
    importers: tuple[str, ...]
    imported: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class Rules:
    layers: tuple[Layer, ...]
    exceptions: tuple[ExceptionRow, ...]

    def layer_of(self, module: str) -> Layer | None:
        """The layer whose longest module prefix names `module`."""
        best: tuple[int, Layer] | None = None
        for layer in self.layers:
            for prefix in layer.modules:
                if under(module, prefix) and (best is None or len(prefix) > best[0]):
                    best = (len(prefix), layer)
        return None if best is None else best[1]

    def excepted(self, importer: str, imported: str) -> bool:
        return any(
            any(under(importer, who) for who in rule.importers) and any(under(imported, what) for what in rule.imported)
            for rule in self.exceptions
        )


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int


@dataclass(frozen=True)
class Violation:
    importer: str
    imported: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.importer}:{self.line} imports {self.imported}: {self.reason}"


def under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


# --- the rule, read from the doc -------------------------------------------------------------------------


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _names(cell: str) -> tuple[str, ...]:
    if cell in NONE:
        return ()
    return tuple(name.strip().strip("`") for name in cell.split(",") if name.strip())


def _table(text: str, heading: str) -> list[list[str]]:
    """The rows (header and separator skipped) of the first table after `## heading`."""
    section = re.split(r"^## ", text, flags=re.M)
    body = next((part for part in section if part.startswith(heading + "\n")), None)
    assert body is not None, f"docs/architecture.md has no '## {heading}' section"
    rows = [_cells(line) for line in body.splitlines() if line.startswith("|")]
    assert len(rows) > 2, f"the '## {heading}' section of docs/architecture.md has no table"
    return rows[2:]


def parse_rules(text: str) -> Rules:
    layers = []
    for name, modules, may_import, third_party in _table(text, "Layers"):
        layers.append(Layer(name, _names(modules), frozenset(_names(may_import)), frozenset(_names(third_party))))
    exceptions = [ExceptionRow(_names(who), _names(what), why) for who, what, why in _table(text, "Exceptions")]
    return Rules(tuple(layers), tuple(exceptions))


# --- the code, read with ast ------------------------------------------------------------------------------


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _dynamic_target(node: ast.Call, module: str) -> str | None:
    """The module an `import_module("…")` / `__import__("…")` call names, as far as its literal goes."""
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if called not in ("import_module", "__import__") or not node.args:
        return None
    arg = node.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr):
        fixed = ""
        for part in arg.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                fixed += part.value
            elif isinstance(part, ast.FormattedValue) and isinstance(part.value, ast.Name) and not fixed:
                if part.value.id != "__name__":
                    return None
                fixed = module
            else:
                break
        return fixed.rsplit(".", 1)[0] if "." in fixed else fixed or None
    return None


def imports_of(source: str, module: str, is_package: bool = False) -> Iterator[Import]:
    """Every module `source` imports, wherever the import stands (functions, TYPE_CHECKING blocks too)."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for alias in node.names:  # `from a.b import c`: c may be a module, so a.b.c is what is imported
                yield Import(module, f"{target}.{alias.name}", node.lineno)
        elif isinstance(node, ast.Call):
            dynamic = _dynamic_target(node, module)
            if dynamic:
                yield Import(module, dynamic, node.lineno)


def source_modules(root: Path = ROOT) -> Iterator[tuple[str, Path]]:
    for top in SOURCES:
        for path in sorted((root / top).rglob("*.py")):
            yield module_name(path, root), path


def violations(rules: Rules, module: str, found: list[Import]) -> list[Violation]:
    layer = rules.layer_of(module)
    if layer is None:
        return [Violation(module, "—", 0, "the module belongs to no layer of docs/architecture.md")]
    allowed = {layer.name, *layer.may_import}
    problems = []
    for item in found:
        top = item.imported.split(".")[0]
        if top in FIRST_PARTY:
            target = rules.layer_of(item.imported)
            if target is not None and target.name in allowed:
                continue
            if rules.excepted(module, item.imported):
                continue
            where = "no layer" if target is None else f"layer {target.name}"
            problems.append(Violation(module, item.imported, item.line, f"{layer.name} may not import {where}"))
        elif top in sys.stdlib_module_names:
            continue
        elif top not in layer.third_party:
            problems.append(
                Violation(module, item.imported, item.line, f"{layer.name} may not import the third-party {top}")
            )
    return problems


@pytest.fixture(scope="module")
def rules() -> Rules:
    return parse_rules(DOC.read_text(encoding="utf-8"))


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
    """An exception no import uses any more is a rule that lies: drop its row."""
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
    unused = [(who, what) for rule in rules.exceptions for who in rule.importers for what in rule.imported]
    assert [pair for pair in unused if pair not in used] == []


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
