"""What the README states about the CLI, read out of the Markdown and checked against the real thing.

- **Commands**: every `torrust-deploy …` command line — in shell code blocks, in inline code in prose
  and in tables — resolves through the CLI the typer app registers at the time of the check: the whole
  command path, every option (of the command it is written after), the number of positional arguments,
  and the required ones. Inline code that starts with a top-level command (`` `lab up` ``, `` `show ENV` ``)
  is resolved the same way, except that it may leave out required arguments (prose names a command).
  Written forms the README uses: `[--force]` (optional: checked as if given), `ensure|status|build` in a
  command's place (each alternative checked), `…` (the rest is left open), upper-case placeholders.
- **Exit codes**: the exit-code list, and every "exits N" / "exit code is N" in the text, against the
  CLI's table.
- **Config**: the JSON config blocks (the ones with an `ssh` section).

The functions take the README's text, so the tests can prove that each check rejects a wrong line.
tests/unit/test_readme.py runs them on README.md; tests/e2e/test_readme.py runs the marked blocks.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from typer import _click
from typer.core import TyperGroup

README = Path(__file__).resolve().parents[2] / "README.md"
PROG = "torrust-deploy"
FENCE = re.compile(r"^```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^```", re.S | re.M)
INLINE = re.compile(r"(?<!`)`(?P<code>[^`\n]+)`(?!`)")
SHELL_LANGS = ("sh", "bash", "shell", "console", "")
SHELL_OPERATORS = frozenset({"&&", "||", ";", "|", "&", ">", ">>", "2>", "2>>", "&>", "<", "<<"})
ELLIPSIS = frozenset({"…", "...", "[…]", "[...]"})


def readme_text() -> str:
    return README.read_text(encoding="utf-8")


def marked_block(marker: str, text: str | None = None) -> str:
    """The body of the first fenced block after `<!-- readme-test: MARKER -->`."""
    text = readme_text() if text is None else text
    at = text.index(f"<!-- readme-test: {marker} -->")
    match = FENCE.search(text, at)
    assert match is not None
    return match["body"]


def quickstart_lines() -> list[str]:
    return [line.strip() for line in marked_block("quickstart").splitlines() if line.strip()]


# --- the CLI as registered --------------------------------------------------------------------------


@cache
def _root() -> tuple[_click.Command, _click.Context]:
    from typer.main import get_command

    from orchestrator.cli.main import app

    root = get_command(app)
    return root, _click.Context(root, info_name=PROG, **root.context_settings)


def _child(command: _click.Command, name: str, parent: _click.Context) -> _click.Context:
    return _click.Context(command, info_name=name, parent=parent, **command.context_settings)


def root_options() -> set[str]:
    """The options of `torrust-deploy` itself (the global ones, written before the command)."""
    root, ctx = _root()
    return {name for param in root.get_params(ctx) for name in (*param.opts, *param.secondary_opts)}


def top_level_commands() -> set[str]:
    root, ctx = _root()
    assert isinstance(root, TyperGroup)
    return set(root.list_commands(ctx))


# --- resolving one command line ---------------------------------------------------------------------


def _unbracket(word: str) -> str:
    """`[--name` → `--name`, `NAME]` → `NAME`: an optional part is checked as if it were given."""
    return word.removeprefix("[").removesuffix("]") if word not in ELLIPSIS else word


def _ends_the_run(param: _click.Parameter) -> bool:
    """`--help`, `--version`, `--install-completion`: given, the command needs nothing else."""
    return param.is_eager or param.callback is not None


def command_problems(words: Sequence[str], *, complete: bool = True) -> list[str]:
    """What is wrong with `torrust-deploy WORDS…` against the CLI (empty: it resolves).

    `complete`: the line is a whole command line, so a group needs its subcommand and a command its
    required arguments and options; prose that only names a command passes `False`."""
    root, ctx = _root()
    cleaned = [_unbracket(word) for word in words]
    if ELLIPSIS & set(cleaned):
        cleaned, complete = cleaned[: min(cleaned.index(e) for e in ELLIPSIS & set(cleaned))], False
    return _walk(root, ctx, cleaned, complete, PROG)


def _walk(command: _click.Command, ctx: _click.Context, words: list[str], complete: bool, path: str) -> list[str]:
    try:
        values, rest, order = command.make_parser(ctx).parse_args(list(words))
    except _click.exceptions.UsageError as error:
        return [f"{path}: {error.format_message()}"]
    given = {param.name for param in order}
    if any(_ends_the_run(param) for param in order):
        complete = False
    if isinstance(command, TyperGroup):
        if not rest:
            return [f"{path}: a command is missing"] if complete and not command.invoke_without_command else []
        problems: list[str] = []
        for name in rest[0].split("|"):  # `toolchain ensure|status|build`: each one
            sub = command.get_command(ctx, name)
            if sub is None:
                problems.append(f"{path}: no such command {name!r} (it has: {', '.join(command.list_commands(ctx))})")
            else:
                problems += _walk(sub, _child(sub, name, ctx), rest[1:], complete, f"{path} {name}")
        return problems
    if rest:
        return [f"{path}: unexpected extra argument(s) {' '.join(rest)!r}"]
    if complete:
        missing = [
            param.opts[0] if param.param_type_name == "option" else param.name.upper()
            for param in command.get_params(ctx)
            if param.required and (param.name not in given or values.get(param.name) is None)
        ]
        if missing:
            return [f"{path}: missing {', '.join(missing)}"]
    return []


def command_path(words: Sequence[str]) -> list[str]:
    """The command names of `torrust-deploy WORDS…` (`['create', 'environment']`), as far as they resolve."""
    command, ctx = _root()
    path: list[str] = []
    remaining = [_unbracket(word) for word in words]
    while isinstance(command, TyperGroup):
        try:
            _, rest, _ = command.make_parser(ctx).parse_args(remaining)
        except _click.exceptions.UsageError:
            break
        sub = command.get_command(ctx, rest[0]) if rest else None
        if sub is None:
            break
        path.append(rest[0])
        command, ctx, remaining = sub, _child(sub, rest[0], ctx), rest[1:]
    return path


# --- finding the command lines in the README --------------------------------------------------------


@dataclass(frozen=True)
class Mention:
    """A command the README shows: where (`code`, `prose`, `table`), its line, and its words after the
    program name. `complete`: a whole command line (code blocks, and inline code starting with
    `torrust-deploy`) rather than a command named in prose."""

    where: str
    line: int
    text: str
    words: tuple[str, ...]
    complete: bool

    def problems(self) -> list[str]:
        try:
            return command_problems(self.words, complete=self.complete)
        except ValueError as error:
            return [str(error)]


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _is_prog(word: str) -> bool:
    return word == PROG or word.endswith("/" + PROG)


def _shell_commands(line: str) -> Iterator[list[str]]:
    """The simple commands of one shell line (split at `&&`, `;`, `|`, redirections), comments dropped."""
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        return
    current: list[str] = []
    for word in [*words, ";"]:
        if word in SHELL_OPERATORS:
            if current:
                yield current
            current = []
        else:
            current.append(word)


def mentions(text: str) -> list[Mention]:
    """Every `torrust-deploy` command in the README: shell code blocks, inline code in prose and tables."""
    found: list[Mention] = []
    prose = FENCE.sub(lambda block: "\n" * block[0].count("\n"), text)  # the text outside code blocks, same lines
    for block in FENCE.finditer(text):
        if block["lang"] not in SHELL_LANGS:
            continue
        first = _line_of(text, block.start("body"))
        for number, line in enumerate(block["body"].splitlines(), start=first):
            for words in _shell_commands(line):
                if _is_prog(words[0]):
                    found.append(Mention("code", number, line.strip(), tuple(words[1:]), complete=True))
    commands = top_level_commands()
    for span in INLINE.finditer(prose):
        code = span["code"].strip()
        number = _line_of(prose, span.start())
        where = "table" if prose.splitlines()[number - 1].lstrip().startswith("|") else "prose"
        try:
            words = shlex.split(code)
        except ValueError:
            words = code.split()
        if words and _is_prog(words[0]):
            found.append(Mention(where, number, code, tuple(words[1:]), complete=len(words) > 1))
        elif words and words[0] in commands:
            found.append(Mention(where, number, code, tuple(words), complete=False))
    return found


# --- options named in prose ---------------------------------------------------------------------------


def all_options() -> set[str]:
    """Every option spelling of `torrust-deploy` and of each of its commands."""
    found: set[str] = set()

    def collect(command: _click.Command, ctx: _click.Context) -> None:
        found.update(name for param in command.get_params(ctx) for name in (*param.opts, *param.secondary_opts))
        if isinstance(command, TyperGroup):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None:
                    collect(sub, _child(sub, name, ctx))

    collect(*_root())
    return found


def global_option_problems(text: str) -> list[str]:
    """The options the paragraph "Global options go before the command: …" names exist: `torrust-deploy`'s
    own, or (in its asides, like `-f`) a command's (`--working-dir/-C DIR`: each spelling; `-vv`: `-v`)."""
    paragraph = next((p for p in text.split("\n\n") if p.lstrip().startswith("Global options")), None)
    if paragraph is None:
        return ["no paragraph starting with 'Global options'"]
    known, own = all_options(), root_options()
    spans = [span["code"].split()[0] for span in INLINE.finditer(paragraph) if span["code"].startswith("-")]
    problems = [] if sum(span.split("/")[0] in own for span in spans) >= 3 else ["it names no global option"]
    for span in spans:
        for spelling in span.split("/"):
            stacked = re.fullmatch(r"-([a-zA-Z])\1+", spelling)
            if (f"-{stacked[1]}" if stacked else spelling) not in known:
                problems.append(f"{spelling!r} is not an option of {PROG} or of any of its commands")
    return problems


