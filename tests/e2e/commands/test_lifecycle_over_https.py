"""The happy path once more with LXD reached over HTTPS on loopback with a trusted client certificate
(the path to remote hosts and LXD clusters), not through the local socket."""

from __future__ import annotations

import datetime
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from orchestrator.api import Deployer
from orchestrator.infrastructure.pulumi.lxd_provider import LxdConnection, connect
from tests.e2e.commands.test_lifecycle import _run_happy_path
from tests.support.e2e import MakeConfig

pytestmark = pytest.mark.e2e
HTTPS_ADDRESS = "127.0.0.1:18443"
SERVER_CERT = Path("/var/lib/lxd/server.crt")


@dataclass(frozen=True)
class HttpsRemote:
    endpoint: str
    client_cert: Path
    client_key: Path
    server_cert: Path


def _client_certificate(directory: Path) -> tuple[Path, Path, str]:
    key = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "torrust-deploy-e2e")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA384())
    )
    cert_path, key_path = directory / "client.crt", directory / "client.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return cert_path, key_path, cert.fingerprint(hashes.SHA256()).hex()


def _lxc(*args: str) -> str:
    return subprocess.run(["lxc", *args], capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def https_remote(tmp_path: Path, lab: Any) -> Iterator[HttpsRemote]:
    """The lab's daemon listening on loopback HTTPS, trusting a fresh client certificate (both undone after)."""
    previous = _lxc("config", "get", "core.https_address")
    if previous != HTTPS_ADDRESS:
        _lxc("config", "set", "core.https_address", HTTPS_ADDRESS)
    cert, key, fingerprint = _client_certificate(tmp_path)
    _lxc("config", "trust", "add", str(cert), "--name", "torrust-deploy-e2e")
    try:
        yield HttpsRemote(f"https://{HTTPS_ADDRESS}", cert, key, SERVER_CERT)
    finally:
        subprocess.run(["lxc", "config", "trust", "remove", fingerprint], capture_output=True, check=False)
        if previous != HTTPS_ADDRESS:
            _lxc("config", "set", "core.https_address", previous)


def test_environment_lifecycle_over_https_with_a_trusted_client_certificate(
    deployer: Deployer, make_config: MakeConfig, lxd_client: Any, https_remote: HttpsRemote
) -> None:
    remote = connect(
        LxdConnection(
            endpoint=https_remote.endpoint,
            client_cert=str(https_remote.client_cert),
            client_key=str(https_remote.client_key),
            server_cert=str(https_remote.server_cert),
        )
    )
    assert remote.trusted

    config = make_config(
        "e2e-https",
        endpoint=https_remote.endpoint,
        client_cert_path=str(https_remote.client_cert),
        client_key_path=str(https_remote.client_key),
        server_cert_path=str(https_remote.server_cert),
    )
    _run_happy_path(deployer, config, lxd_client)
