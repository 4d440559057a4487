"""What the docs state about the code is true: README.md, docs/**/*.md and the module docstrings of the
package name files that exist, links that resolve, Python names that resolve in the package, layer chains
(`cli → api`) that docs/architecture.md allows, and exit codes that `ExitCode` has.

References that are deliberately not code of this checkout are in ALLOWED, each with its reason.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import itertools
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from orchestrator.domain import ExitCode
from tests.support.architecture import ROOT, SOURCES, Rules, read_rules

PREFIXES = ("orchestrator", "playbooks", "docs", "stacks", "tests", "bench", "scripts", ".ci")
SUBPACKAGES = ("domain", "persistence", "commands", "infrastructure", "cli", "lab", "api", "config", "layout")

# Names and paths the docs mention on purpose that are not code of this checkout — each with why.
ALLOWED: dict[str, str] = {
    "bench/results": "written by `make bench`; not in the checkout",
    "orchestrator/_shipped": "exists only inside a built wheel (resources.py)",
    "CreatedEnvironment": "ADR 0002's rejected alternative (one class per state)",
    "Pulumi.ENV.yaml": "the Pulumi CLI's stack settings file, where its first `up` writes the salt (ADR 0011)",
    "PULUMI_DEBUG_PROVIDERS": "a Pulumi engine variable; ADR 0011's dropped idea of attaching the provider",
}

# Other namespaces a doc may name classes of: the tools the adapters drive, and the standard library.
OTHER_NAMESPACES = (
    "pulumi.automation",
    "pulumi.automation.events",
    "pulumi.dynamic",
    "pulumi.provider.experimental.property_value",
    "filelock",
    "typer",
    "pydantic",
    "pathlib",
    "fcntl",
)


@dataclass(frozen=True)
class Text:
    """A document (or a module docstring) and where it is."""

    where: str
    path: Path
    body: str


@dataclass(frozen=True)
class Problem:
    where: str
    reference: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reference!r} {self.reason}"


# --- the texts ----------------------------------------------------------------------------------------------


def tracked_files() -> list[str]:
    command = ["git", "ls-files", "--cached", "--others", "--exclude-standard"]  # new files count as soon as made
    listed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [line for line in listed.splitlines() if (ROOT / line).exists()]


def _markdown_files() -> list[Path]:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    return [path for path in files if path.is_file()]


def _module_docstrings() -> Iterator[Text]:
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")), clean=False)
            if docstring:
                yield Text(str(path.relative_to(ROOT)), path, docstring)


def texts() -> list[Text]:
    found = [Text(str(path.relative_to(ROOT)), path, path.read_text(encoding="utf-8")) for path in _markdown_files()]
    return found + list(_module_docstrings())


# --- paths and links ----------------------------------------------------------------------------------------

PATH = re.compile(r"(?<![\w./~$-])((?:" + "|".join(re.escape(p) for p in PREFIXES) + r")/[\w./{},*<>-]*)")
LINK = re.compile(r"\[[^\]]*\]\((?!https?:|mailto:|#)([^)#\s]+)(?:#[^)]*)?\)")
MD_NAME = re.compile(r"(?<![\w/.-])([\w-]+\.md)\b")


def _expand(path: str) -> list[str]:
    """`a/{b,c}.py` → `a/b.py`, `a/c.py`; a placeholder (`{env}`, `<ts>`, `*`) ends the part that is checked."""
    match = re.search(r"\{([^{}]*,[^{}]*)\}", path)
    if match:
        return [
            alt for part in match[1].split(",") for alt in _expand(path[: match.start()] + part + path[match.end() :])
        ]
    fixed = re.split(r"[{<*]", path, maxsplit=1)
    if len(fixed) > 1:
        return [fixed[0].rsplit("/", 1)[0] + "/"]
    return [path]


def path_problems(text: Text) -> Iterator[Problem]:
    for match in PATH.finditer(text.body):
        raw = match[1].rstrip(".,;:)")
        for path in _expand(raw):
            if path.rstrip("/") in ALLOWED or (ROOT / path).exists():
                continue
            yield Problem(text.where, path, "names no file or folder of the checkout")


def link_problems(text: Text) -> Iterator[Problem]:
    if text.path.suffix != ".md":
        return
    for match in LINK.finditer(text.body):
        target = (text.path.parent / match[1]).resolve()
        if not target.exists():
            yield Problem(text.where, match[1], "is a link to nothing")


def md_name_problems(text: Text, names: set[str]) -> Iterator[Problem]:
    for match in MD_NAME.finditer(text.body):
        if match[1] not in names and match[1] not in ALLOWED:
            yield Problem(text.where, match[1], "names a document the repository does not have")


PY_NAME = re.compile(r"^[\w-]+(?:/[\w-]+)*(?:\.py|/)$")


def listed_file_problems(text: Text, tracked: list[str]) -> Iterator[Problem]:
    """A list item that starts with a folder (`- `orchestrator/lab/`: …`) names files and folders under it:
    each must exist there. Elsewhere a bare `name.py` must be some tracked file's name."""
    basenames = {Path(path).name for path in tracked}
    items = re.split(r"\n(?=- )", text.body)
    for item in items:
        spans = list(code_spans(item))
        folder = spans[0] if item.startswith("- ") and spans and PATH.fullmatch(spans[0]) else None
        for span in spans[1:] if folder else spans:
            if not PY_NAME.match(span) or PATH.fullmatch(span):
                continue
            if folder and folder.endswith("/"):
                if not (ROOT / folder / span).exists():
                    yield Problem(text.where, folder + span, "is listed under a folder that does not hold it")
            elif span.endswith(".py") and Path(span).name not in basenames:
                yield Problem(text.where, span, "names a Python file the repository does not have")


