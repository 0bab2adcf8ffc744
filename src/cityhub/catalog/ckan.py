"""The CKAN Action API, read subset, at /api/action/... and /api/3/action/...

So that the `ckanapi` client and CKAN harvesters read the catalog: a resource is a CKAN
package (id and name: its code), a provider an organization, a category a group, a
keyword a tag, the sharing method a CKAN resource (distribution). Answers use CKAN's
envelope `{"help", "success", "result"}` and its error envelope with CKAN's status codes.

Credentials come the way CKAN clients send them: `Authorization: <key>` (bare, or with
`Bearer`), or `X-CKAN-API-Key: <key>`; without one the caller sees the open part.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityhub.catalog import service
from cityhub.catalog.ckan_shapes import (
    FIELDS,
    MAX_ROWS,
    RES_FORMAT,
    CkanError,
    bool_param,
    group_dict,
    int_param,
    list_param,
    organization_dict,
    package_dict,
    required_param,
    search_query_of,
    validation_error,
)
from cityhub.catalog.models import Resource
from cityhub.catalog.search import codes_of, search
from cityhub.catalog.service import Actor
from cityhub.catalog.vocab import Category, ResourceFormat, Status
from cityhub.core.deps import SessionDep
from cityhub.directory.models import Organization
from cityhub.errors import BadRequest, CityHubError, NotFound, Unauthorized
from cityhub.security import service as security
from cityhub.security.deps import SESSION_COOKIE

router = APIRouter(tags=["CKAN Action API"])

# -- the envelope -------------------------------------------------------------------------


async def action_params(request: Request) -> dict[str, Any]:
    """Parameters from the query string (GET) or a JSON / form body (POST)."""
    params: dict[str, Any] = dict(request.query_params)
    if request.method == "POST":
        ctype = request.headers.get("content-type", "")
        raw = await request.body()
        if raw and "json" in ctype:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            if not isinstance(body, dict):
                params["__bad_json__"] = True
            else:
                params.update(body)
        elif raw:
            form = await request.form()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


def _caller(request: Request, db: Session) -> Actor | None:
    key = request.headers.get("x-ckan-api-key") or request.headers.get("authorization") or ""
    key = key.strip()
    if key.lower().startswith("bearer "):
        key = key[7:].strip()
    if key:
        try:
            return Actor.of(security.user_for_api_key(db, key))
        except Unauthorized as exc:
            raise CkanError(403, "Authorization Error", exc.detail) from None
    if token := request.cookies.get(SESSION_COOKIE):
        user = security.user_for_session(db, token)
        return Actor.of(user) if user else None
    return None


def _envelope(request: Request, action: str, body: dict[str, Any], status: int) -> JSONResponse:
    help_url = f"{str(request.base_url).rstrip('/')}/api/3/action/help_show?name={action}"
    return JSONResponse({"help": help_url, **body}, status_code=status)


Params = Annotated[dict[str, Any], Depends(action_params)]


@router.api_route("/api/action/{action}", methods=["GET", "POST"], summary="CKAN action")
@router.api_route("/api/3/action/{action}", methods=["GET", "POST"], summary="CKAN action (v3)")
def ckan_action(action: str, request: Request, db: SessionDep, params: Params) -> JSONResponse:
    handler = ACTIONS.get(action)
    try:
        if handler is None:
            raise CkanError(400, "Bad request", f"Bad request - Action name not known: {action}")
        if params.pop("__bad_json__", False):
            raise CkanError(
                400, "Bad request", "Bad request - JSON Error: the body is not an object"
            )
        ctx = _Context(db, _caller(request, db), str(request.base_url).rstrip("/"))
        result = handler(ctx, params)
    except CkanError as exc:
        error = {"__type": exc.kind, "message": exc.message, **exc.fields}
        return _envelope(request, action, {"success": False, "error": error}, exc.status)
    except CityHubError as exc:
        kind, status = {
            404: ("Not Found Error", 404),
            403: ("Authorization Error", 403),
            401: ("Authorization Error", 403),
        }.get(exc.status, ("Validation Error", 409))
        error = {"__type": kind, "message": f"{kind.split()[0]}: {exc.detail}"}
        return _envelope(request, action, {"success": False, "error": error}, status)
    return _envelope(request, action, {"success": True, "result": result}, 200)


class _Context:
    def __init__(self, db: Session, actor: Actor | None, base: str) -> None:
        self.db, self.actor, self.base = db, actor, base


# -- actions ------------------------------------------------------------------------------


def package_list(ctx: _Context, params: dict[str, Any]) -> list[str]:
    """Codes of the published resources (CKAN package names)."""
    codes = codes_of(ctx.db, ctx.actor, (Status.published,))
    offset = int_param(params, "offset", 0, 0, 10**9)
    limit = int_param(params, "limit", len(codes) or 1, 0, 10**9)
    return codes[offset : offset + limit]


def package_show(ctx: _Context, params: dict[str, Any]) -> dict[str, Any]:
    """One resource as a CKAN package: id (its code)."""
    code = required_param(params, "id")
    try:
        resource = service.get_visible(ctx.db, code, ctx.actor)
    except NotFound:
        raise CkanError(404, "Not Found Error", f"Not found: no dataset {code!r}") from None
    except Unauthorized as exc:
        raise CkanError(403, "Authorization Error", exc.detail) from None
    return package_dict(resource, ctx.base)


def package_search(ctx: _Context, params: dict[str, Any]) -> dict[str, Any]:
    """Search: q, fq (field:value), rows, start, sort, facet.field."""
    query, wanted = search_query_of(params)
    rows = int_param(params, "rows", 10, 0, MAX_ROWS)
    start = int_param(params, "start", 0, 0, 10**9)
    facet_limit = int_param(params, "facet.limit", 50, -1, 1000)
    try:
        result = search(ctx.db, query, ctx.actor, limit=rows, offset=start)
    except BadRequest as exc:
        raise CkanError(409, "Search Query Error", f"Search Query Error: {exc.detail}") from None
    facets: dict[str, dict[str, int]] = {}
    search_facets: dict[str, dict[str, Any]] = {}
    for name in wanted:
        values = result.facets.get(FIELDS[name], [])
        if facet_limit >= 0:
            values = values[:facet_limit]

        def shown(v: dict[str, Any], name: str = name) -> str:
            return RES_FORMAT[ResourceFormat(v["value"])] if name == "res_format" else v["value"]

        facets[name] = {shown(v): v["count"] for v in values}
        search_facets[name] = {
            "title": name,
            "items": [
                {"name": shown(v), "display_name": v["label_zh"], "count": v["count"]}
                for v in values
            ],
        }
    return {
        "count": result.total,
        "results": [package_dict(r, ctx.base) for r in result.resources],
        "facets": facets,
        "search_facets": search_facets,
        "sort": str(params.get("sort") or "score desc, metadata_modified desc"),
    }


def _package_counts(ctx: _Context, column: Any) -> dict[Any, int]:
    stmt = (
        select(column, func.count())
        .where(service.visible_clause(ctx.actor), Resource.status == Status.published)
        .group_by(column)
    )
    return {key: n for key, n in ctx.db.execute(stmt)}


def _packages_of(ctx: _Context, *where: Any) -> list[dict[str, Any]]:
    stmt = (
        select(Resource)
        .where(service.visible_clause(ctx.actor), Resource.status == Status.published, *where)
        .order_by(Resource.code)
        .limit(MAX_ROWS)
    )
    return [package_dict(r, ctx.base) for r in ctx.db.scalars(stmt)]


def _sorted_names(
    items: list[tuple[str, int]], params: dict[str, Any], default: str
) -> list[tuple[str, int]]:
    sort = " ".join(str(params.get("sort") or default).split())
    if sort in ("name asc", "name", "title asc"):
        return sorted(items)
    if sort in ("package_count desc", "package_count"):
        return sorted(items, key=lambda kv: (-kv[1], kv[0]))
    if sort == "name desc":
        return sorted(items, reverse=True)
    raise validation_error("sort", f"unsupported sort {sort!r}; use name asc or package_count desc")


def organization_list(ctx: _Context, params: dict[str, Any]) -> list[Any]:
    """Providers of published resources: all_fields, sort, limit, offset."""
    counts = _package_counts(ctx, Resource.provider_id)
    orgs = {
        o.id: o for o in ctx.db.scalars(select(Organization).where(Organization.id.in_(counts)))
    }
    wanted = set(list_param(params, "organizations"))
    pairs = [(orgs[i].code, n) for i, n in counts.items() if not wanted or orgs[i].code in wanted]
    pairs = _sorted_names(pairs, params, "name asc")
    offset = int_param(params, "offset", 0, 0, 10**9)
    limit = int_param(params, "limit", len(pairs) or 1, 0, 10**9)
    pairs = pairs[offset : offset + limit]
    if not bool_param(params, "all_fields"):
        return [code for code, _ in pairs]
    by_code = {o.code: o for o in orgs.values()}
    return [organization_dict(by_code[code], n) for code, n in pairs]


def organization_show(ctx: _Context, params: dict[str, Any]) -> dict[str, Any]:
    """One provider: id (its code), include_datasets."""
    code = required_param(params, "id")
    org = ctx.db.scalar(select(Organization).where(Organization.code == code))
    if org is None:
        raise CkanError(404, "Not Found Error", f"Not found: no organization {code!r}")
    count = _package_counts(ctx, Resource.provider_id).get(org.id, 0)
    out = organization_dict(org, count)
    if bool_param(params, "include_datasets"):
        out["packages"] = _packages_of(ctx, Resource.provider_id == org.id)
    return out


def group_list(ctx: _Context, params: dict[str, Any]) -> list[Any]:
    """The catalog's categories as CKAN groups: all_fields, sort."""
    counts = _package_counts(ctx, Resource.category)
    pairs = _sorted_names([(c.value, counts.get(c, 0)) for c in Category], params, "name asc")
    if not bool_param(params, "all_fields"):
        return [name for name, _ in pairs]
    return [group_dict(Category(name), n) for name, n in pairs]


