"""The platform's head-signing key: from a setting, or a file in the data directory.

There is no published default key, not even for the demo: each data directory gets its
own, made on first use, so no two installations can sign for each other.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cityhub.errors import ConfigError
from cityhub.ledger.verify import key_id
from cityhub.settings import Settings

KEY_FILE = Path("ledger") / "signing-key.pem"


@dataclass(frozen=True)
class Signer:
    private: Ed25519PrivateKey
    algorithm: str = "ed25519"

    @property
    def public_key(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def key_id(self) -> str:
        return key_id(self.algorithm, self.public_key)

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)


def parse_private_key(text: str, where: str) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM (PKCS#8) or base64 of its 32-byte seed."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ConfigError(f"{where} is not an Ed25519 private key")
            return key
        seed = base64.b64decode(text, validate=True)
        return Ed25519PrivateKey.from_private_bytes(seed)
    except (ValueError, TypeError, binascii.Error):
        raise ConfigError(
            f"{where} is neither an Ed25519 PEM key nor base64 of a 32-byte seed"
        ) from None


def private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_pem(public_key: bytes) -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key = Ed25519PublicKey.from_public_bytes(public_key)
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def create_key_file(path: Path) -> Ed25519PrivateKey:
    """Write a new key readable by the owner only; keep the file another process won."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return parse_private_key(path.read_text(encoding="utf-8"), str(path))
    with os.fdopen(fd, "wb") as out:
        out.write(private_pem(key))
    return key


def platform_signer(settings: Settings) -> Signer:
    key = settings.ledger_signing_key
    if key is not None and key.get_secret_value().strip():
        secret = key.get_secret_value()
        return Signer(parse_private_key(secret, "CITYHUB_LEDGER_SIGNING_KEY"))
    path = settings.data_dir / KEY_FILE
    if path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read the ledger key {path}: {exc.strerror}") from None
        return Signer(parse_private_key(text, str(path)))
    try:
        return Signer(create_key_file(path))
    except OSError as exc:
        raise ConfigError(f"cannot create the ledger key {path}: {exc.strerror}") from None
