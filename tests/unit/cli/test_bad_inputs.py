"""A table of bad inputs: each one exits ≠ 0 with one `Error:` line and one `Tip:` line (or one JSON
error document with `--json`), never a traceback, and leaves the working dir exactly as it was.

"Destroy twice" is not in the table: `destroy` works from any state, so destroying a Destroyed
environment succeeds again (idempotent; see test_destroy_twice_succeeds_idempotently). Its place is
taken by "create an environment that exists".

Tests run as root, where chmod 000 does not stop a read; the truly unreadable key (permission denied)
is tested by running the CLI as the unprivileged user `nobody` (test_unreadable_key_as_unprivileged_user).
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from orchestrator.api import Adapters
from orchestrator.cli.schemas import ErrorDocument
from orchestrator.config import config_template
from tests.support.ci import skip_unless_ci_fails
from tests.support.cli import ENV, error_lines, make_environment, run_cli, snapshot, write_config

Doc = dict[str, Any]


def _with(**changes: Any) -> Callable[[Doc], Doc]:
    """A config edit: keys (`ssh__port` for ssh.port) set to values; the value `...` deletes the key."""

    def edit(document: Doc) -> Doc:
        changed = copy.deepcopy(document)
        for dotted, value in changes.items():
            *parents, last = dotted.split("__")
            target = changed
            for part in parents:
                target = target.setdefault(part, {})
            if value is ...:
                target.pop(last, None)
            else:
                target[last] = value
        return changed

    return edit


def _replace_key(name: str, content: str) -> Callable[[Path, Path], None]:
    def prepare(work: Path, keys: Path) -> None:
        (work / "keys" / name).write_text(content, encoding="utf-8")

    return prepare


def _remove_key(name: str) -> Callable[[Path, Path], None]:
    def prepare(work: Path, keys: Path) -> None:
        (work / "keys" / name).unlink()

    return prepare


def _key_is_directory(work: Path, keys: Path) -> None:
    (work / "keys" / "demo").unlink()
    (work / "keys" / "demo").mkdir()


def _public_key_is_fifo(work: Path, keys: Path) -> None:
    (work / "keys" / "demo.pub").unlink()
    os.mkfifo(work / "keys" / "demo.pub")


def _key_is_broken_symlink(work: Path, keys: Path) -> None:
    (work / "keys" / "demo").unlink()
    (work / "keys" / "demo").symlink_to(work / "keys" / "gone")


def _passphrase_key(work: Path, keys: Path) -> None:
    shutil.copy2(keys / "locked", work / "keys" / "demo")
    shutil.copy2(keys / "locked.pub", work / "keys" / "demo.pub")


def _config_is_directory(work: Path, keys: Path) -> None:
    (work / "env.json").unlink()
    (work / "env.json").mkdir()


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    code: int
    message: str  # a fragment of the Error: line
    edit: Callable[[Doc], Doc] | str | list[Any] | None = None  # the config: an edit, raw text, or a document
    config_name: str = "env.json"
    prepare: Callable[[Path, Path], None] | None = None
    state: str | None = None  # environment `demo` exists in this state beforehand
    tip: str = field(kw_only=True)  # a fragment of the Tip: line: what to do about it (required)


CREATE = ("create", "environment", "-f", "env.json")
LONG = "a" * 64
NAME_TIP = "use 1-63 lowercase letters, digits and dashes, starting with a letter"
SCHEMA_TIP = "`torrust-deploy create schema` prints the schema"
UNKNOWN_TIP = "Run `torrust-deploy list` to see the environments here"

CASES = [
    # --- environment names as arguments -------------------------------------------------------------
    Case("show-name-with-dotdot", ("show", "../demo"), 2, "contains '.'", tip=NAME_TIP),
    Case("show-name-with-slash", ("show", "a/b"), 2, "contains '/'", tip=NAME_TIP),
    Case("show-name-with-space", ("show", "my env"), 2, "contains ' '", tip=NAME_TIP),
    Case("show-name-unicode", ("show", "démo"), 2, "contains 'é'", tip=NAME_TIP),
    Case("show-name-64-chars", ("show", LONG), 2, "64 characters long", tip=NAME_TIP),
    Case("show-name-uppercase", ("show", "Demo"), 2, "contains 'D'", tip=NAME_TIP),
    Case("provision-name-dotdot-only", ("provision", ".."), 2, "contains '.'", tip=NAME_TIP),
    Case("destroy-name-with-path", ("destroy", "demo/../x"), 2, "contains '/'", tip=NAME_TIP),
    Case("purge-name-escaping-data-dir", ("purge", "../work", "--force"), 2, "contains '.'", tip=NAME_TIP),
    # --- environment names in the config ------------------------------------------------------------
    Case("config-name-with-dotdot", CREATE, 2, "contains '.'", _with(name=".."), tip=NAME_TIP),
    Case("config-name-with-slash", CREATE, 2, "contains '/'", _with(name="a/b"), tip=NAME_TIP),
    Case("config-name-with-space", CREATE, 2, "contains ' '", _with(name="my env"), tip=NAME_TIP),
    Case("config-name-unicode", CREATE, 2, "contains 'ü'", _with(name="ümlaut"), tip=NAME_TIP),
    Case("config-name-64-chars", CREATE, 2, "64 characters long", _with(name=LONG), tip=NAME_TIP),
    Case("config-name-uppercase", CREATE, 2, "contains 'M'", _with(name="MyEnv"), tip=NAME_TIP),
    Case("config-name-empty", CREATE, 2, "it is empty", _with(name=""), tip=NAME_TIP),
    # --- key files ----------------------------------------------------------------------------------
    Case("private-key-missing", CREATE, 2, "does not exist", prepare=_remove_key("demo"), tip="ssh-keygen"),
    Case("public-key-missing", CREATE, 2, "does not exist", prepare=_remove_key("demo.pub"), tip="ssh-keygen"),
    Case(
        "private-key-is-a-directory",
        CREATE,
        2,
        "not a regular file",
        prepare=_key_is_directory,
        tip="the SSH private key file itself",
    ),
    Case(
        "public-key-is-a-fifo",
        CREATE,
        2,
        "not a regular file",
        prepare=_public_key_is_fifo,
        tip="the SSH public key file itself",
    ),
    Case(
        "private-key-is-a-broken-symlink",
        CREATE,
        2,
        "broken symbolic link",
        prepare=_key_is_broken_symlink,
        tip="at the file itself",
    ),
    Case(
        "public-key-malformed",
        CREATE,
        2,
        "not an OpenSSH public key",
        prepare=_replace_key("demo.pub", "hello"),
        tip="the .pub file written by ssh-keygen",
    ),
    Case(
        "public-key-empty",
        CREATE,
        2,
        "not an OpenSSH public key",
        prepare=_replace_key("demo.pub", ""),
        tip="the .pub file written by ssh-keygen",
    ),
    Case(
        "private-key-malformed",
        CREATE,
        2,
        "is not a private key",
        prepare=_replace_key("demo", "garbage\n"),
        tip="ssh.private_key_path at the private half",
    ),
    Case(
        "private-key-passphrase-protected",
        CREATE,
        2,
        "protected by a passphrase",
        prepare=_passphrase_key,
        tip="without a passphrase",
    ),
    Case(
        "private-key-path-is-the-public-key",
        CREATE,
        2,
        "is not a private key",
        _with(ssh__private_key_path="keys/demo.pub"),
        tip="ssh.private_key_path at the private half",
    ),
    Case(
        "validate-passphrase-protected-key",
        ("validate", "-f", "env.json"),
        2,
        "passphrase",
        prepare=_passphrase_key,
        tip="without a passphrase",
    ),
    # --- config files -------------------------------------------------------------------------------
    Case(
        "config-malformed-json",
        CREATE,
        2,
        "not valid JSON",
        '{"name": "demo",',
        tip="Fix the syntax; `torrust-deploy create template`",
    ),
    Case(
        "config-malformed-toml",
        ("create", "environment", "-f", "env.toml"),
        2,
        "not valid TOML",
        'name = "demo"\n[ssh\n',
        config_name="env.toml",
        tip="Fix the syntax; `torrust-deploy create template`",
    ),
    Case("config-is-a-list", CREATE, 2, "must hold an object", ["demo"], tip="`torrust-deploy create template`"),
    Case(
        "config-unknown-field",
        CREATE,
        2,
        "unknown field colour",
        _with(colour="blue"),
        tip="Fields allowed at the top level: name",
    ),
    Case(
        "config-unknown-ssh-field",
        CREATE,
        2,
        "unknown field ssh.passphrase",
        _with(ssh__passphrase="x"),
        tip="Fields allowed in ssh: private_key_path, public_key_path",
    ),
    Case("config-port-not-a-number", CREATE, 2, "ssh.port", _with(ssh__port="twenty-two"), tip=SCHEMA_TIP),
    Case("config-port-out-of-range", CREATE, 2, "ssh.port", _with(ssh__port=70000), tip=SCHEMA_TIP),
    Case("config-name-not-a-string", CREATE, 2, "name", _with(name=42), tip=SCHEMA_TIP),
    Case("config-ssh-section-missing", CREATE, 2, "missing field ssh", _with(ssh=...), tip=SCHEMA_TIP),
    Case(
        "config-file-missing",
        ("validate", "-f", "nope.json"),
        2,
        "does not exist",
        tip="`torrust-deploy create template > env.json`",
    ),
    Case(
        "config-file-is-a-directory",
        CREATE,
        2,
        "not a regular file",
        prepare=_config_is_directory,
        tip="the path of the config file itself",
    ),
    Case(
        "config-invalid-username",
        CREATE,
        2,
        "invalid SSH username",
        _with(ssh__username="Root User"),
        tip="a POSIX user name",
    ),
    Case(
        "config-http-endpoint",
        CREATE,
        2,
        "invalid LXD endpoint",
        _with(lxd__endpoint="http://host:8443"),
        tip="`https://HOST:8443`",
    ),
    Case(
        "config-unknown-instance-type", CREATE, 2, "lxd.instance_type", _with(lxd__instance_type="vm"), tip=SCHEMA_TIP
    ),
    Case(
        "config-client-cert-missing",
        CREATE,
        2,
        "LXD client certificate",
        _with(lxd__endpoint="https://10.0.0.1:8443", lxd__client_cert_path="c.crt", lxd__client_key_path="c.key"),
        tip="lxd.client_cert_path at an existing PEM file",
    ),
    # --- unknown environments -----------------------------------------------------------------------
    Case("show-unknown", ("show", "ghost"), 4, "does not exist", tip=UNKNOWN_TIP),
    Case("provision-unknown", ("provision", "ghost"), 4, "does not exist", tip=UNKNOWN_TIP),
    Case("configure-unknown", ("configure", "ghost"), 4, "does not exist", tip=UNKNOWN_TIP),
    Case("deploy-unknown", ("deploy", "ghost"), 4, "does not exist", tip=UNKNOWN_TIP),
    Case("destroy-unknown", ("destroy", "ghost"), 4, "does not exist", tip=UNKNOWN_TIP),
    Case("purge-unknown", ("purge", "ghost", "--force"), 4, "does not exist", tip=UNKNOWN_TIP),
    # --- wrong state --------------------------------------------------------------------------------
    Case(
        "configure-before-provision",
        ("configure", ENV),
        2,
        "state Created, but `configure` starts from Provisioned, ConfigureFailed, Configured, Released, "
        "ReleaseFailed, Running or RunFailed",
        state="created",
        tip=f"torrust-deploy provision {ENV}",
    ),
    Case("provision-after-destroy", ("provision", ENV), 2, "state Destroyed", state="destroyed", tip="create it again"),
    Case("deploy-after-destroy", ("deploy", ENV), 2, "state Destroyed", state="destroyed", tip="create it again"),
    Case(
        "create-existing-environment", CREATE, 2, "already exists", state="created", tip=f"`torrust-deploy purge {ENV}`"
    ),
    Case(
        "purge-without-force-no-tty",
        ("purge", ENV),
        2,
        "needs confirmation and stdin is not a terminal",
        state="destroyed",
        tip=f"torrust-deploy purge {ENV} --force",
    ),
    # --- usage --------------------------------------------------------------------------------------
    Case("unknown-option", ("show", ENV, "--colour"), 2, "No such option: --colour", tip="show --help"),
    Case("missing-argument", ("show",), 2, "Missing argument 'ENVIRONMENT'", tip="show --help"),
    Case(
        "missing-config-option",
        ("create", "environment"),
        2,
        "Missing option '--file'",
        tip="`torrust-deploy create environment --help`",
    ),
    Case("unknown-command", ("provison", ENV), 2, "No such command 'provison'", tip="torrust-deploy --help"),
    Case(
        "negative-lock-timeout",
        ("--lock-timeout", "-1", "show", ENV),
        2,
        "--lock-timeout",
        tip="`torrust-deploy --help`",
    ),
    Case("bad-log-format", ("--log-format", "xml", "show", ENV), 2, "--log-format", tip="`torrust-deploy --help`"),
]


def test_the_table_has_at_least_25_cases_with_unique_ids() -> None:
    assert len(CASES) >= 25
    assert len({case.id for case in CASES}) == len(CASES)


def _setup(case: Case, work: Path, key_store: Path, fakes: Adapters, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(work)  # `-f env.json` is relative to the current folder, like any file argument
    if case.state is not None:
        make_environment(work, case.state, fakes)
    if callable(case.edit):
        write_config(work, case.edit(config_template(ENV)), case.config_name)
    elif case.edit is not None:
        write_config(work, case.edit, case.config_name)
    if case.prepare is not None:
        case.prepare(work, key_store)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_bad_input_prints_one_error_and_a_tip_and_changes_nothing(
    case: Case, work: Path, key_store: Path, fakes: Adapters, monkeypatch: pytest.MonkeyPatch
) -> None:
    _setup(case, work, key_store, fakes, monkeypatch)
    before = snapshot(work.parent)

    result = run_cli(work, *case.args)

    assert result.exit_code == case.code, result.output
    assert result.stdout == ""
    lines = error_lines(result.stderr)
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith("Error: ") and case.message in lines[0], lines[0]
    assert lines[1].startswith("Tip: ") and case.tip in lines[1], lines[1]
    assert "Traceback" not in result.output
    assert snapshot(work.parent) == before


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_bad_input_with_json_prints_one_error_document(
    case: Case, work: Path, key_store: Path, fakes: Adapters, monkeypatch: pytest.MonkeyPatch
) -> None:
    _setup(case, work, key_store, fakes, monkeypatch)
    before = snapshot(work.parent)

    result = run_cli(work, *case.args, json_output=True)

    assert result.exit_code == case.code, result.output
    document = ErrorDocument.model_validate_json(result.stdout)
    assert document.error.exit_code == case.code
    assert case.message in document.error.message
    assert case.tip in document.error.tip
    assert result.stderr == ""
    assert snapshot(work.parent) == before


def test_destroy_twice_succeeds_idempotently(work: Path, fakes: Adapters) -> None:
    make_environment(work, "configured", fakes)

    first = run_cli(work, "destroy", ENV)
    second = run_cli(work, "destroy", ENV)

    assert (first.exit_code, second.exit_code) == (0, 0), second.output
    assert "State:       Destroyed" in second.stdout


# --- the unreadable key, for real: as an unprivileged user ----------------------------------------------


@pytest.fixture
def shared_work(key_store: Path) -> Iterator[Path]:
    """A working dir that user `nobody` can enter (pytest's tmp dirs are private to root)."""
    top = Path(tempfile.mkdtemp(prefix="torrust-cli-"))
    try:
        top.chmod(0o755)
        work = top / "work"
        (work / "keys").mkdir(parents=True)
        work.chmod(0o755)
        (work / "keys").chmod(0o755)
        for name in ("demo", "demo.pub"):
            shutil.copy2(key_store / name, work / "keys" / name)
            (work / "keys" / name).chmod(0o644)
        write_config(work, config_template(ENV)).chmod(0o644)
        yield work
    finally:
        shutil.rmtree(top)


def test_unreadable_key_as_unprivileged_user(shared_work: Path) -> None:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        skip_unless_ci_fails("running the CLI as user `nobody` needs root and setpriv")
    (shared_work / "keys" / "demo").chmod(0o000)
    before = snapshot(shared_work)
    cli = Path(sys.executable).with_name("torrust-deploy")

    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
    result = subprocess.run(
        [*as_nobody, str(cli), "-C", str(shared_work), "validate", "-f", str(shared_work / "env.json")],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "HOME": "/nonexistent", "PYTHONDONTWRITEBYTECODE": "1"},
        stdin=subprocess.DEVNULL,
    )

    assert result.returncode == 2, result.stderr
    lines = error_lines(result.stderr)
    assert len(lines) == 2, result.stderr
    assert lines[0] == f"Error: SSH private key {shared_work / 'keys' / 'demo'} is not readable"
    assert lines[1].startswith("Tip: Give this user read access")
    assert snapshot(shared_work) == before
