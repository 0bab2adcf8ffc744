"""Settings of the ledger, read from `CITYHUB_LEDGER_*` (every field described).

Kept beside the ledger rather than in cityhub.settings so the package stays
self-contained; `cityhub ledger settings` prints them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from cityhub.errors import ConfigError


class LedgerSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CITYHUB_LEDGER_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    hash: Literal["sm3", "sha256"] = Field(
        default="sm3",
        description="Hash of the platform ledger when it is first created: SM3 (GM/T 0004) "
        "or SHA-256. A ledger keeps the hash it was created with.",
    )
    signing_key: SecretStr | None = Field(
        default=None,
        description="The platform's Ed25519 head-signing key (PEM, or base64 of the 32-byte "
        "seed). Empty: ledger/signing-key.pem in the data directory, created on first use. "
        "Set it when several processes or hosts sign heads.",
    )
    signature_algorithm: Literal["ed25519"] = Field(
        default="ed25519",
        description="Signature of tree heads. Only Ed25519: no maintained Python library "
        "offers SM2 (GM/T 0003) signatures yet.",
    )
    background: bool = Field(
        default=True,
        description="Run the sequencer, the head publisher and the scheduled audit inside "
        "the server process.",
    )
    sweep_seconds: float = Field(
        default=5.0,
        gt=0,
        description="Seconds between sweeps of the event outbox for events not yet "
        "sequenced (events also wake the sequencer as soon as they commit).",
    )
    head_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Seconds between signed tree heads while the log grows.",
    )
    head_max_age_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="A head is re-signed at least this often even when nothing was added, "
        "so witnesses see the log is alive.",
    )
    audit_seconds: float = Field(
        default=3600.0,
        ge=0,
        description="Seconds between scheduled tamper audits; 0 turns them off. A failed "
        "audit raises the `ledger.audit.failed` alarm event.",
    )
    batch_size: int = Field(
        default=1000, ge=1, le=100_000, description="Most events sequenced per transaction."
    )
    gap_grace_seconds: float = Field(
        default=300.0,
        ge=0,
        description="How long the sequencer re-checks a missing outbox id (a transaction "
        "still open on PostgreSQL, or one rolled back) before it stops waiting for it.",
    )


def load_ledger_settings(**overrides: Any) -> LedgerSettings:
    try:
        return LedgerSettings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigError(
            f"invalid setting CITYHUB_LEDGER_{name.upper()}: {first['msg']}"
        ) from None