# --- exit codes ---------------------------------------------------------------------------------------

EXIT_CODE_LIST = re.compile(r"\*\*Exit codes\*\*:(?P<body>.*?)(?=\n\s*(?:- |\n)|\Z)", re.S)
EXIT_CODE_CLAIM = re.compile(r"\b(?:exits|exit code is|exits with|exit code) `?(?P<code>\d+)`?", re.I)


def _sections_about_the_cli(text: str) -> str:
    """The README without its Benchmarks section (the bench has exit codes of its own)."""
    return re.sub(r"^## Benchmarks\n.*?(?=^## |\Z)", "", text, flags=re.S | re.M)


def exit_code_problems(text: str, table: Mapping[int, str]) -> list[str]:
    """The README's exit-code list is exactly the CLI's table, and every other exit code it names is in it."""
    problems: list[str] = []
    text = _sections_about_the_cli(text)
    listing = EXIT_CODE_LIST.search(text)
    if listing is None:
        return ["no '**Exit codes**:' list"]
    listed = [int(code) for code in re.findall(r"`(\d+)`", listing["body"])]
    if len(listed) != len(set(listed)):
        problems.append(f"an exit code is listed twice: {listed}")
    if unknown := sorted(set(listed) - set(table)):
        problems.append(f"listed but not in the CLI's table: {unknown}")
    if undocumented := sorted(set(table) - set(listed)):
        problems.append(f"in the CLI's table but not listed: {undocumented}")
    for claim in EXIT_CODE_CLAIM.finditer(text):
        if int(claim["code"]) not in table:
            problems.append(f"line {_line_of(text, claim.start())}: {claim[0]!r} is not in the CLI's table")
    return problems


