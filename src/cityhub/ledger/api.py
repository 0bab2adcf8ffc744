"""Routes of the ledger under /api/v1/ledger. Reading is public: entries hold no personal
data, and anyone must be able to check a proof. Changing needs a role."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request

from cityhub.core.deps import SessionDep, SettingsDep
from cityhub.core.pagination import CursorParam, LimitParam, Page, decode_cursor, encode_cursor
from cityhub.ledger import heads, receipts, service, store
from cityhub.ledger.audit import run_audit
from cityhub.ledger.schemas import (
    AuditRunPublic,
    ConsistencyProof,
    CosignatureCreate,
    CosignaturePublic,
    EntryPublic,
    HeadPublic,
    InclusionProof,
    KeyPublic,
    LedgerSummary,
    Receipt,
    SequencePublic,
    VerifyReport,
    WitnessCreate,
    WitnessPublic,
)
from cityhub.ledger.sequencer import sequence
from cityhub.security.deps import CurrentUser, require_roles
from cityhub.security.models import Role, User

router = APIRouter(prefix="/ledger", tags=["ledger"])
Operator = Annotated[User, Depends(require_roles(Role.platform_admin, Role.operator))]
Auditing = Annotated[User, Depends(require_roles(Role.platform_admin, Role.operator, Role.auditor))]
Size = Annotated[int | None, Query(ge=1, description="Tree size; default: the latest head's.")]


@router.get("", response_model=LedgerSummary, summary="Size, latest head, witnesses, audit")
def get_summary(db: SessionDep) -> dict[str, Any]:
    return service.summary(db)


@router.get("/entries", response_model=Page[EntryPublic], summary="Entries, newest first")
def list_entries(
    db: SessionDep,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
    resource: Annotated[str | None, Query(max_length=64, description="Resource code")] = None,
    batch: Annotated[str | None, Query(max_length=64, description="Batch reference")] = None,
    topic: Annotated[str | None, Query(max_length=128, description="Topic prefix")] = None,
) -> Page[EntryPublic]:
    after = decode_cursor(cursor)
    before = int(after[0]) if after and isinstance(after[0], int) else None
    rows = service.list_entries(
        db, limit=limit + 1, before=before, resource=resource, batch=batch, topic=topic
    )
    items = [EntryPublic.model_validate(r) for r in rows[:limit]]
    nxt = encode_cursor([items[-1].index]) if len(rows) > limit else None
    return Page(items=items, next=nxt)


@router.get("/entries/{index}", response_model=EntryPublic, summary="One entry and its leaf")
def get_entry(index: int, db: SessionDep) -> dict[str, Any]:
    return service.get_entry(db, index)


@router.get("/heads/latest", response_model=HeadPublic, summary="Latest signed tree head")
def latest_head(db: SessionDep) -> dict[str, Any]:
    return service.latest_head_document(db)


@router.get("/heads", response_model=Page[HeadPublic], summary="Signed heads, newest first")
def list_heads(db: SessionDep, limit: LimitParam = 50, cursor: CursorParam = None
               ) -> Page[HeadPublic]:  # fmt: skip
    after = decode_cursor(cursor)
    before = int(after[0]) if after and isinstance(after[0], int) else None
    docs, nxt = service.list_head_documents(db, limit=limit, before_id=before)
    items = [HeadPublic.model_validate(d) for d in docs]
    return Page(items=items, next=encode_cursor([nxt]) if nxt is not None else None)


@router.get("/heads/{size}", response_model=HeadPublic, summary="The signed head of a size")
def get_head(size: int, db: SessionDep) -> dict[str, Any]:
    return service.head_document(db, size)


@router.post("/heads", response_model=HeadPublic, status_code=201, summary="Sign a head now")
def sign_head(request: Request, settings: SettingsDep, _op: Operator) -> dict[str, Any]:
    factory = request.app.state.sessions
    sequence(factory, settings)
    return service.sign_head(factory, settings, request.app.state.bus)


@router.post(
    "/heads/{size}/cosignatures",
    response_model=CosignaturePublic,
    status_code=201,
    summary="A witness cosigns a head (authenticated by the signature itself)",
)
def cosign(size: int, data: CosignatureCreate, db: SessionDep) -> dict[str, Any]:
    ledger = store.require_ledger(db)
    head, witness = heads.add_cosignature(
        db,
        ledger,
        size=size,
        root=data.root,
        key=data.key_id,
        timestamp=data.timestamp,
        signature=data.signature,
    )
    return next(
        c for c in heads.cosignatures(db, [head.id])[head.id] if c["key_id"] == witness.key_id
    )


@router.get("/proofs/inclusion", response_model=InclusionProof, summary="Inclusion proof")
def inclusion_proof(
    db: SessionDep, index: Annotated[int, Query(ge=0)], size: Size = None
) -> dict[str, Any]:
    return service.inclusion(db, index, size)


@router.get("/proofs/consistency", response_model=ConsistencyProof, summary="Consistency proof")
def consistency_proof(
    db: SessionDep, first: Annotated[int, Query(ge=1)], second: Size = None
) -> dict[str, Any]:
    return service.consistency(db, first, second)


@router.get("/receipts/event/{event_id}", response_model=Receipt, summary="The receipt of an event")
def event_receipt(event_id: int, db: SessionDep) -> dict[str, Any]:
    return receipts.receipt_or_404(db, event_id)


@router.post("/receipts/verify", response_model=VerifyReport, summary="Check a receipt or bundle")
def verify_receipt(db: SessionDep, document: Annotated[Any, Body()]) -> dict[str, Any]:
    return service.verify_uploaded(db, document)


@router.get("/keys", response_model=list[KeyPublic], summary="The platform's signing keys")
def list_keys(db: SessionDep) -> list[dict[str, Any]]:
    return heads.key_documents(db)


@router.get("/witnesses", response_model=list[WitnessPublic], summary="Witnesses and status")
def list_witnesses(db: SessionDep) -> list[dict[str, Any]]:
    return heads.witness_status(db)


@router.post(
    "/witnesses", response_model=WitnessPublic, status_code=201, summary="Register a witness"
)
def register_witness(data: WitnessCreate, db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    witness = heads.register_witness(
        db, user, name=data.name, public_key=data.public_key, org_code=data.organization_code
    )
    return next(w for w in heads.witness_status(db) if w["key_id"] == witness.key_id)


@router.post("/sequence", response_model=SequencePublic, summary="Sequence pending events")
def sequence_now(request: Request, settings: SettingsDep, _op: Operator) -> dict[str, Any]:
    result = sequence(request.app.state.sessions, settings)
    return {"appended": result.appended, "size": result.size, "first_index": result.first_index}


@router.post("/audits", response_model=AuditRunPublic, status_code=201, summary="Run the audit")
def audit_now(request: Request, _who: Auditing) -> dict[str, Any]:
    run = run_audit(
        request.app.state.sessions,
        trigger="api",
        bus=request.app.state.bus,
        data_dir=request.app.state.settings.data_dir,
    )
    return service.audit_document(run)
