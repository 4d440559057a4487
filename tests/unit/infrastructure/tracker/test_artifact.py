"""The tracker artifact without cargo: the cache key and recipe hash, a cache hit running nothing, a miss
running the one cargo command and renaming its result into place, errors with tips, and the rootfs tar
(a small real ELF, /bin/true, standing in for the tracker's binaries)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest

from orchestrator.domain.tracker import InvalidTrackerSettingsError
from orchestrator.infrastructure.tracker import artifact
from orchestrator.infrastructure.tracker.artifact import (
    BINS,
    BUILD_PACKAGES,
    CARGO_PROFILE_ENV,
    BuildDependenciesError,
    CargoNotFoundError,
    TrackerArtifacts,
    TrackerBuildError,
    TrackerPackagingError,
    build_key,
    cargo_environment,
    cargo_install_argv,
    docker_import_changes,
    image_tag,
    parse_host_triple,
    parse_ldd,
    recipe_hash,
    rootfs_members,
    sha256_file,
    write_rootfs_tar,
)
from orchestrator.infrastructure.tracker.container import (
    BINARY_PATH,
    CONFIG_ENV_VAR,
    CONFIG_PATH,
    DATABASE_DIR,
    GROUP_ID,
    HEALTH_CHECK_BINARY_PATH,
    USER_ID,
    USER_NAME,
)

TRUE = Path(shutil.which("true") or "/bin/true").resolve()
TRIPLE = f"{os.uname().machine}-unknown-linux-gnu"
RUSTC_VV = f"rustc 1.95.0 (59807616e 2026-04-14)\nbinary: rustc\nhost: {TRIPLE}\nrelease: 1.95.0\n"
LDD_OUTPUT = """\
\tlinux-vdso.so.1 (0x00007ffd5a1f2000)
\tlibssl.so.3 => /lib/x86_64-linux-gnu/libssl.so.3 (0x00007f0c1c600000)
\tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x00007f0c1c5e0000)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0c1c200000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007f0c1d000000)
"""
# What `docker commit/import --change` accepts (moby's validCommitCommands).
DOCKER_IMPORT_INSTRUCTIONS = {"CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "ONBUILD", "USER", "VOLUME", "WORKDIR"}


def _completed(argv: Sequence[str], stdout: str = "", code: int = 0) -> subprocess.CompletedProcess[str]:
    return subprocess.CompletedProcess(list(argv), code, stdout, "")


@dataclass
class FakeTools:
    """rustc, dpkg-query and apt-get answered from fields; cargo "installs" copies of /bin/true."""

    installed: set[str] = field(default_factory=lambda: set(BUILD_PACKAGES))
    cargo_code: int = 0
    cargo_lines: tuple[str, ...] = ("   Compiling torrust-tracker v3.0.0", "    Finished `release` profile")
    calls: list[list[str]] = field(default_factory=list)
    cargo_calls: list[tuple[list[str], dict[str, str]]] = field(default_factory=list)

    def run(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(argv))
        name = Path(argv[0]).name
        if name == "rustc":
            return _completed(argv, RUSTC_VV if argv[1] == "-vV" else "rustc 1.95.0\n")
        if name == "dpkg-query":
            return _completed(argv, "".join(f"{p} ii \n" for p in argv[3:] if p in self.installed))
        if name == "apt-get":
            self.installed.update(a for a in argv[2:] if not a.startswith("-"))
            return _completed(argv)
        raise AssertionError(f"unexpected command {argv}")

    def run_cargo(
        self, argv: Sequence[str], env: Mapping[str, str], log: IO[str], on_line: Callable[[str], None]
    ) -> int:
        self.cargo_calls.append((list(argv), dict(env)))
        for line in self.cargo_lines:
            log.write(line + "\n")
            on_line(line)
        if self.cargo_code == 0:
            root = Path(argv[argv.index("--root") + 1])
            (root / "bin").mkdir(parents=True)
            for name in BINS:
                shutil.copy2(TRUE, root / "bin" / name)
        return self.cargo_code


def _nothing_may_run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    raise AssertionError(f"ran {argv}")


def _no_cargo(argv: Sequence[str], env: Mapping[str, str], log: IO[str], on_line: Callable[[str], None]) -> int:
    raise AssertionError(f"ran cargo: {argv}")


def _artifacts(cache: Path, tools: FakeTools, **kwargs: object) -> TrackerArtifacts:
    return TrackerArtifacts(
        cache,
        run=tools.run,
        run_cargo=tools.run_cargo,
        cargo=Path("/opt/rust/bin/cargo"),
        is_root=True,
        **kwargs,  # type: ignore[arg-type]
    )


# --- recipe and cache key ----------------------------------------------------------------------------


def test_cache_key_names_version_target_and_recipe() -> None:
    recipe = recipe_hash()

    assert len(recipe) == 64
    assert int(recipe, 16) >= 0
    assert recipe == recipe_hash()  # stable within and across runs (canonical JSON)
    assert build_key("3.0.0", "x86_64-unknown-linux-gnu") == f"3.0.0-x86_64-unknown-linux-gnu-{recipe[:12]}"
    assert image_tag("3.0.0") == f"torrust-deploy/tracker:3.0.0-{recipe[:12]}"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CARGO_PROFILE_ENV", {**CARGO_PROFILE_ENV, "CARGO_PROFILE_RELEASE_LTO": "thin"}),
        ("BINS", ("torrust-tracker",)),
        ("RECIPE_VERSION", "2"),
        ("WORK_DIR", "/srv"),
        ("PASSWD", "root:x:0:0::/:/bin/sh\n"),
    ],
)
def test_recipe_hash_changes_with_the_cargo_flags_and_the_packaging(
    monkeypatch: pytest.MonkeyPatch, name: str, value: object
) -> None:
    before = recipe_hash()
    monkeypatch.setattr(artifact, name, value)

    assert recipe_hash() != before


def test_the_cargo_command_is_the_one_that_seeds_the_shared_target_dir(tmp_path: Path) -> None:
    argv = cargo_install_argv("cargo", "3.0.0", tmp_path / "root")
    env = cargo_environment(tmp_path / "cargo-target", base={"PATH": "/usr/bin"})

    assert argv == [
        "cargo",
        "install",
        "torrust-tracker@3.0.0",
        "--locked",
        "--bin",
        "torrust-tracker",
        "--bin",
        "http_health_check",
        "--root",
        str(tmp_path / "root"),
    ]
    assert env == {
        "PATH": "/usr/bin",
        "CARGO_TARGET_DIR": str(tmp_path / "cargo-target"),
        "CARGO_PROFILE_RELEASE_DEBUG": "0",
        "CARGO_PROFILE_RELEASE_LTO": "off",
        "CARGO_PROFILE_RELEASE_CODEGEN_UNITS": "16",
        "CARGO_PROFILE_RELEASE_STRIP": "symbols",
    }


def test_host_triple_is_rustcs_host_line() -> None:
    assert parse_host_triple(RUSTC_VV) == TRIPLE
    assert parse_host_triple("rustc 1.95.0\n") is None


def test_default_cache_is_the_shared_cache_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))

    artifacts = TrackerArtifacts()

    assert artifacts.root == tmp_path / "torrust-deploy" / "tracker"
    assert artifacts.target_dir == tmp_path / "torrust-deploy" / "tracker" / "cargo-target"


def test_an_invalid_version_is_refused_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(InvalidTrackerSettingsError):
        TrackerArtifacts(tmp_path, run=_nothing_may_run).ensure_binaries("3.0.0; rm -rf /")


# --- building into the cache -------------------------------------------------------------------------


def test_a_miss_runs_cargo_once_and_renames_the_result_into_the_cache(tmp_path: Path) -> None:
    tools = FakeTools()
    said: list[str] = []

    bin_dir = _artifacts(tmp_path, tools, progress=said.append).ensure_binaries("3.0.0")

    key = build_key("3.0.0", TRIPLE)
    assert bin_dir == tmp_path / key / "bin"
    assert sorted(p.name for p in bin_dir.iterdir()) == sorted(BINS)
    stamp = json.loads((tmp_path / key / ".complete").read_text())
    assert stamp["version"] == "3.0.0"
    assert stamp["triple"] == TRIPLE
    assert stamp["recipe"] == recipe_hash()
    assert "Compiling torrust-tracker" in (tmp_path / key / "cargo.log").read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".build-")] == []
    [(argv, env)] = tools.cargo_calls
    assert argv[:-1] == cargo_install_argv("/opt/rust/bin/cargo", "3.0.0", Path("x"))[:-1]
    assert env["CARGO_TARGET_DIR"] == str(tmp_path / "cargo-target")
    assert env["PATH"].startswith("/opt/rust/bin" + os.pathsep)
    assert any("building torrust-tracker 3.0.0" in line for line in said)


def test_a_cache_hit_runs_nothing(tmp_path: Path) -> None:
    _artifacts(tmp_path, FakeTools()).ensure_image("3.0.0")
    hit = TrackerArtifacts(tmp_path, run=_nothing_may_run, ldd=_nothing_may_run, run_cargo=_no_cargo)

    image = hit.ensure_image("3.0.0")

    assert image.archive == tmp_path / build_key("3.0.0", TRIPLE) / "rootfs.tar"
    assert hit.ensure_binaries("3.0.0") == image.archive.parent / "bin"
    assert hit.status("3.0.0").built


def test_a_changed_recipe_builds_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tools = FakeTools()
    first = _artifacts(tmp_path, tools).ensure_binaries("3.0.0")
    monkeypatch.setattr(artifact, "RECIPE_VERSION", "changed")

    second = _artifacts(tmp_path, tools).ensure_binaries("3.0.0")

    assert second != first
    assert len(tools.cargo_calls) == 2


def test_force_runs_cargo_again_and_replaces_the_build_and_its_image(tmp_path: Path) -> None:
    tools = FakeTools()
    artifacts = _artifacts(tmp_path, tools)
    old = artifacts.ensure_image("3.0.0")
    (old.archive.parent / "marker").write_text("old build")

    new = artifacts.ensure_image("3.0.0", force=True)

    assert len(tools.cargo_calls) == 2
    assert new.archive == old.archive
    assert new.sha256 == old.sha256  # same inputs, same bytes
    assert not (new.archive.parent / "marker").exists()


def test_a_failed_build_keeps_cargos_log_and_names_its_error(tmp_path: Path) -> None:
    lines = (
        *(f"   Compiling crate{i} v1.0.0" for i in range(30)),
        "error: failed to run custom build command for `openssl-sys v0.9.103`",
        "  Could not find directory of OpenSSL installation",
    )
    tools = FakeTools(cargo_code=101, cargo_lines=lines)

    with pytest.raises(TrackerBuildError) as raised:
        _artifacts(tmp_path, tools).ensure_binaries("3.0.0")

    error = raised.value
    assert "exit 101" in error.message
    assert "openssl-sys" in error.message
    assert "\n" not in error.message
    assert "Could not find directory of OpenSSL" in error.detail
    assert len(error.detail.splitlines()) == 20
    assert error.trace_path == tmp_path / f"{build_key('3.0.0', TRIPLE)}.failed.log"
    assert "crate0" in error.trace_path.read_text()  # the full log, not only its tail
    assert "artifact build" in error.tip
    assert not (tmp_path / build_key("3.0.0", TRIPLE)).exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".build-")] == []


def test_missing_cargo_is_an_error_with_a_tip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(artifact, "find_cargo", lambda: None)
    artifacts = TrackerArtifacts(tmp_path, run=FakeTools().run, run_cargo=_no_cargo)

    with pytest.raises(CargoNotFoundError) as raised:
        artifacts.ensure_binaries("3.0.0")

    assert "cargo is not installed" in str(raised.value)
    assert "tracker.image" in raised.value.tip


def test_no_rustc_is_an_error_with_a_tip(tmp_path: Path) -> None:
    def no_rustc(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        raise FileNotFoundError(argv[0])

    with pytest.raises(CargoNotFoundError) as raised:
        TrackerArtifacts(tmp_path, run=no_rustc, run_cargo=_no_cargo).ensure_binaries("3.0.0")

    assert "rustc" in str(raised.value)
    assert "rustup" in raised.value.tip


def test_missing_build_packages_are_installed_as_root(tmp_path: Path) -> None:
    if shutil.which("dpkg-query") is None:
        pytest.skip("not a Debian system")
    tools = FakeTools(installed={"make", "gcc", "ca-certificates"})

    _artifacts(tmp_path, tools).ensure_binaries("3.0.0")

    [install] = [call for call in tools.calls if call[:2] == ["apt-get", "install"]]
    assert install[-3:] == ["pkg-config", "libssl-dev", "zlib1g-dev"]


def test_missing_build_packages_are_an_error_for_a_normal_user(tmp_path: Path) -> None:
    if shutil.which("dpkg-query") is None:
        pytest.skip("not a Debian system")
    tools = FakeTools(installed={"make", "gcc", "ca-certificates", "pkg-config"})
    artifacts = TrackerArtifacts(tmp_path, run=tools.run, run_cargo=tools.run_cargo, cargo=TRUE, is_root=False)

    with pytest.raises(BuildDependenciesError) as raised:
        artifacts.ensure_binaries("3.0.0")

    assert str(raised.value) == "missing Debian build dependencies: libssl-dev zlib1g-dev"
    assert "apt-get install" in raised.value.tip
    assert tools.cargo_calls == []


def test_status_reports_what_is_cached(tmp_path: Path) -> None:
    tools = FakeTools()
    artifacts = _artifacts(tmp_path, tools)
    assert not artifacts.status("3.0.0").built

    image = artifacts.ensure_image("3.0.0")
    status = artifacts.status("3.0.0")

    assert status.built
    assert status.build_dir == image.archive.parent
    assert status.binaries == {name: TRUE.stat().st_size for name in BINS}
    assert status.image == image
    assert status.triple == TRIPLE
    assert status.to_dict()["image"]["tag"] == image_tag("3.0.0")
    assert json.loads(json.dumps(status.to_dict())) == status.to_dict()


# --- the rootfs tar ----------------------------------------------------------------------------------


def _tar(tmp_path: Path, name: str = "rootfs.tar") -> Path:
    archive = tmp_path / name
    write_rootfs_tar(rootfs_members(TRUE, TRUE), archive)
    return archive


def test_the_tar_holds_binaries_libraries_loader_certificates_and_the_user(tmp_path: Path) -> None:
    with tarfile.open(_tar(tmp_path)) as tar:
        members = {m.name: m for m in tar.getmembers()}

        assert members[BINARY_PATH.lstrip("/")].mode == 0o755
        assert members[HEALTH_CHECK_BINARY_PATH.lstrip("/")].isfile()
        extracted = tar.extractfile(BINARY_PATH.lstrip("/"))
        assert extracted is not None
        assert extracted.read() == TRUE.read_bytes()
        libraries, _ = parse_ldd(subprocess.run(["ldd", str(TRUE)], capture_output=True, text=True, check=True).stdout)
        for library in libraries:  # libc and the dynamic loader at least, at the paths ldd names
            assert members[library.lstrip("/")].isfile(), library
        assert any("ld-linux" in name for name in members)
        assert members["etc/ssl/certs/ca-certificates.crt"].size > 0
        passwd = tar.extractfile("etc/passwd")
        group = tar.extractfile("etc/group")
        assert passwd is not None
        assert group is not None
        assert f"{USER_NAME}:x:{USER_ID}:{GROUP_ID}:" in passwd.read().decode()
        assert f"{USER_NAME}:x:{GROUP_ID}:" in group.read().decode()


def test_the_tar_has_numeric_owners_fixed_mtimes_and_the_users_folders(tmp_path: Path) -> None:
    with tarfile.open(_tar(tmp_path)) as tar:
        members = {m.name: m for m in tar.getmembers()}

    owned = {DATABASE_DIR.lstrip("/"), str(Path(CONFIG_PATH).parent).lstrip("/")}
    for name, member in members.items():
        assert member.isdir() or member.isfile(), name  # no symlinks, devices or hard links
        assert member.mtime == 0, name
        assert (member.uname, member.gname) == ("", ""), name
        assert (member.uid, member.gid) == ((USER_ID, GROUP_ID) if name in owned else (0, 0)), name
    assert members["tmp"].mode == 0o1777
    assert members[DATABASE_DIR.lstrip("/")].isdir()
    names = list(members)
    for name in names:  # every parent folder is a member, listed before what it holds
        parent = str(Path(name).parent)
        assert parent == "." or names.index(parent) < names.index(name), name


def test_the_tar_is_byte_for_byte_reproducible(tmp_path: Path) -> None:
    first, second = _tar(tmp_path, "a.tar"), _tar(tmp_path, "b.tar")

    assert sha256_file(first) == sha256_file(second)


def test_the_image_records_tag_size_and_sha256(tmp_path: Path) -> None:
    image = _artifacts(tmp_path, FakeTools()).ensure_image("3.0.0")

    assert image.tag == image_tag("3.0.0")
    assert image.size == image.archive.stat().st_size
    assert image.sha256 == sha256_file(image.archive)
    assert image.changes == docker_import_changes()


def test_a_library_ldd_cannot_find_is_a_packaging_error(tmp_path: Path) -> None:
    def ldd(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        return _completed(argv, "\tlibssl.so.3 => not found\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x1)\n")

    with pytest.raises(TrackerPackagingError) as raised:
        rootfs_members(TRUE, TRUE, run=ldd)

    assert "libssl.so.3" in str(raised.value)
    assert "libssl3" in raised.value.tip


def test_ldd_output_gives_library_paths_and_the_loader() -> None:
    found, missing = parse_ldd(LDD_OUTPUT + "\tlibfoo.so.1 => not found\n")

    assert found == [
        "/lib/x86_64-linux-gnu/libssl.so.3",
        "/lib/x86_64-linux-gnu/libz.so.1",
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/lib64/ld-linux-x86-64.so.2",
    ]
    assert missing == ["libfoo.so.1"]
    assert parse_ldd("\tstatically linked\n") == ([], [])


# --- docker import -----------------------------------------------------------------------------------


def test_docker_import_changes_run_the_tracker_as_its_user_with_the_config_path() -> None:
    changes = docker_import_changes()

    assert f"USER {USER_ID}:{GROUP_ID}" in changes
    assert f"ENV {CONFIG_ENV_VAR}={CONFIG_PATH}" in changes
    [entrypoint] = [c for c in changes if c.startswith("ENTRYPOINT ")]
    assert json.loads(entrypoint.removeprefix("ENTRYPOINT ")) == [BINARY_PATH]
    for change in changes:
        assert change.split()[0] in DOCKER_IMPORT_INSTRUCTIONS, change
