"""SM4 encryption of sensitive fields at rest (GB/T 32907, guideline 6.2).

A field is stored as `sm4:1:<base64 of nonce | ciphertext | tag>`: SM4 in GCM mode, so a
changed or swapped value is detected, not decrypted into garbage. The 128-bit key is
derived from CITYHUB_SECRET_KEY with HKDF-SM3 and a per-purpose label, so no second secret
has to be managed (and changing the secret key makes the stored fields unreadable: rotate
with `reencrypt`).
"""

from __future__ import annotations

import base64
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from cityhub.errors import ConfigError

PREFIX = "sm4:1:"
NONCE = 12
TAG = 16


@lru_cache(maxsize=32)
def derive_key(secret: str, purpose: str) -> bytes:
    """The SM4 key of one purpose (e.g. "sensing.webhook"), from the platform secret."""
    hkdf = HKDF(algorithm=hashes.SM3(), length=16, salt=None, info=f"cityhub:{purpose}".encode())
    return hkdf.derive(secret.encode())


def is_encrypted(stored: str) -> bool:
    return stored.startswith(PREFIX)


def encrypt(key: bytes, plaintext: str, *, context: str = "") -> str:
    """`context` (e.g. the table and row) is authenticated, not stored: a value copied to
    another row does not decrypt there."""
    nonce = os.urandom(NONCE)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    if context:
        encryptor.authenticate_additional_data(context.encode())
    body = encryptor.update(plaintext.encode()) + encryptor.finalize()
    return PREFIX + base64.b64encode(nonce + body + encryptor.tag).decode()


def decrypt(key: bytes, stored: str, *, context: str = "") -> str:
    """The plaintext of a stored field; ConfigError when it was encrypted with another key
    (CITYHUB_SECRET_KEY changed) or altered."""
    if not is_encrypted(stored):
        raise ConfigError("the field is not SM4-encrypted")
    raw = base64.b64decode(stored.removeprefix(PREFIX))
    nonce, body, tag = raw[:NONCE], raw[NONCE:-TAG], raw[-TAG:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    if context:
        decryptor.authenticate_additional_data(context.encode())
    try:
        return (decryptor.update(body) + decryptor.finalize()).decode()
    except InvalidTag:
        raise ConfigError(
            "an SM4-encrypted field cannot be decrypted: CITYHUB_SECRET_KEY is not the one it "
            "was encrypted with, or the stored value was altered"
        ) from None


def reencrypt(old_key: bytes, new_key: bytes, stored: str, *, context: str = "") -> str:
    """The field encrypted under a new key (after a change of CITYHUB_SECRET_KEY)."""
    return encrypt(new_key, decrypt(old_key, stored, context=context), context=context)
