"""The exchange's JSON API: deliveries (交换批次), their quarantine and quality, the rules
and column mappings of a resource. Change feed, subscriptions and connectors live in
`api_feed` and `api_connectors`; `router` carries them all."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction, utcnow
from cityhub.core.deps import SessionDep
from cityhub.core.pagination import CursorParam, LimitParam, Page, decode_cursor, encode_cursor
from cityhub.errors import Forbidden, ValidationFailed
from cityhub.exchange import api_connectors, api_feed, mapping, pipeline, quality, rules, runtime
from cityhub.exchange import service as svc
from cityhub.exchange.auth import ActorDep
from cityhub.exchange.models import Batch, ColumnMapping, ResourceRules
from cityhub.exchange.prepare import target_of
from cityhub.exchange.schemas import (
    BatchDetail,
    BatchPublic,
    MappingIn,
    MappingPublic,
    QuarantinePublic,
    RulesIn,
    RulesPublic,
)
from cityhub.exchange.vocab import BatchStatus, Mode, SourceKind
from cityhub.gateway import resources
from cityhub.library import target as library_target
from cityhub.security.models import Role

router = APIRouter(tags=["exchange"], lifespan=runtime.lifespan)

_UPLOAD_DOC: dict[int | str, dict[str, Any]] = {
    201: {"description": "Processed: the batch with its counts (status completed)"},
    200: {"description": "The same content was delivered before: that batch, `duplicate_of`"},
    202: {"description": "Queued (large file): poll GET /api/v1/deliveries/{id}"},
    403: {"description": "Not a data officer of the resource's provider"},
    413: {"description": "Larger than CITYHUB_EXCHANGE_MAX_UPLOAD_MB"},
    422: {"description": "The file was refused (encoding, header, truncated...): `batch_id`"},
}


def public(
    batch: Batch, *, detail: bool = False, duplicate_of: int | None = None
) -> dict[str, Any]:
    model = BatchDetail if detail else BatchPublic
    body = model.model_validate(batch).model_dump(mode="json")
    body["quality_score"] = (batch.quality or {}).get("score")
    if detail:
        body["quality"] = batch.quality or {}
    if duplicate_of is not None:
        body["status"] = BatchStatus.duplicate.value
        body["duplicate_of"] = duplicate_of
    return body


def _factory(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.sessions
    return factory


def finish(
    request: Request, received: svc.Received, size_hint: int, wait: bool | None
) -> JSONResponse:
    """Answer a received delivery: run it now (small) or queue it (large)."""
    settings = request.app.state.settings
    factory = _factory(request)
    if received.duplicate_of is not None:
        with factory() as session:
            batch = svc.get(session, received.batch_id)
            return JSONResponse(public(batch, duplicate_of=received.duplicate_of), 200)
    run_now = wait if wait is not None else size_hint <= settings.exchange_sync_mb * (1 << 20)
    if not run_now:
        runtime.kick(request.app, received.batch_id)
        with factory() as session:
            batch = svc.get(session, received.batch_id)
            headers = {"Location": f"/api/v1/deliveries/{batch.id}"}
            return JSONResponse(public(batch), 202, headers=headers)
    batch = pipeline.run(factory, settings, received.batch_id, bus=request.app.state.bus)
    if batch.status is BatchStatus.failed:
        details = (batch.quality or {}).get("problem", {})
        raise ValidationFailed(batch.error, batch_id=batch.id, **details)
    if batch.status is BatchStatus.duplicate:
        return JSONResponse(public(batch, detail=True), 200)
    return JSONResponse(
        public(batch, detail=True), 201, headers={"Location": f"/api/v1/deliveries/{batch.id}"}
    )


@router.post("/deliveries", summary="Deliver a file (交换批次上传)", responses=_UPLOAD_DOC)
def deliver(
    request: Request,
    actor: ActorDep,
    file: Annotated[UploadFile, File(description="CSV, XLSX, JSON, NDJSON or Parquet")],
    resource: Annotated[str, Form(max_length=64, description="Resource code")],
    mode: Annotated[Mode, Form()] = Mode.incremental,
    encoding: Annotated[str | None, Form(max_length=16, description="utf-8, gbk, gb18030")] = None,
    format: Annotated[str | None, Form(max_length=16)] = None,
    source: Annotated[str, Form(max_length=64, description="Names the column mapping")] = "upload",
    deletions: Annotated[UploadFile | None, File(description="Deleted keys (incremental)")] = None,
    wait: Annotated[bool | None, Form(description="Process before answering")] = None,
) -> JSONResponse:
    received = svc.receive(
        _factory(request),
        request.app.state.settings,
        actor,
        resource_code=resource,
        content=file.file,
        filename=file.filename or "",
        mode=mode,
        encoding_name=encoding or None,
        format_name=format or None,
        source=source,
        deletions=deletions.file if deletions is not None else None,
    )
    return finish(request, received, file.size or 0, wait)


@router.get("/deliveries", response_model=Page[BatchPublic], summary="Delivery batches")
def list_batches(
    request: Request,
    actor: ActorDep,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
    resource: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    after = decode_cursor(cursor)
    stmt = svc.listing(
        actor, resource=resource, status=status, after=int(after[0]) if after else None, limit=limit
    )
    with _factory(request)() as session:
        rows = list(session.scalars(stmt))
        items = [public(b) for b in rows[:limit]]
    more = len(rows) > limit
    return {"items": items, "next": encode_cursor([items[-1]["id"]]) if more and items else None}


def _readable(request: Request, actor: svc.Actor, batch_id: int) -> Batch:
    with _factory(request)() as session:
        batch = svc.get(session, batch_id)
        svc.can_read(actor, batch)
        session.expunge(batch)
        return batch


@router.get("/deliveries/{batch_id}", response_model=BatchDetail, summary="One batch")
def get_batch(request: Request, actor: ActorDep, batch_id: int) -> dict[str, Any]:
    return public(_readable(request, actor, batch_id), detail=True)


@router.get("/deliveries/{batch_id}/quality", summary="Quality report of one batch")
def batch_quality(request: Request, actor: ActorDep, batch_id: int) -> dict[str, Any]:
    batch = _readable(request, actor, batch_id)
    return {"batch_id": batch.id, "resource_code": batch.resource_code, **(batch.quality or {})}


@router.get(
    "/deliveries/{batch_id}/quarantine",
    response_model=Page[QuarantinePublic],
    summary="Rejected rows of a batch, with a reason per row",
)
def quarantine(
    request: Request,
    actor: ActorDep,
    batch_id: int,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
) -> dict[str, Any]:
    _readable(request, actor, batch_id)
    after = decode_cursor(cursor)
    with _factory(request)() as session:
        rows = svc.quarantine_page(
            session, batch_id, after=int(after[0]) if after else 0, limit=limit
        )
        items = [
            {
                "id": r.id,
                "row_number": r.row_number,
                "reasons": r.reasons.split("; "),
                "data": json.loads(r.data),
                "status": r.status.value,
                "resubmitted_batch_id": r.resubmitted_batch_id,
            }
            for r in rows[:limit]
        ]
    more = len(rows) > limit
    return {"items": items, "next": encode_cursor([items[-1]["id"]]) if more and items else None}


@router.get(
    "/deliveries/{batch_id}/quarantine.csv",
    summary="Open quarantined rows as CSV: correct them and resubmit",
    response_class=StreamingResponse,
)
def quarantine_download(request: Request, actor: ActorDep, batch_id: int) -> StreamingResponse:
    batch = _readable(request, actor, batch_id)
    with _factory(request)() as session:
        info = resources.load(session, batch.resource_code)
    codes = [i.code for i in info.items]
    body = svc.quarantine_csv(_factory(request), batch_id, codes)
    name = f"quarantine-{batch_id}.csv"
    return StreamingResponse(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post(
    "/deliveries/{batch_id}/resubmit",
    summary="Deliver corrected quarantine rows as a new batch linked to this one",
    responses=_UPLOAD_DOC,
)
def resubmit(
    request: Request,
    actor: ActorDep,
    batch_id: int,
    file: Annotated[UploadFile, File(description="The corrected rows (e.g. the CSV download)")],
    encoding: Annotated[str | None, Form(max_length=16)] = None,
    wait: Annotated[bool | None, Form()] = None,
) -> JSONResponse:
    parent = _readable(request, actor, batch_id)
    with _factory(request)() as session:
        svc.check_resubmittable(session, parent)
    received = svc.receive(
        _factory(request),
        request.app.state.settings,
        actor,
        resource_code=parent.resource_code,
        content=file.file,
        filename=file.filename or "corrected.csv",
        mode=Mode.incremental,
        encoding_name=encoding or None,
        source="resubmit",
        source_kind=SourceKind.resubmit,
        parent_id=parent.id,
    )
    return finish(request, received, file.size or 0, wait)


# -- rules and mappings ---------------------------------------------------------------------


def _may_configure(actor: svc.Actor, info: resources.ResourceInfo) -> None:
    if Role.platform_admin in actor.roles:
        return
    if actor.organization_id == info.provider_id and Role.data_officer in actor.roles:
        return
    raise Forbidden(
        f"only data officers of {info.provider_code} (or a platform admin) configure the "
        f"exchange of {info.code}"
    )


def _rules_body(session: Session, info: resources.ResourceInfo) -> dict[str, Any]:
    target, landed = target_of(session, info)
    return {
        "resource_code": info.code,
        "key": list(landed.key_items),
        "declared": rules.declared(session, info.code),
        "effective": rules.describe(target),
    }


@router.get(
    "/resources/{code}/exchange-rules", response_model=RulesPublic, summary="Validation rules"
)
def get_rules(code: str, db: SessionDep, actor: ActorDep) -> dict[str, Any]:
    return _rules_body(db, resources.load(db, code))


@router.put("/resources/{code}/exchange-rules", response_model=RulesPublic, summary="Declare rules")
def put_rules(request: Request, code: str, body: RulesIn, actor: ActorDep) -> dict[str, Any]:
    with transaction(_factory(request)) as session:
        info = resources.load(session, code)
        _may_configure(actor, info)
        rules.check_declaration(info, body.items)
        row = session.get(ResourceRules, code)
        if row is None:
            row = ResourceRules(resource_code=code)
            session.add(row)
        row.items = body.items
        row.updated_by = actor.username
        row.updated_at = utcnow()
        if body.key is not None:
            library_target.set_key(session, code, body.key, actor.username)
        session.flush()
        return _rules_body(session, info)


@router.get(
    "/resources/{code}/mappings", response_model=list[MappingPublic], summary="Column mappings"
)
def list_mappings(code: str, db: SessionDep, actor: ActorDep) -> list[Any]:
    resources.load(db, code)
    return list(
        db.scalars(
            select(ColumnMapping)
            .where(ColumnMapping.resource_code == code)
            .order_by(ColumnMapping.source)
        )
    )


@router.put(
    "/resources/{code}/mappings/{source}", response_model=MappingPublic, summary="Store a mapping"
)
def put_mapping(request: Request, code: str, source: str, body: MappingIn, actor: ActorDep) -> Any:
    with transaction(_factory(request)) as session:
        info = resources.load(session, code)
        _may_configure(actor, info)
        row = mapping.save(session, info, source, body.columns, actor.username)
        return MappingPublic.model_validate(row)


@router.get("/resources/{code}/quality", summary="Quality report of a resource")
def resource_quality(code: str, db: SessionDep, actor: ActorDep) -> dict[str, Any]:
    resources.load(db, code)
    return quality.resource_report(db, code)


router.include_router(api_feed.router)
router.include_router(api_connectors.router)
