"""Routes of the catalog: /api/v1/resources (search, metadata, workflow, versions) and the
DCAT export /api/v1/catalog(.jsonld|.ttl), /api/v1/resources/{code}(.jsonld|.ttl)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhub.catalog import dcat, present, service, versions, workflow
from cityhub.catalog.models import Resource
from cityhub.catalog.schemas import (
    FacetValue,
    ResourceCreate,
    ResourcePublic,
    ResourceUpdate,
    SearchPage,
    StepPublic,
    VersionDetail,
    VersionPublic,
    WorkflowAction,
)
from cityhub.catalog.search import SearchQuery, Sort, search
from cityhub.catalog.service import Actor, actor_of
from cityhub.catalog.vocab import (
    DEFAULT_FACETS,
    FACETS,
    Category,
    OpenType,
    ResourceFormat,
    ShareType,
    Status,
    UpdateCycle,
)
from cityhub.core.deps import SessionDep, SettingsDep
from cityhub.core.pagination import CursorParam, decode_cursor, encode_cursor
from cityhub.directory.models import Region
from cityhub.errors import Forbidden
from cityhub.security import audit
from cityhub.security.deps import CurrentUser, OptionalUser
from cityhub.security.models import User
from cityhub.settings import Settings

router = APIRouter(tags=["catalog"])


def search_query(
    q: Annotated[str, Query(max_length=200, description="Full text; 人口 finds 人口基础信息")] = "",
    provider: Annotated[list[str] | None, Query(description="Provider organization codes")] = None,
    category: Annotated[list[Category] | None, Query()] = None,
    share_type: Annotated[list[ShareType] | None, Query()] = None,
    open_type: Annotated[list[OpenType] | None, Query()] = None,
    update_cycle: Annotated[list[UpdateCycle] | None, Query()] = None,
    format: Annotated[list[ResourceFormat] | None, Query()] = None,
    region: Annotated[list[str] | None, Query(description="GB/T 2260 codes covered")] = None,
    keyword: Annotated[
        list[str] | None, Query(description="Every keyword given must be present")
    ] = None,
    status: Annotated[
        list[Status] | None, Query(description="Drafts: your own or all for admins")
    ] = None,
    sort: Annotated[
        Sort | None, Query(description="Default: relevance with q, else updated")
    ] = None,
    facet: Annotated[
        list[str] | None, Query(description=f"Facets to count: {', '.join(FACETS)}")
    ] = None,
) -> SearchQuery:
    return SearchQuery(
        q=q.strip(),
        providers=tuple(provider or ()),
        categories=tuple(category or ()),
        share_types=tuple(share_type or ()),
        open_types=tuple(open_type or ()),
        update_cycles=tuple(update_cycle or ()),
        formats=tuple(format or ()),
        regions=tuple(region or ()),
        keywords=tuple(keyword or ()),
        statuses=tuple(status or ()),
        sort=sort,
        facets=tuple(facet) if facet is not None else DEFAULT_FACETS,
    )


def run_search(
    db: Session, query: SearchQuery, actor: Actor | None, limit: int, cursor: str | None
) -> SearchPage:
    """The search page shared by the API and the portal's /catalog page."""
    result = search(db, query, actor, limit=limit, after=decode_cursor(cursor))
    return SearchPage(
        items=[present.to_summary(r) for r in result.resources],
        next=encode_cursor(result.next_key) if result.next_key else None,
        total=result.total,
        facets={k: [FacetValue(**v) for v in vs] for k, vs in result.facets.items()},
    )


QueryDep = Annotated[SearchQuery, Depends(search_query)]


@router.get(
    "/resources",
    response_model=SearchPage,
    summary="Search the catalog (信息资源目录) with facets",
)
def search_resources(
    db: SessionDep,
    user: OptionalUser,
    query: QueryDep,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size (1-200).")] = 20,
    cursor: CursorParam = None,
) -> SearchPage:
    return run_search(db, query, actor_of(user), limit, cursor)


@router.post(
    "/resources",
    response_model=ResourcePublic,
    status_code=201,
    summary="Register a resource (data officers of the provider)",
)
def create_resource(
    data: ResourceCreate, request: Request, db: SessionDep, user: CurrentUser
) -> ResourcePublic:
    resource = service.create_resource(db, data, Actor.of(user))
    audit.annotate(request, resource=resource.code)
    return present.to_public(db, resource)


# -- DCAT ---------------------------------------------------------------------------------


def _base(request: Request) -> str:
    return str(request.base_url)


def _regions(db: Session) -> dict[str, str]:
    return {code: name for code, name in db.execute(select(Region.code, Region.name_zh))}


def _rdf(body: str, fmt: str) -> Response:
    return Response(body, media_type=dcat.MEDIA_TYPES[fmt])


def negotiate(accept: str) -> str:
    """ "json", "jsonld" or "ttl" from an Accept header (q-values honoured)."""
    offers = {"application/json": "json", "application/ld+json": "jsonld", "text/turtle": "ttl"}
    best, best_q = "json", -1.0
    for part in accept.split(","):
        media, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media.strip() in offers and q > best_q:
            best, best_q = offers[media.strip()], q
    return best


def catalog_resources(db: Session, actor: Actor | None) -> list[Resource]:
    stmt = (
        select(Resource)
        .where(service.visible_clause(actor), Resource.status == Status.published)
        .order_by(Resource.code)
    )
    return list(db.scalars(stmt))


