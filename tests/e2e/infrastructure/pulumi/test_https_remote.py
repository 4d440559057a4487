"""The provider on an HTTPS remote (the lab's daemon on loopback, a trusted client certificate): it
connects only to the server whose certificate it pins, and the client key it is given never reaches the
backend in plain text (checkpoint, history, backups). The whole lifecycle over HTTPS is
`tests/e2e/commands/test_lifecycle_over_https.py`."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pulumi
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pulumi.automation.errors import CommandError

import pulumi_lxd as lxd
from tests.e2e.commands.test_lifecycle_over_https import HttpsRemote
from tests.e2e.infrastructure.pulumi.harness import changes, program_stack, unique

pytestmark = pytest.mark.e2e


def _other_certificate() -> str:
    """A self-signed certificate that is not the server's."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not-the-lxd-server")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def test_the_provider_reaches_an_https_remote_it_pins_and_keeps_the_client_key_secret(
    tmp_path: Path, names: list[str], lxd_client: Any, https_remote: HttpsRemote
) -> None:
    name = unique()
    names.append(name)
    client_key = https_remote.client_key.read_text(encoding="utf-8")
    server_cert = https_remote.server_cert.read_text(encoding="utf-8")

    def program(pinned: str, note: str) -> None:
        provider = lxd.Provider(
            "lxd",
            lxd.ProviderArgs(
                remote=https_remote.endpoint,
                client_cert=https_remote.client_cert.read_text(encoding="utf-8"),
                client_key=client_key,
                server_cert=pinned,
            ),
        )
        lxd.Profile(
            "profile",
            lxd.ProfileArgs(name=name, config={"user.note": note}),
            opts=pulumi.ResourceOptions(provider=provider),
        )

    with program_stack(tmp_path) as stack:
        assert changes(stack.up(lambda: program(server_cert, "over https")).summary) == {"create": 3}
        assert lxd_client.profiles.get(name).config == {"user.note": "over https"}
        assert changes(stack.refresh().summary) == {}

        key_lines = [line for line in client_key.splitlines() if line and not line.startswith("-----")]
        stored = stack.checkpoint_text()
        assert key_lines and not any(line in stored for line in key_lines), "the client key is stored encrypted"
        checkpoint = json.loads(next(stack.backend.rglob("stacks/*/e2e.json")).read_text(encoding="utf-8"))
        provider = next(r for r in checkpoint["checkpoint"]["latest"]["resources"] if r["urn"].endswith("::lxd"))
        assert set(provider["inputs"]["clientKey"]) == {"4dabf18193072939515e22adb298388d", "ciphertext"}

        with pytest.raises(CommandError, match=r"(?i)fingerprint"):
            stack.up(lambda: program(_other_certificate(), "somebody else's server"))
        assert lxd_client.profiles.get(name).config == {"user.note": "over https"}, "nothing reached LXD"

        stack.up(lambda: program(server_cert, "over https"))
        stack.destroy()
        assert not lxd_client.profiles.exists(name)
