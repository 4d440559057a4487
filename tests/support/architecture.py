"""The import rules of docs/architecture.md, read from its tables, and the imports of a module, read with
`ast` (every import: module level, inside functions, under TYPE_CHECKING, and `import_module` /
`__import__` of a literal name). tests/unit/test_architecture.py checks the code against the rules;
tests/unit/test_docs_facts.py checks the docs' layer pictures against them."""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
SOURCES = ("orchestrator", "stacks", "pulumi_lxd")
FIRST_PARTY = set(SOURCES)
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

    def allows(self, importer: str, imported: str) -> bool:
        """Whether layer `importer` may import layer `imported` by its row (exceptions aside)."""
        layer = next(layer for layer in self.layers if layer.name == importer)
        return imported == importer or imported in layer.may_import

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


def read_rules(doc: Path = DOC) -> Rules:
    return parse_rules(doc.read_text(encoding="utf-8"))


# --- import cycles ------------------------------------------------------------------------------------------


def _run_at_import(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements that run when the module is imported (not under TYPE_CHECKING, not in functions)."""
    for node in body:
        if isinstance(node, ast.If):
            if "TYPE_CHECKING" not in ast.unparse(node.test):
                yield from _run_at_import(node.body)
                yield from _run_at_import(node.orelse)
        elif isinstance(node, ast.Try):
            yield from _run_at_import(node.body)
        else:
            yield node


def import_time_graph(sources: dict[str, str]) -> dict[str, set[str]]:
    """Module → the modules of `sources` it imports while being imported (absolute imports)."""
    graph: dict[str, set[str]] = {}
    for module, source in sources.items():
        targets: set[str] = set()
        for node in _run_at_import(ast.parse(source).body):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            for name in names:
                target = name
                while target and target not in sources:
                    target = target.rpartition(".")[0]
                if target and target != module:
                    targets.add(target)
        graph[module] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found
