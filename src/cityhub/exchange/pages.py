"""Console pages of the exchange: batches, one batch with its quarantine (download,
correct, resubmit), and data quality per resource. JSON twins: /api/v1/deliveries,
/api/v1/deliveries/{id}, /api/v1/deliveries/{id}/quarantine and
/api/v1/resources/{code}/quality."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from cityhub.catalog.models import Resource
from cityhub.core.deps import SessionDep, SettingsDep
from cityhub.directory.models import Region
from cityhub.errors import CityHubError
from cityhub.exchange import pipeline, quality
from cityhub.exchange import service as svc
from cityhub.exchange.auth import actor as actor_of
from cityhub.exchange.models import Batch, QuarantineRow
from cityhub.exchange.vocab import BatchStatus, Mode, QuarantineStatus, SourceKind
from cityhub.security.models import Role
from cityhub.web.deps import PageUser
from cityhub.web.pages import csrf_valid, render

router = APIRouter(include_in_schema=False)
STAFF = frozenset({Role.platform_admin, Role.operator, Role.auditor})


@router.get("/exchange", response_class=HTMLResponse)
def batches_page(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: PageUser,
    resource: str = "",
    status: str = "",
) -> Response:
    actor = svc.Actor.of(user)
    try:
        stmt = svc.listing(actor, resource=resource or None, status=status or None, limit=100)
    except CityHubError:
        stmt = svc.listing(actor, limit=100)
    batches = list(db.scalars(stmt))[:100]
    return render(
        request,
        settings,
        "exchange/batches.html",
        user=user,
        city=db.get(Region, settings.city_code),
        batches=batches,
        statuses=list(BatchStatus),
        resource=resource,
        current_status=status,
    )


@router.get("/exchange/batches/{batch_id}", response_class=HTMLResponse)
def batch_page(
    request: Request,
    batch_id: int,
    db: SessionDep,
    settings: SettingsDep,
    user: PageUser,
    error: str = "",
) -> Response:
    batch = svc.get(db, batch_id)
    svc.can_read(svc.Actor.of(user), batch)
    rows = svc.quarantine_page(db, batch_id, limit=100)
    quarantined = [
        {"row": r, "data": json.loads(r.data), "reasons": r.reasons.split("; ")} for r in rows[:100]
    ]
    open_count = db.scalar(
        select(func.count())
        .select_from(QuarantineRow)
        .where(
            QuarantineRow.batch_id == batch_id,
            QuarantineRow.status == QuarantineStatus.open,
        )
    )
    children = list(db.scalars(select(Batch).where(Batch.parent_id == batch_id).order_by(Batch.id)))
    return render(
        request,
        settings,
        "exchange/batch.html",
        user=user,
        city=db.get(Region, settings.city_code),
        batch=batch,
        report=batch.quality or {},
        dimensions=quality.DIMENSIONS,
        quarantined=quarantined,
        open_count=open_count or 0,
        children=children,
        can_resubmit=batch.status is BatchStatus.completed
        and bool(open_count)
        and user.organization_id == batch.provider_id
        and Role.data_officer in user.roles,
        error=error,
    )


@router.post("/exchange/batches/{batch_id}/resubmit")
def resubmit(
    request: Request,
    batch_id: int,
    settings: SettingsDep,
    file: Annotated[UploadFile, File()],
    csrf_token: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    back = f"/exchange/batches/{batch_id}"
    if not csrf_valid(request, settings, csrf_token):
        return RedirectResponse(f"{back}?{urlencode({'error': 'csrf'})}", status_code=303)
    factory = request.app.state.sessions
    try:
        actor = actor_of(request)
        with factory() as session:
            parent = svc.get(session, batch_id)
            svc.can_read(actor, parent)
            svc.check_resubmittable(session, parent)
        received = svc.receive(
            factory, settings, actor, resource_code=parent.resource_code, content=file.file,
            filename=file.filename or "corrected.csv", mode=Mode.incremental,
            source="resubmit", source_kind=SourceKind.resubmit, parent_id=parent.id,
        )  # fmt: skip
        batch = pipeline.run(factory, settings, received.batch_id, bus=request.app.state.bus)
    except CityHubError as exc:
        return RedirectResponse(f"{back}?{urlencode({'error': exc.detail})}", status_code=303)
    return RedirectResponse(f"/exchange/batches/{batch.id}", status_code=303)


@router.get("/exchange/quality", response_class=HTMLResponse)
def quality_page(
    request: Request, db: SessionDep, settings: SettingsDep, user: PageUser
) -> Response:
    stmt = select(Batch.resource_code).distinct().order_by(Batch.resource_code)
    if not set(user.roles) & STAFF:
        stmt = stmt.where(Batch.provider_id == user.organization_id)
    codes = list(db.scalars(stmt))
    names = dict(
        db.execute(select(Resource.code, Resource.name).where(Resource.code.in_(codes))).all()
    )
    reports: list[dict[str, Any]] = [
        {**quality.resource_report(db, code), "name": names.get(code, code)} for code in codes
    ]
    return render(
        request,
        settings,
        "exchange/quality.html",
        user=user,
        city=db.get(Region, settings.city_code),
        reports=reports,
        dimensions=quality.DIMENSIONS,
    )
