"""Shapes of the ledger API. Hashes are hex, keys and signatures base64."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class CosignaturePublic(BaseModel):
    witness: str
    key_id: str
    algorithm: str
    timestamp: int = Field(description="Witness's time, milliseconds since the epoch.")
    signature: str


class HeadPublic(BaseModel):
    """A signed tree head, with the cosignatures of the witnesses that checked it."""

    ledger: str
    origin: str
    hash_alg: str
    size: int
    root: str
    timestamp: int = Field(description="Milliseconds since the epoch.")
    key_id: str
    algorithm: str
    signature: str
    cosignatures: list[CosignaturePublic]


class CosignatureCreate(BaseModel):
    root: str = Field(pattern=r"^[0-9a-fA-F]{64}$", description="The root the witness checked.")
    key_id: str = Field(min_length=8, max_length=64, description="The witness key's id.")
    timestamp: int = Field(ge=0, description="Witness's time (ms), as signed.")
    signature: str = Field(min_length=1, max_length=200, description="base64 Ed25519 signature")


class EntryPublic(BaseModel):
    index: int
    event_id: int | None
    topic: str
    resource_code: str | None
    batch_ref: str | None
    entry: str = Field(description="The leaf's content: RFC 8785 canonical JSON.")
    leaf_hash: str
    created_at: datetime


class InclusionProof(BaseModel):
    hash_alg: str
    index: int
    size: int
    leaf_hash: str
    root: str
    proof: list[str]


class ConsistencyProof(BaseModel):
    hash_alg: str
    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str]


class KeyPublic(BaseModel):
    key_id: str
    algorithm: str
    public_key: str


class WitnessCreate(BaseModel):
    name: str = Field(min_length=2, max_length=64, pattern=r"^[\w.-]+$")
    public_key: str = Field(
        min_length=40, max_length=400, description="Ed25519 key: base64 of 32 bytes, or PEM."
    )
    organization_code: str | None = Field(
        default=None, max_length=32, description="Platform admins: the witness's department."
    )


class WitnessPublic(BaseModel):
    name: str
    organization_code: str
    key_id: str
    algorithm: str
    public_key: str
    active: bool
    cosigned_size: int | None = None
    cosigned_at: int | None = None
    cosignatures: int = 0


class Finding(BaseModel):
    auditor: str
    target: str
    problem: str


class AuditRunPublic(BaseModel):
    id: int
    trigger: str
    ok: bool
    checked: int
    findings: list[Finding]
    started_at: datetime
    finished_at: datetime


class LedgerSummary(BaseModel):
    ledger: str
    origin: str | None
    hash_alg: str | None
    size: int
    heads: int
    latest_head: HeadPublic | None
    keys: list[KeyPublic]
    witnesses: list[WitnessPublic]
    last_audit: AuditRunPublic | None


class SequencePublic(BaseModel):
    appended: int
    size: int
    first_index: int | None


class Receipt(BaseModel):
    """A receipt as verify.py reads it; `proof_url` until it is proven."""

    model_config = ConfigDict(extra="allow")

    format: str
    status: Literal["pending", "sequenced", "proven"]
    event_id: int | None = None
    proof_url: str | None = None


class VerifyReport(BaseModel):
    valid: bool
    kind: str | None = None
    checks: list[str] = []
    warnings: list[str] = []
    error: str | None = None


def as_model(model: type[BaseModel], data: dict[str, Any]) -> Any:
    return model.model_validate(data)