def _catalog(
    request: Request, db: Session, settings: Settings, user: User | None, fmt: str
) -> Response:
    city = db.get(Region, settings.city_code)
    title = (
        f"{city.name_zh if city else ''}城市大脑公共信息平台数据目录",
        f"{city.name_en if city else ''} City Brain data catalog".strip(),
    )
    graph = dcat.catalog_graph(
        catalog_resources(db, actor_of(user)), dcat.Links(_base(request)), _regions(db), title
    )
    return _rdf(dcat.serialize(graph, fmt), fmt)


@router.get("/catalog.jsonld", summary="The catalog as DCAT-AP 3 JSON-LD")
def catalog_jsonld(
    request: Request, db: SessionDep, settings: SettingsDep, user: OptionalUser
) -> Response:
    return _catalog(request, db, settings, user, "jsonld")


@router.get("/catalog.ttl", summary="The catalog as DCAT-AP 3 Turtle")
def catalog_ttl(
    request: Request, db: SessionDep, settings: SettingsDep, user: OptionalUser
) -> Response:
    return _catalog(request, db, settings, user, "ttl")


@router.get("/catalog", summary="The catalog in DCAT-AP 3 (Accept: JSON-LD or Turtle)")
def catalog_negotiated(
    request: Request, db: SessionDep, settings: SettingsDep, user: OptionalUser
) -> Response:
    fmt = negotiate(request.headers.get("accept", ""))
    return _catalog(request, db, settings, user, "ttl" if fmt == "ttl" else "jsonld")


def _dataset(request: Request, db: Session, code: str, user: User | None, fmt: str) -> Response:
    resource = service.get_visible(db, code, actor_of(user))
    graph = dcat.dataset_graph(resource, dcat.Links(_base(request)), _regions(db))
    return _rdf(dcat.serialize(graph, fmt), fmt)


@router.get("/resources/{code}.jsonld", summary="One resource as DCAT-AP 3 JSON-LD")
def resource_jsonld(code: str, request: Request, db: SessionDep, user: OptionalUser) -> Response:
    return _dataset(request, db, code, user, "jsonld")


@router.get("/resources/{code}.ttl", summary="One resource as DCAT-AP 3 Turtle")
def resource_ttl(code: str, request: Request, db: SessionDep, user: OptionalUser) -> Response:
    return _dataset(request, db, code, user, "ttl")


# -- one resource -------------------------------------------------------------------------


@router.get(
    "/resources/{code}",
    response_model=ResourcePublic,
    summary="One resource's metadata (JSON; JSON-LD or Turtle by Accept)",
    responses={200: {"content": {"application/ld+json": {}, "text/turtle": {}}}},
)
def get_resource(
    code: str, request: Request, db: SessionDep, user: OptionalUser
) -> ResourcePublic | Response:
    fmt = negotiate(request.headers.get("accept", ""))
    if fmt != "json":
        return _dataset(request, db, code, user, fmt)
    return present.to_public(db, service.get_visible(db, code, actor_of(user)))


@router.patch(
    "/resources/{code}",
    response_model=ResourcePublic,
    summary="Change a draft or withdrawn resource (data officers of the provider)",
)
def update_resource(
    code: str, data: ResourceUpdate, request: Request, db: SessionDep, user: CurrentUser
) -> ResourcePublic:
    actor = Actor.of(user)
    resource = service.get_visible(db, code, actor)
    audit.annotate(request, resource=code)
    return present.to_public(db, service.update_resource(db, resource, data, actor))


def _workflow_route(action: str, summary: str) -> None:
    """POST /resources/{code}/<action>: one explicit route per workflow step."""

    def handler(
        code: str,
        request: Request,
        db: SessionDep,
        user: CurrentUser,
        body: WorkflowAction | None = None,
    ) -> ResourcePublic:
        actor = Actor.of(user)
        resource = service.get_visible(db, code, actor)
        audit.annotate(request, resource=code, action=action)
        comment = body.comment if body else ""
        return present.to_public(db, workflow.act(db, resource, action, actor, comment))

    handler.__name__ = f"{action}_resource"
    router.add_api_route(
        f"/resources/{{code}}/{action}",
        handler,
        methods=["POST"],
        response_model=ResourcePublic,
        summary=summary,
    )


for _action, _summary in (
    ("submit", "Submit for review (the provider's data officers)"),
    ("approve", "Approve and publish a new version (platform admin)"),
    ("reject", "Return to draft with a reason (platform admin)"),
    ("withdraw", "Withdraw from publication with a reason (platform admin or provider)"),
):
    _workflow_route(_action, _summary)


@router.get(
    "/resources/{code}/versions",
    response_model=list[VersionPublic],
    summary="Version history: every publication with its digest and diff",
)
def list_versions(code: str, db: SessionDep, user: OptionalUser) -> list[VersionPublic]:
    resource = service.get_visible(db, code, actor_of(user))
    return versions.list_versions(db, resource)


@router.get(
    "/resources/{code}/versions/{number}",
    response_model=VersionDetail,
    summary="One version with its snapshot",
)
def get_version(code: str, number: int, db: SessionDep, user: OptionalUser) -> VersionDetail:
    resource = service.get_visible(db, code, actor_of(user))
    return versions.get_version(db, resource, number)


@router.get(
    "/resources/{code}/history",
    response_model=list[StepPublic],
    summary="Workflow steps: who, when, comment (provider, admins, auditors)",
)
def history(code: str, db: SessionDep, user: CurrentUser) -> list[StepPublic]:
    actor = Actor.of(user)
    resource = service.get_visible(db, code, actor)
    if not (actor.sees_all or actor.organization_id == resource.provider_id):
        raise Forbidden(f"the workflow of {code} is shown to its provider and to admins")
    return [StepPublic.model_validate(s) for s in present.steps_of(db, resource)]