# --- the config file ------------------------------------------------------------------------------------


def config_blocks(text: str) -> list[dict[str, Any]]:
    """The JSON blocks that are environment configs (an object with an `ssh` section)."""
    documents = [json.loads(block["body"]) for block in FENCE.finditer(text) if block["lang"] == "json"]
    return [document for document in documents if isinstance(document, dict) and "ssh" in document]


def config_field_problems(text: str, sections: Mapping[str, type[BaseModel]]) -> list[str]:
    """The fields a "`SECTION` also takes `a`, `b`…" sentence names are fields of that config section."""
    problems: list[str] = []
    paragraphs = [p for p in text.split("\n\n") if re.match(r"\s*`(\w+)` also takes", p)]
    if not paragraphs:
        return ["no '`SECTION` also takes …' sentence"]
    for paragraph in paragraphs:
        section = re.match(r"\s*`(\w+)`", paragraph)
        assert section is not None
        model = sections.get(section[1])
        if model is None:
            problems.append(f"no config section {section[1]!r}")
            continue
        names = [span["code"] for span in INLINE.finditer(paragraph) if re.fullmatch(r"[a-z][a-z0-9_]*", span["code"])]
        unknown = [name for name in names if name != section[1] and name not in model.model_fields]
        problems += [f"{section[1]}.{name} is not a config field" for name in unknown]
    return problems