# --- Python names ---------------------------------------------------------------------------------------------

CODE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)|``([^`\n]+)``")
NAME = re.compile(r"^(?P<name>[A-Za-z_]\w*(?:[.:][A-Za-z_]\w*)*)(?:\[[^\]]*\])?(?P<call>\([^()]*\))?$")


@dataclass(frozen=True)
class Index:
    """Every name the package defines (modules, classes, functions, module and class attributes)."""

    defined: frozenset[str]
    owners: dict[str, tuple[str, ...]]
    """A class or function name → the modules defining it."""
    strings: frozenset[str]
    """The one-word and dotted string literals of the package: logger names, error kinds (`Interrupted`)."""


@cache
def package_index() -> Index:
    defined: set[str] = set()
    owners: dict[str, list[str]] = {}
    strings: set[str] = set()
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            module = ".".join(parts)
            defined.update(parts)
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                    defined.add(node.name)
                    owners.setdefault(node.name, []).append(module)
                elif isinstance(node, ast.Assign):
                    defined.update(target.id for target in node.targets if isinstance(target, ast.Name))
                elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                    defined.add(node.target.id)
                elif (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and re.fullmatch(r"[A-Za-z_][\w.]*", node.value)
                ):
                    strings.add(node.value)
    owned = {name: tuple(modules) for name, modules in owners.items()}
    return Index(frozenset(defined), owned, frozenset(strings))


def _resolve_dotted(dotted: str) -> bool:
    """`orchestrator.a.b:C.d` / `orchestrator.a.b.C.d`: the longest importable module, then attributes."""
    module_part, _, attr_part = dotted.partition(":")
    names = module_part.split(".")
    for cut in range(len(names), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(names[:cut]))
        except ImportError:
            continue
        rest = names[cut:] + (attr_part.split(".") if attr_part else [])
        return all(_has(obj := _get(obj, attr), attr) for attr in rest) if rest else True
    return False


_MISSING = object()


def _get(obj: Any, attr: str) -> Any:
    value = getattr(obj, attr, _MISSING)
    if value is _MISSING and attr in _fields(obj):
        return None  # a field without a class-level default still exists
    return value


def _has(value: Any, attr: str) -> bool:
    return value is not _MISSING


def _fields(obj: Any) -> set[str]:
    found = set(getattr(obj, "__dataclass_fields__", {}))
    found |= set(getattr(obj, "model_fields", {}) if isinstance(obj, type) else {})
    for klass in getattr(obj, "__mro__", ()):
        found |= set(getattr(klass, "__annotations__", {}))
    return found


def _third_party(name: str) -> bool:
    return any(_resolve_external(f"{namespace}.{name}") for namespace in OTHER_NAMESPACES)


def _resolve_external(dotted: str) -> bool:
    names = dotted.split(".")
    for cut in range(len(names) - 1, 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(names[:cut]))
        except ImportError:
            continue
        return all(_has(obj := _get(obj, attr), attr) for attr in names[cut:])
    return False


def _is_class_like(name: str) -> bool:
    return name[0].isupper() and any(c.islower() for c in name)


def name_problem(reference: str, index: Index) -> str | None:
    """Why a backticked reference that claims to be our code is not, or None (resolves, or no claim)."""
    match = NAME.match(reference.strip())
    if not match:
        return None
    name, call = match["name"], match["call"]
    if name in index.strings or name in ALLOWED:  # a logger name, an error kind: the code spells it so
        return None
    first, *rest = re.split(r"[.:]", name)
    if first in SOURCES:
        return None if _resolve_dotted(name) else "is not importable from the package"
    if first in SUBPACKAGES and rest:
        return None if _resolve_dotted("orchestrator." + name) else "is not a module or name of the package"
    if _is_class_like(first):
        if first not in index.defined:
            return None if _third_party(name) else "is no class or name of the package"
        if rest:
            owners = index.owners.get(first, ())
            if not any(_resolve_dotted(f"{module}.{first}.{'.'.join(rest)}") for module in owners):
                return None if _third_party(name) else f"has no attribute {'.'.join(rest)}"
        return None
    if re.fullmatch(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+", first) and not rest:
        return None if first in index.defined else "is no constant of the package"
    if call is not None and not rest and first.islower():
        known = first in index.defined or hasattr(builtins, first) or _third_party(first)
        return None if known else "is no function of the package"
    return None


ROLE = re.compile(r":(?:mod|class|func|meth|attr|data):`~?([^`]+)`")


def code_spans(body: str) -> Iterator[str]:
    """Inline code (`x`, ``x``) outside fenced blocks, and the targets of Sphinx roles (:mod:`x`)."""
    without_fences = ROLE.sub("", re.sub(r"```.*?```", "", body, flags=re.S))
    for match in CODE.finditer(without_fences):
        yield match[1] or match[2]


def role_targets(body: str) -> Iterator[str]:
    for match in ROLE.finditer(body):
        yield match[1]


def name_problems(text: Text, index: Index) -> Iterator[Problem]:
    package = _package_of(text)
    relative = [
        package + target if package and target.startswith(".") else target for target in role_targets(text.body)
    ]
    for span in [*code_spans(text.body), *relative]:  # :mod:`.settings` is relative to the docstring's package
        reference = span.strip()
        reason = name_problem(reference, index)
        if reason:
            yield Problem(text.where, reference, reason)


def _package_of(text: Text) -> str | None:
    if text.path.suffix != ".py":
        return None
    parts = list(text.path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1])


# --- layer chains and exit codes ---------------------------------------------------------------------------------

ARROW = re.compile(r"\s*(?:→|->|──►)\s*")


def chain_problems(text: Text, rules: Rules) -> Iterator[Problem]:
    layers = {layer.name for layer in rules.layers}
    candidates = list(code_spans(text.body))
    for block in re.findall(r"```[^\n]*\n(.*?)```", text.body, flags=re.S):
        candidates += block.splitlines()
    for line in candidates:
        parts = ARROW.split(line.strip())
        if len(parts) < 2:
            continue
        heads = [part.split()[0].strip("`") if part.split() else "" for part in parts]
        for left, right in itertools.pairwise(heads):
            if left in layers and right in layers and not rules.allows(left, right):
                yield Problem(text.where, f"{left} → {right}", "is an import docs/architecture.md does not allow")


EXIT = re.compile(r"\b(?:exit(?:s|ing)?(?: with)?(?: code)?|exit code)[:\s]+`?(\d+)`?", re.I)


def exit_code_problems(text: Text) -> Iterator[Problem]:
    codes = {int(code) for code in ExitCode}
    for match in EXIT.finditer(text.body):
        if int(match[1]) not in codes:
            yield Problem(text.where, match[0], "quotes an exit code ExitCode does not have")


# --- the tests --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def all_texts() -> list[Text]:
    return texts()


def _report(problems: list[Problem]) -> str:
    return "stale references (fix the doc, or allow a deliberate one in ALLOWED):\n" + "\n".join(map(str, problems))


def test_the_docs_name_only_paths_that_exist(all_texts: list[Text]) -> None:
    names = {Path(path).name for path in tracked_files() if path.endswith(".md")}
    problems = [p for text in all_texts for p in (*path_problems(text), *link_problems(text))]
    problems += [p for text in all_texts for p in md_name_problems(text, names)]
    problems += [p for text in all_texts for p in listed_file_problems(text, tracked_files())]

    assert problems == [], _report(problems)


def test_the_docs_name_only_python_names_that_exist(all_texts: list[Text]) -> None:
    index = package_index()
    problems = [problem for text in all_texts for problem in name_problems(text, index)]

    assert problems == [], _report(problems)


def test_the_docs_draw_only_imports_the_rules_allow(all_texts: list[Text]) -> None:
    rules = read_rules()
    problems = [problem for text in all_texts for problem in chain_problems(text, rules)]

    assert problems == [], _report(problems)


def test_the_docs_quote_only_exit_codes_that_exist(all_texts: list[Text]) -> None:
    problems = [problem for text in all_texts for problem in exit_code_problems(text)]

    assert problems == [], _report(problems)


def test_the_decision_index_lists_every_decision() -> None:
    index = (ROOT / "docs" / "decisions" / "README.md").read_text(encoding="utf-8")
    records = sorted(path.name for path in (ROOT / "docs" / "decisions").glob("[0-9][0-9][0-9][0-9]-*.md"))

    assert [name for name in records if f"]({name})" not in index] == []


def test_every_allowed_reference_is_still_mentioned(all_texts: list[Text]) -> None:
    bodies = "\n".join(text.body for text in all_texts)

    assert [reference for reference in ALLOWED if reference not in bodies] == []


# --- the checker catches what it must -----------------------------------------------------------------------------


def _text(body: str, where: str = "docs/example.md") -> Text:
    return Text(where, ROOT / where, body)


@pytest.mark.parametrize(
    "body",
    [
        "See `orchestrator/infrastructure/lxd/lab.py`.",
        "The design is in design.md.",
        "[ADR](decisions/0042-nothing.md)",
        "Split in `orchestrator/cli/{lifecycle,nothing}.py`.",
        "- `orchestrator/lab/`: `settings.py`, `lab.py` (moved away)",
        "The lab lives in `lxd_lab.py`.",
    ],
)
def test_a_stale_path_is_caught(body: str) -> None:
    tracked = tracked_files()
    names = {Path(path).name for path in tracked if path.endswith(".md")}
    text = _text(body)
    found = [*path_problems(text), *link_problems(text), *md_name_problems(text, names)]

    assert [*found, *listed_file_problems(text, tracked)] != []


@pytest.mark.parametrize(
    "reference",
    [
        "Deployer.run_commands",
        "JsonFileRepo",
        "orchestrator.cli.quick_path:mian",
        "persistence.strict_reader",
        "EXIT_CODE_MEANING",
        "requires(State)",
        "Environment.start_provisoning",
    ],
)
def test_a_stale_python_name_is_caught(reference: str) -> None:
    assert name_problem(reference, package_index()) is not None


@pytest.mark.parametrize(
    "reference",
    [
        "Deployer.run_command",
        "JsonFileRepository",
        "ExitCode",
        "orchestrator.cli.quick_path:main",
        "persistence.strict_read",
        "EXIT_CODE_MEANINGS",
        "require(State)",
        "Environment[Created]",
        "CommandResult.stale_state",
        "PulumiCommand",
        "torrust-deploy show my-env",
        "--json",
    ],
)
def test_a_true_or_non_code_reference_passes(reference: str) -> None:
    assert name_problem(reference, package_index()) is None


def test_a_chain_the_rules_forbid_is_caught() -> None:
    rules = read_rules()

    assert list(chain_problems(_text("`cli → api → commands → domain`"), rules)) == []
    assert [str(p) for p in chain_problems(_text("```\ncommands → infrastructure\n```"), rules)] == [
        "docs/example.md: 'commands → infrastructure' is an import docs/architecture.md does not allow"
    ]


def test_an_exit_code_that_does_not_exist_is_caught() -> None:
    assert list(exit_code_problems(_text("`check` exits 5 on drift; Ctrl-C exits 130."))) == []
    assert len(list(exit_code_problems(_text("a timeout exits with code 7")))) == 1
