"""Signed tree heads, the platform's public keys, witnesses and their cosignatures."""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityhub.core.events import emit
from cityhub.directory.models import Organization
from cityhub.errors import Conflict, Forbidden, NotFound, ValidationFailed
from cityhub.ledger import store
from cityhub.ledger.keys import Signer
from cityhub.ledger.models import (
    Ledger,
    LedgerCosignature,
    LedgerHead,
    LedgerKey,
    LedgerWitness,
)
from cityhub.ledger.verify import (
    VerificationError,
    cosign_message,
    head_message,
    key_id,
    verify_signature,
)
from cityhub.security.models import Role, User


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def register_key(session: Session, signer: Signer) -> None:
    if session.get(LedgerKey, signer.key_id) is None:
        session.add(
            LedgerKey(
                key_id=signer.key_id, algorithm=signer.algorithm, public_key=signer.public_key
            )
        )
        session.flush()


def publish_head(session: Session, ledger: Ledger, signer: Signer) -> LedgerHead:
    """Sign (size, root, now) of the ledger as committed; safe without the write lock,
    since the nodes of a committed size never change."""
    size = ledger.size
    root = store.prover(session, ledger).root(size)
    stamp = now_ms()
    message = head_message(ledger.origin, ledger.hash_alg, size, root, stamp)
    register_key(session, signer)
    head = LedgerHead(
        ledger_id=ledger.id,
        size=size,
        root=root,
        timestamp_ms=stamp,
        key_id=signer.key_id,
        algorithm=signer.algorithm,
        signature=signer.sign(message),
    )
    session.add(head)
    session.flush()
    emit(session, "ledger.head.signed", {"ledger": ledger.name, "size": size, "root": root.hex()})
    return head


def latest_head(session: Session, ledger: Ledger) -> LedgerHead | None:
    return session.scalar(
        select(LedgerHead)
        .where(LedgerHead.ledger_id == ledger.id)
        .order_by(LedgerHead.size.desc(), LedgerHead.timestamp_ms.desc(), LedgerHead.id.desc())
        .limit(1)
    )


def head_at_size(session: Session, ledger: Ledger, size: int) -> LedgerHead:
    head = session.scalar(
        select(LedgerHead)
        .where(LedgerHead.ledger_id == ledger.id, LedgerHead.size == size)
        .order_by(LedgerHead.id.desc())
        .limit(1)
    )
    if head is None:
        raise NotFound(f"no signed head of size {size} in the ledger {ledger.name!r}")
    return head


def list_heads(
    session: Session, ledger: Ledger, *, limit: int, before_id: int | None = None
) -> list[LedgerHead]:
    stmt = select(LedgerHead).where(LedgerHead.ledger_id == ledger.id)
    if before_id is not None:
        stmt = stmt.where(LedgerHead.id < before_id)
    return list(session.scalars(stmt.order_by(LedgerHead.id.desc()).limit(limit)))


