"""`GET /api/v1/resources/{code}/rows`: the metered dataset query API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from cityhub.gateway import rows
from cityhub.gateway.calls import DataCall
from cityhub.library import datastore as ds

router = APIRouter(tags=["rows"])


def _param(name: str, description: str, example: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if example:
        schema["example"] = example
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


_DOC = {
    "parameters": [
        _param("fields", "Comma-separated item codes to return (granted items only)", "XM,XB"),
        _param("sort", "Comma-separated item codes; `-` for descending", "-CSRQ"),
        _param("limit", "Page size 1-1000 (default 100); exports: a cap on rows"),
        _param("cursor", "The `next` of the previous page"),
        _param("format", "csv, json or ndjson: stream every matching row"),
        _param(
            "<item>[__op]",
            "Filter on a granted item: `XB=1`, `XQ__in=371302,371311`, `CSRQ__gte=1990-01-01`, "
            "`__gt`, `__lt`, `__lte`, `SFZH__prefix=3713` (ranges, prefixes and sorting are "
            "refused on items masked for you)",
        ),
    ],
    "responses": {
        "200": {
            "description": "A page `{items, next, fields, masked}` or a streamed export",
            "content": {"text/csv": {}, "application/x-ndjson": {}},
        },
        "403": {"description": "An item that was not granted, or no grant at all"},
        "429": {"description": "Over the rate limit or the daily quota (see Retry-After)"},
    },
}


@router.get(
    "/resources/{code}/rows",
    summary="Rows of a published tabular resource (filters, fields, sort, keyset, export)",
    openapi_extra=_DOC,
    response_class=Response,
)
def resource_rows(code: str, request: Request) -> Response:
    call = DataCall(request, "rows")

    def prepare() -> rows.Plan:
        return rows.parse(call.open(code), request.query_params.multi_items())

    plan = call.run(prepare)
    if plan.format != "page":
        return _export(call, plan)

    def answer() -> bytes:
        spec = plan.view.resource.table_spec
        page = call.read(plan.view.resource, lambda conn: ds.page(conn, spec, plan.query))
        call.rows = len(page.rows)
        return rows.page_body(plan, page)

    body = call.run(answer)
    call.size = len(body)
    call.record()
    return Response(body, media_type="application/json", headers=call.headers())


def _export(call: DataCall, plan: rows.Plan) -> StreamingResponse:
    tally = rows.Tally()
    cap = call.allowance.rows_left if call.allowance is not None else None
    call.ensure_table(plan.view.resource)
    chunks = rows.export(call.engine, plan, tally, cap=cap)
    filename = f"{plan.view.resource.code}.{plan.format}"
    headers = call.headers() | {"Content-Disposition": f'attachment; filename="{filename}"'}
    return StreamingResponse(
        call.stream(chunks, tally), media_type=rows.MEDIA[plan.format], headers=headers
    )
