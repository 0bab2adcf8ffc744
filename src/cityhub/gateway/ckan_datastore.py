"""CKAN `datastore_search` over a resource's rows, through the same grants, masking, limits
and metering as `/api/v1/resources/{code}/rows`.

    GET|POST /api/3/action/datastore_search   (and /api/action/..., the ckanapi path)
    resource_id  the resource code
    q            text searched in every granted, unmasked text item
    filters      {"item": value | [values]} (JSON)
    fields       "a,b" or ["a", "b"]
    sort         "a asc, b desc"
    limit        default 100, at most 1000;  offset  default 0
    include_total  default true

Credentials the CKAN way: `Authorization: <key>` (bare or Bearer) or `X-CKAN-API-Key`.
Answers use CKAN's envelope; errors its error envelope (`Not Found Error`,
`Authorization Error`, `Validation Error`) with CKAN's status codes.

This router must be included before the catalog's catch-all `/api/3/action/{action}`.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from cityhub.errors import CityHubError
from cityhub.gateway import rows
from cityhub.gateway.access import View
from cityhub.gateway.calls import DataCall
from cityhub.library import datastore as ds

router = APIRouter(tags=["CKAN Action API"])
MAX_LIMIT = 1000
CKAN_TYPES = {
    ds.ColumnKind.string: "text",
    ds.ColumnKind.text: "text",
    ds.ColumnKind.integer: "int8",
    ds.ColumnKind.decimal: "numeric",
    ds.ColumnKind.float: "float8",
    ds.ColumnKind.boolean: "bool",
    ds.ColumnKind.date: "date",
    ds.ColumnKind.datetime: "timestamp",
}
_KINDS = {
    400: "Validation Error",
    401: "Authorization Error",
    403: "Authorization Error",
    404: "Not Found Error",
    409: "Validation Error",
    422: "Validation Error",
    429: "Rate Limit Error",
}


class _Invalid(CityHubError):
    status, title = 409, "Validation Error"


async def _params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query_params)
    if request.method == "POST":
        raw = await request.body()
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                raise _Invalid("the request body is not JSON") from None
            if not isinstance(body, dict):
                raise _Invalid("the request body must be a JSON object")
            params.update(body)
    return params


def _text_list(value: Any, name: str) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise _Invalid(f"{name}: give a comma-separated string or a list of item codes")


def _int(value: Any, name: str, default: int, top: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _Invalid(f"{name}: {value!r} is not a whole number") from None
    if not 0 <= number <= top:
        raise _Invalid(f"{name}: must be between 0 and {top}")
    return number


def _query_string(params: dict[str, Any]) -> list[tuple[str, str]]:
    """The CKAN parameters as the rows API's query language (same checks, same grants)."""
    out: list[tuple[str, str]] = []
    filters = params.get("filters") or {}
    if isinstance(filters, str):
        try:
            filters = json.loads(filters)
        except ValueError:
            raise _Invalid("filters: not a JSON object") from None
    if not isinstance(filters, dict):
        raise _Invalid("filters: give a JSON object of item: value")
    for code, value in filters.items():
        if isinstance(value, list):
            out.append((f"{code}__in", ",".join(str(v) for v in value)))
        else:
            out.append((str(code), str(value)))
    if fields := _text_list(params.get("fields"), "fields"):
        out.append(("fields", ",".join(fields)))
    if sort := params.get("sort"):
        keys = []
        for part in str(sort).split(","):
            words = part.split()
            if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
                raise _Invalid(f"sort: {part.strip()!r} is not 'item [asc|desc]'")
            keys.append(("-" if len(words) == 2 and words[1] == "desc" else "") + words[0])
        out.append(("sort", ",".join(keys)))
    return out


def _search(view: View, q: str) -> tuple[str, ...]:
    """Columns `q` is searched in: granted text items the caller sees in clear."""
    return tuple(
        i.column
        for i in view.items
        if i.kind in (ds.ColumnKind.string, ds.ColumnKind.text) and not view.masked(i)
    )


def _envelope(request: Request, body: dict[str, Any], status: int = 200) -> Response:
    base = str(request.base_url).rstrip("/")
    payload = {"help": f"{base}/api/3/action/help_show?name=datastore_search", **body}
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


@router.api_route(
    "/api/3/action/datastore_search", methods=["GET", "POST"], summary="CKAN datastore_search"
)
@router.api_route("/api/action/datastore_search", methods=["GET", "POST"], include_in_schema=False)
async def datastore_search(request: Request) -> Response:
    try:
        params = await _params(request)
    except CityHubError as exc:
        return _error(request, exc)
    return await run_in_threadpool(_search_sync, request, params)


def _error(request: Request, exc: CityHubError) -> Response:
    kind = _KINDS.get(exc.status, "Error")
    status = 409 if exc.status == 422 else exc.status
    error: dict[str, Any] = {"__type": kind, "message": exc.detail}
    response = _envelope(request, {"success": False, "error": error}, status)
    if (retry := exc.extra.get("retry_after")) is not None:
        response.headers["Retry-After"] = str(retry)
    return response


def _search_sync(request: Request, params: dict[str, Any]) -> Response:
    call = DataCall(request, "datastore_search")
    code = str(params.get("resource_id") or params.get("id") or "")
    try:
        if not code:
            raise _Invalid("resource_id: Missing value")
        limit = _int(params.get("limit"), "limit", 100, MAX_LIMIT)
        offset = _int(params.get("offset"), "offset", 0, 10**7)
        q = str(params.get("q") or "").strip()
        total_wanted = str(params.get("include_total", "true")).lower() not in ("false", "0")

        def prepare() -> tuple[rows.Plan, ds.RowQuery]:
            view = call.open(code, ckan=True)
            plan = rows.parse(view, _query_string(params), allow_export=False)
            search = ds.Search(_search(view, q), q) if q else None
            query = ds.RowQuery(
                plan.query.columns,
                plan.query.filters,
                plan.query.sort,
                None,
                limit,
                offset,
                search,
                plan.query.transforms,
            )
            return plan, query

        plan, query = call.run(prepare)

        def read(conn: Connection) -> tuple[ds.RowPage, int | None]:
            spec = plan.view.resource.table_spec
            page = ds.page(conn, spec, query)
            total = ds.count(conn, spec, query.filters, query.search) if total_wanted else None
            return page, total

        page, total = call.read(plan.view.resource, read)
    except CityHubError as exc:
        call.fail(exc)
        return _error(request, exc)
    records = rows.records(plan, page.rows)
    result: dict[str, Any] = {
        "resource_id": code,
        "fields": [
            {"id": i.code, "type": CKAN_TYPES[i.kind], "info": {"label": i.name}}
            for i in plan.fields
        ],
        "records": records,
        "limit": limit,
        "offset": offset,
        "_links": {
            "start": f"/api/3/action/datastore_search?resource_id={code}",
            "next": f"/api/3/action/datastore_search?resource_id={code}&offset={offset + limit}",
        },
    }
    if total is not None:
        result["total"] = total
    if plan.masked:
        result["masked"] = plan.masked
    response = _envelope(request, {"success": True, "result": result})
    call.rows = len(records)
    call.size = len(response.body)
    call.record()
    response.headers.update(call.headers())
    return response
