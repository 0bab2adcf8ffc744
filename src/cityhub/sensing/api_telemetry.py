"""Routes of /telemetry: devices send readings (device token), people query them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from cityhub.core.db import transaction
from cityhub.core.deps import SessionDep
from cityhub.core.events import attach
from cityhub.core.pagination import LimitParam
from cityhub.core.problems import problem_response
from cityhub.errors import BadRequest, Unauthorized
from cityhub.security import audit
from cityhub.security.deps import CurrentUser
from cityhub.sensing import devices, insights, query
from cityhub.sensing.ingest import Message, Outcome, ingest, now_ms
from cityhub.sensing.reasons import DESCRIPTIONS, Reason
from cityhub.sensing.schemas import (
    IngestResult,
    QueryResult,
    RejectedSample,
    RejectionPublic,
    TelemetryIn,
)
from cityhub.settings import Settings

router = APIRouter(tags=["sensing: telemetry"])
BYTES_PER_READING = 200  # generous: a reading in JSON is ~40 bytes


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """The schema with its local `$defs` references written out (OpenAPI cannot reach them)."""
    if isinstance(schema, dict):
        ref = schema.get("$ref", "")
        if ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline(v, defs) for v in schema]
    return schema


_SCHEMA = TelemetryIn.model_json_schema()
_DOC = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": _inline(_SCHEMA, _SCHEMA.get("$defs", {}))}},
    }
}


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BadRequest(f"the body is larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise BadRequest(f"the body is larger than {limit} bytes")
    return bytes(body)


def _token(request: Request) -> str:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("send the device token as `Authorization: Bearer <device token>`")
    return value.strip()


def _take(request: Request, body: bytes, kind: str) -> Outcome:
    """Authenticate the device and run the pipeline, all in one transaction."""
    settings: Settings = request.app.state.settings
    with transaction(request.app.state.sessions) as session:
        attach(session, request.app.state.bus)
        device = devices.authenticate(session, _token(request))
        # Devices are not people: their readings are counted in the time series and the
        # refusals table, not written to the audit log one request at a time.
        audit.mark_recorded(request)
        message = Message(device.code, body, "http", kind)  # type: ignore[arg-type]
        return ingest(session, settings, [message], now=now_ms())[0]


def _answer(out: Outcome) -> JSONResponse:
    body = out.to_dict()
    if out.refused is not None:
        status = 413 if out.refused == Reason.too_large else 400
        return problem_response(
            status,
            "Telemetry refused",
            out.detail,
            f"https://cityhub.dev/problems/telemetry-{out.refused}",
            reason=out.refused,
            **body,
        )
    if out.accepted == 0 and out.rejected:
        reasons = set(out.rejected)
        if reasons <= {Reason.duplicate.value}:
            return JSONResponse(body)  # a retry of stored readings: nothing new, nothing lost
        if reasons == {Reason.rate_limited.value}:
            wait = 60 - (now_ms() // 1000) % 60
            return problem_response(
                429,
                "Too many requests",
                DESCRIPTIONS[Reason.rate_limited],
                "https://cityhub.dev/problems/too-many-requests",
                retry_after=wait,
                **body,
            )
        first = out.errors[0] if out.errors else None
        detail = f"no reading was accepted: {first.detail}" if first else "no reading was accepted"
        return problem_response(
            422,
            "Telemetry refused",
            detail,
            "https://cityhub.dev/problems/telemetry-rejected",
            **body,
        )
    return JSONResponse(body)


@router.post(
    "/telemetry",
    response_model=IngestResult,
    summary="Send readings (device token)",
    openapi_extra=_DOC,
    responses={
        400: {"description": "malformed"},
        401: {"description": "bad token"},
        413: {},
        422: {},
        429: {},
    },
)
async def post_telemetry(request: Request) -> JSONResponse:
    """One point `{"ts": "2026-01-01T08:00:00+08:00", "values": {"pm25": 35.2}}`, a batch
    `{"points": [...]}`, or a columnar batch `{"ts": [t0, t1], "values": {"pm25": [v0, v1]}}`
    (fastest for gateways), authenticated with `Authorization: Bearer <device token>`.
    Readings that fail a check are refused with a reason (counted per device, listed in
    `errors`) while the others are stored."""
    settings: Settings = request.app.state.settings
    body = await _body(request, settings.sensing_max_batch_points * BYTES_PER_READING + 4096)
    return _answer(await run_in_threadpool(_take, request, body, "telemetry"))


@router.post(
    "/telemetry/status",
    response_model=IngestResult,
    summary="Report the device's own status (device token)",
)
async def post_status(request: Request) -> JSONResponse:
    """`{"state": "ok" | "online" | "offline" | "fault" | "maintenance", "code": "E12",
    "message": "..."}`: a fault shows the device as faulty until it reports ok."""
    body = await _body(request, 16_384)
    return _answer(await run_in_threadpool(_take, request, body, "status"))


@router.get(
    "/telemetry/query",
    response_model=QueryResult,
    response_model_by_alias=True,
    summary="Query time series",
)
def query_telemetry(
    db: SessionDep,
    _user: CurrentUser,
    metric: Annotated[str, Query(max_length=64, description="Metric name, e.g. pm25")],
    device: Annotated[list[str] | None, Query(description="Device code (repeatable)")] = None,
    region: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    organization: str | None = None,
    profile: str | None = None,
    from_: Annotated[
        datetime | None, Query(alias="from", description="Start (default: 24 h ago)")
    ] = None,
    to: Annotated[datetime | None, Query(description="End, exclusive (default: now)")] = None,
    agg: Annotated[query.Agg, Query(description="avg, min, max, sum or count")] = "avg",
    bucket: Annotated[
        str | None, Query(description="30s, 1m, 5m, 1h, 1d ...; none: raw readings")
    ] = None,
    group: Annotated[
        str, Query(pattern="^(all|device)$", description="all: one series; device: one per device")
    ] = "all",
) -> dict[str, Any]:
    """One metric of the selected devices (by code, region, organization or profile) from
    `from` to `to`, aggregated per bucket; answered from the 1-hour rollups when the bucket
    is whole hours, the 1-minute rollups when whole minutes, else the raw readings."""
    end = to or datetime.now(UTC)
    start = from_ or end - timedelta(hours=24)
    selection = query.Selection(
        metric=metric,
        start=start,
        end=end,
        devices=device or [],
        region=region,
        organization=organization,
        profile=profile,
        agg=agg,
        bucket=bucket,
        by_device=group == "device",
    )
    return query.run(db, selection)


@router.get(
    "/telemetry/rejections",
    response_model=list[RejectionPublic],
    summary="Refused readings and messages, counted per device and reason",
)
def rejections(
    db: SessionDep,
    _user: CurrentUser,
    device: Annotated[
        str | None, Query(description="Device code, or org/code of an unknown device")
    ] = None,
    reason: Reason | None = None,
    limit: LimitParam = 1000,
) -> list[RejectionPublic]:
    return insights.list_rejections(
        db, device=device, reason=reason.value if reason else None, limit=limit
    )


@router.get(
    "/telemetry/rejected-messages",
    response_model=list[RejectedSample],
    summary="Samples of refused messages (newest first)",
)
def rejected_messages(
    db: SessionDep, _user: CurrentUser, device: str | None = None, limit: LimitParam = 100
) -> list[RejectedSample]:
    return [
        RejectedSample.model_validate(r)
        for r in insights.rejected_samples(db, device=device, limit=limit)
    ]


@router.get("/telemetry/reasons", summary="The reasons readings are refused")
def reasons(_user: CurrentUser) -> dict[str, str]:
    return {r.value: DESCRIPTIONS[r] for r in Reason}
