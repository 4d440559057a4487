"""SSH key pairs for tests, made with the machine's `ssh-keygen` (the same tool a user runs)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SshKeypair:
    private_key: Path
    #: The public key line (``ssh-ed25519 AAAA… comment``).
    public_key: str

    @property
    def public_key_path(self) -> Path:
        return self.private_key.with_name(self.private_key.name + ".pub")


def make_keypair(
    private_key: Path,
    *,
    kind: str = "ed25519",
    passphrase: str = "",
    comment: str | None = None,
    pem: bool = False,
) -> SshKeypair:
    """A new key pair at `private_key` and `private_key.pub` (folders created as needed).

    `kind` is ssh-keygen's `-t`; `passphrase` empty means none; `comment` None keeps ssh-keygen's default
    (user@host); `pem` writes the private key in the legacy PEM format instead of OpenSSH's."""
    private_key.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "ssh-keygen",
            "-q",
            "-t",
            kind,
            "-N",
            passphrase,
            *(["-C", comment] if comment is not None else []),
            *(["-m", "PEM"] if pem else []),
            "-f",
            str(private_key),
        ],
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    public_key = private_key.with_name(private_key.name + ".pub").read_text(encoding="utf-8").strip()
    return SshKeypair(private_key=private_key, public_key=public_key)
