"""The raw floor's transport and release (bench/lxd_fixtures.py): scp with the product's ssh options, the
release installed where the product puts it, and the bench configs."""

from __future__ import annotations

from pathlib import Path

from bench.lxd_fixtures import (
    Keypair,
    RawRelease,
    compose_up_command,
    environment_config,
    make_keypair,
    scp_argv,
)


def _release() -> RawRelease:
    files = (Path("/r/docker-compose.yml"), Path("/r/tracker.toml"), Path("/r/tracker.env"))
    return RawRelease(files, Path("/c/rootfs.tar"), "torrust-deploy/tracker:3.0.0-x", ("USER 1000:1000",), 1313)


def test_scp_uses_the_products_ssh_options_and_one_connection_for_every_file() -> None:
    argv = scp_argv("10.0.0.5", Keypair(Path("/k/id")), [Path("/a"), Path("/b")], "/tmp/")

    assert argv[:4] == ["scp", "-q", "-P", "22"]
    assert argv[4:6] == ["-i", "/k/id"]
    assert "StrictHostKeyChecking=no" in argv
    assert argv[-3:] == ["/a", "/b", "torrust@10.0.0.5:/tmp/"]


def test_the_raw_release_lands_where_the_products_does_and_imports_the_image() -> None:
    command = _release().load_command()

    assert "sudo install -d -m 0750 /opt/torrust-tracker" in command
    assert "sudo install -m 0600 /tmp/tracker.env /opt/torrust-tracker/" in command
    assert "sudo docker import --change 'USER 1000:1000' /tmp/rootfs.tar torrust-deploy/tracker:3.0.0-x" in command
    assert "docker import" not in _release().files_command()
    assert compose_up_command().endswith("--file /opt/torrust-tracker/docker-compose.yml up -d")


def test_bench_configs_name_the_pool_and_have_a_tracker(tmp_path: Path) -> None:
    keypair = make_keypair(tmp_path)

    config = environment_config("bench-x", keypair, tmp_path, pool="lab-btrfs")

    assert config.lxd.storage_pool == "lab-btrfs"
    assert config.tracker is not None
    assert environment_config("bench-y", keypair, tmp_path, tracker=False).tracker is None
    assert environment_config("bench-z", keypair, tmp_path).lxd.storage_pool == "default"