def group_show(ctx: _Context, params: dict[str, Any]) -> dict[str, Any]:
    """One category: id, include_datasets."""
    name = required_param(params, "id")
    try:
        category = Category(name)
    except ValueError:
        raise CkanError(404, "Not Found Error", f"Not found: no group {name!r}") from None
    out = group_dict(category, _package_counts(ctx, Resource.category).get(category, 0))
    if bool_param(params, "include_datasets"):
        out["packages"] = _packages_of(ctx, Resource.category == category)
    return out


def status_show(ctx: _Context, params: dict[str, Any]) -> dict[str, Any]:
    """What ckanapi and harvesters ask first to know whom they talk to."""
    return {
        "site_title": "cityhub",
        "site_url": ctx.base,
        "ckan_version": "2.10.0",
        "api_version": 3,
        "extensions": ["cityhub-catalog", "dcat"],
    }


def help_show(ctx: _Context, params: dict[str, Any]) -> str:
    name = required_param(params, "name")
    if name not in ACTIONS:
        raise CkanError(404, "Not Found Error", f"Not found: no action {name!r}")
    return (ACTIONS[name].__doc__ or f"CKAN action {name}, read-only subset").strip()


ACTIONS: dict[str, Callable[[_Context, dict[str, Any]], Any]] = {
    "package_list": package_list,
    "package_show": package_show,
    "package_search": package_search,
    "organization_list": organization_list,
    "organization_show": organization_show,
    "group_list": group_list,
    "group_show": group_show,
    "status_show": status_show,
    "help_show": help_show,
}