def cosignatures(session: Session, head_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {h: [] for h in head_ids}
    if not head_ids:
        return out
    rows = session.execute(
        select(LedgerCosignature, LedgerWitness)
        .join(LedgerWitness, LedgerWitness.id == LedgerCosignature.witness_id)
        .where(LedgerCosignature.head_id.in_(head_ids))
        .order_by(LedgerCosignature.id)
    )
    for cosig, witness in rows:
        out[cosig.head_id].append(
            {
                "witness": witness.name,
                "key_id": witness.key_id,
                "algorithm": witness.algorithm,
                "timestamp": cosig.timestamp_ms,
                "signature": b64(cosig.signature),
            }
        )
    return out


def head_document(
    ledger: Ledger, head: LedgerHead, cosigs: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The head as the verifier reads it."""
    return {
        "ledger": ledger.name,
        "origin": ledger.origin,
        "hash_alg": ledger.hash_alg,
        "size": head.size,
        "root": bytes(head.root).hex(),
        "timestamp": head.timestamp_ms,
        "key_id": head.key_id,
        "algorithm": head.algorithm,
        "signature": b64(head.signature),
        "cosignatures": cosigs or [],
    }


def documents(session: Session, ledger: Ledger, heads: list[LedgerHead]) -> list[dict[str, Any]]:
    cosigs = cosignatures(session, [h.id for h in heads])
    return [head_document(ledger, h, cosigs[h.id]) for h in heads]


def key_documents(session: Session, key_ids: set[str] | None = None) -> list[dict[str, Any]]:
    stmt = select(LedgerKey).order_by(LedgerKey.created_at)
    if key_ids is not None:
        stmt = stmt.where(LedgerKey.key_id.in_(sorted(key_ids)))
    return [
        {"key_id": k.key_id, "algorithm": k.algorithm, "public_key": b64(k.public_key)}
        for k in session.scalars(stmt)
    ]


# -- witnesses ----------------------------------------------------------------------------


def decode_public_key(value: str) -> bytes:
    """A witness key as base64 of the raw 32 bytes, or a PEM public key."""
    text = value.strip()
    if text.startswith("-----BEGIN"):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            key = serialization.load_pem_public_key(text.encode())
        except ValueError:
            raise ValidationFailed("public_key: not a readable PEM public key") from None
        if not isinstance(key, Ed25519PublicKey):
            raise ValidationFailed("public_key: only Ed25519 witness keys are supported")
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed("public_key: neither PEM nor base64") from None
    if len(raw) != 32:
        raise ValidationFailed(f"public_key: an Ed25519 key has 32 bytes, this one {len(raw)}")
    return raw


def register_witness(
    session: Session, user: User | None, *, name: str, public_key: str, org_code: str | None
) -> LedgerWitness:
    """A department's witness. Dept admins register for their own department; platform
    admins (and the console, user None) for any."""
    raw = decode_public_key(public_key)
    if org_code:
        org = session.scalar(select(Organization).where(Organization.code == org_code))
        if org is None:
            raise NotFound(f"no organization with code {org_code!r}")
    elif user is not None:
        org = session.get(Organization, user.organization_id)
    else:
        raise ValidationFailed("organization: name the witness's department")
    assert org is not None
    own_dept = user is not None and Role.dept_admin in user.roles and user.organization_id == org.id
    if user is not None and Role.platform_admin not in user.roles and not own_dept:
        raise Forbidden("only a platform admin or the department's own admin may do this")
    kid = key_id("ed25519", raw)
    if session.scalar(select(LedgerWitness.id).where(LedgerWitness.key_id == kid)):
        raise Conflict(f"the key {kid} is already registered as a witness")
    if session.scalar(select(LedgerWitness.id).where(LedgerWitness.name == name)):
        raise Conflict(f"a witness named {name!r} already exists")
    witness = LedgerWitness(
        name=name,
        organization_id=org.id,
        algorithm="ed25519",
        public_key=raw,
        key_id=kid,
        active=True,
        created_by=user.username if user else "console",
    )
    session.add(witness)
    session.flush()
    emit(
        session,
        "ledger.witness.registered",
        {"witness": name, "organization_code": org.code, "key_id": kid},
        actor=user.username if user else "console",
    )
    return witness


def add_cosignature(
    session: Session,
    ledger: Ledger,
    *,
    size: int,
    root: str,
    key: str,
    timestamp: int,
    signature: str,
) -> tuple[LedgerHead, LedgerWitness]:
    """Accept a witness's cosignature of the head (size, root) once it verifies."""
    witness = session.scalar(select(LedgerWitness).where(LedgerWitness.key_id == key))
    if witness is None or not witness.active:
        raise Forbidden(f"no active witness with key id {key}")
    heads = [
        h
        for h in session.scalars(
            select(LedgerHead).where(LedgerHead.ledger_id == ledger.id, LedgerHead.size == size)
        )
        if bytes(h.root).hex() == root.lower()
    ]
    if not heads:
        raise NotFound(f"no signed head of size {size} with root {root}")
    try:
        sig = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed("signature: not base64") from None
    for head in heads:  # the same (size, root) may have been signed at several times
        message = head_message(
            ledger.origin, ledger.hash_alg, head.size, head.root, head.timestamp_ms
        )
        try:
            verify_signature(
                witness.algorithm, witness.public_key, cosign_message(message, timestamp), sig
            )
        except VerificationError:
            continue
        existing = session.scalar(
            select(LedgerCosignature).where(
                LedgerCosignature.head_id == head.id, LedgerCosignature.witness_id == witness.id
            )
        )
        if existing is None:
            session.add(
                LedgerCosignature(
                    head_id=head.id, witness_id=witness.id, timestamp_ms=timestamp, signature=sig
                )
            )
            session.flush()
            emit(
                session,
                "ledger.head.cosigned",
                {"ledger": ledger.name, "size": size, "witness": witness.name},
            )
        return head, witness
    raise ValidationFailed("signature: the cosignature does not verify with the witness key")


def witness_status(session: Session) -> list[dict[str, Any]]:
    """Each witness with its latest cosigned size and time."""
    last = (
        select(
            LedgerCosignature.witness_id,
            func.max(LedgerHead.size).label("size"),
            func.max(LedgerCosignature.timestamp_ms).label("at"),
            func.count(LedgerCosignature.id).label("count"),
        )
        .join(LedgerHead, LedgerHead.id == LedgerCosignature.head_id)
        .group_by(LedgerCosignature.witness_id)
        .subquery()
    )
    rows = session.execute(
        select(LedgerWitness, Organization.code, last.c.size, last.c.at, last.c.count)
        .join(Organization, Organization.id == LedgerWitness.organization_id)
        .outerjoin(last, last.c.witness_id == LedgerWitness.id)
        .order_by(LedgerWitness.name)
    )
    return [
        {
            "name": w.name,
            "organization_code": code,
            "key_id": w.key_id,
            "algorithm": w.algorithm,
            "public_key": b64(w.public_key),
            "active": w.active,
            "cosigned_size": size,
            "cosigned_at": at,
            "cosignatures": count or 0,
        }
        for w, code, size, at, count in rows
    ]


def witness_key_documents(
    session: Session, key_ids: set[str] | None = None
) -> list[dict[str, Any]]:
    stmt = select(LedgerWitness).where(LedgerWitness.active.is_(True))
    if key_ids is not None:
        stmt = stmt.where(LedgerWitness.key_id.in_(sorted(key_ids)))
    return [
        {
            "name": w.name,
            "key_id": w.key_id,
            "algorithm": w.algorithm,
            "public_key": b64(w.public_key),
        }
        for w in session.scalars(stmt.order_by(LedgerWitness.name))
    ]
