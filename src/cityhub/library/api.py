"""Routes of the library, under /api/v1:

    GET  /library                                  every public database, with counts
    GET  /library/{library}                        one of them (records, digest, last merges)
    GET  /library/{library}/merges                 batches merged into it, newest first
    GET  /library/{library}/conflicts              its conflict log (granted callers)
    GET  /library/{library}/{key}/lineage          a golden record, field by field
    GET  /resources/{code}/rows/{key}/lineage      the same, by the resource code
    POST /library/{library}/rebuild                rebuild a derived library (admin)
    GET|PUT /library/keys/{code}                   the key items of a plain resource

Lineage and conflicts carry personal data: they need what the rows API needs (an
application key with a grant, or being staff of the provider); platform admins and
auditors see them masked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from sqlalchemy.orm import Session

from cityhub.core.deps import SessionDep
from cityhub.core.pagination import CursorParam, LimitParam, Page, decode_cursor, page_of
from cityhub.errors import BadRequest, Forbidden, Unauthorized
from cityhub.gateway import access, resources
from cityhub.gateway.access import Caller, View
from cityhub.library import audit as _audit  # noqa: F401  (registers the ledger auditor)
from cityhub.library import derive, service, target
from cityhub.library.schemas import (
    ConflictPublic,
    KeyDeclaration,
    KeyPublic,
    LibraryPublic,
    MergePublic,
    RebuildPublic,
    RecordLineage,
)
from cityhub.library.specs import LibrarySpec
from cityhub.security.deps import SESSION_COOKIE, CurrentUser, require_roles
from cityhub.security.models import Role, User

OVERSEERS = frozenset({Role.platform_admin, Role.auditor})
PlatformAdmin = Annotated[User, Depends(require_roles(Role.platform_admin))]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Rebuild derived libraries in the background when a merge touches their inputs."""
    rebuilder = derive.Rebuilder(app.state.sessions, app.state.bus)
    rebuilder.start()
    try:
        yield
    finally:
        rebuilder.stop()


router = APIRouter(tags=["library"], lifespan=lifespan)


def caller_of(request: Request, session: Session) -> Caller:
    """The caller as the gateway sees it: an API key (maybe an application's) or a login."""
    raw = access.bearer(request.headers.get("authorization", ""), bare_allowed=False)
    if raw is not None:
        return access.from_key(session.connection(), raw)
    token = request.cookies.get(SESSION_COOKIE)
    found = access.from_session(session, token) if token else None
    if found is None:
        raise Unauthorized("send `Authorization: Bearer <api key>`")
    return found


def caller_from_user(user: User) -> Caller:
    return Caller(
        user.id, user.username, user.organization_id or 0, frozenset(user.roles), "session"
    )


def view_of(session: Session, caller: Caller, resource_code: str) -> View:
    """What the caller may read of a library resource (masked for overseers)."""
    info = resources.load(session, resource_code)
    if caller.application is None and caller.roles & OVERSEERS:
        return View(info, info.items, frozenset())
    try:
        return access.view(session, caller, info)
    except Forbidden:
        raise Forbidden(
            f"the lineage of {resource_code} needs a grant on it (an application key), being "
            "staff of its provider, or the platform admin or auditor role"
        ) from None


def _before(cursor: str | None) -> int | None:
    after = decode_cursor(cursor)
    if after is None:
        return None
    try:
        return int(after[0])
    except (TypeError, ValueError, IndexError):
        raise BadRequest("cursor is not one this server issued") from None


@router.get("/library", response_model=list[LibraryPublic], summary="Public databases (公共数据库)")
def list_libraries(db: SessionDep, _user: CurrentUser) -> list[LibraryPublic]:
    return service.overview(db)


@router.get("/library/keys/{code}", response_model=KeyPublic, summary="Key items of a resource")
def get_key(code: str, db: SessionDep, _user: CurrentUser) -> KeyPublic:
    found = target.target_of(db, code)
    by_column = {c.name: c.name for c in found.layout.spec.columns}
    items = [by_column[c] for c in found.layout.key_columns]
    return KeyPublic(resource_code=code, items=items)


@router.put("/library/keys/{code}", response_model=KeyPublic, summary="Declare the key items")
def put_key(code: str, data: KeyDeclaration, db: SessionDep, user: CurrentUser) -> KeyPublic:
    info = resources.load(db, code)
    staff = user.organization_id == info.provider_id and user.roles & access.PROVIDER_STAFF
    if not (staff or Role.platform_admin in user.roles):
        raise Forbidden(f"only staff of {info.provider_code} or a platform admin set the key")
    target.set_key(db, code, data.items, actor=user.username)
    return KeyPublic(resource_code=code, items=list(target.declared_key(db, code)))


@router.get("/library/{library}", response_model=LibraryPublic, summary="One public database")
def get_library(library: str, db: SessionDep, _user: CurrentUser) -> LibraryPublic:
    return service.describe(db, service.library(library))


@router.get("/library/{library}/merges", response_model=Page[MergePublic], summary="Merged batches")
def list_merges(
    library: str,
    db: SessionDep,
    _user: CurrentUser,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[MergePublic]:
    spec = service.library(library)
    codes = (
        [spec.resource_code, *(f.resource_code for f in spec.feeds)]
        if isinstance(spec, LibrarySpec)
        else [spec.resource_code]
    )
    rows = service.list_merges(db, codes, limit=limit + 1, before_id=_before(cursor))
    return page_of(rows, limit, lambda m: m, lambda m: [m.id])


@router.get(
    "/library/{library}/conflicts",
    response_model=Page[ConflictPublic],
    summary="Conflict log: providers disagreed, which value stands",
)
def list_conflicts(
    library: str,
    request: Request,
    db: SessionDep,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
    field: Annotated[str | None, Query(max_length=64, description="Item code")] = None,
    resolution: Annotated[
        str | None, Query(pattern="^(authority_kept|authority_applied|latest_applied)$")
    ] = None,
    key: Annotated[str | None, Query(max_length=64, description="One record's key")] = None,
) -> Page[ConflictPublic]:
    spec = service.base_library(library)
    view = view_of(db, caller_of(request, db), spec.resource_code)
    if key is not None and not view.allows(spec.key[0]):
        raise Forbidden(f"{spec.key[0]} is not granted to you: records cannot be looked up by it")
    rows = service.list_conflicts(
        db,
        spec,
        view,
        limit=limit + 1,
        before_id=_before(cursor),
        key=service.canonical_key(spec, key) if key else None,
        field=field,
        resolution=resolution,
    )
    return page_of(rows, limit, lambda c: c, lambda c: [c.id])


def _lineage(db: Session, request: Request, spec: LibrarySpec, key: str) -> RecordLineage:
    view = view_of(db, caller_of(request, db), spec.resource_code)
    # An exact lookup reveals no more than the caller already knows, masked or not (as
    # `=` filters on the rows API); an item not granted at all cannot be used.
    if not view.allows(spec.key[0]):
        raise Forbidden(f"{spec.key[0]} is not granted to you: records cannot be looked up by it")
    return service.record_lineage(db, spec, key, view)


@router.get(
    "/library/{library}/{key}/lineage",
    response_model=RecordLineage,
    summary="A golden record and the source, batch and time of each field",
)
def record_lineage(library: str, key: str, request: Request, db: SessionDep) -> RecordLineage:
    return _lineage(db, request, service.base_library(library), key)


@router.get(
    "/resources/{code}/rows/{key}/lineage",
    response_model=RecordLineage,
    summary="Lineage of one row of a base library, by resource code",
)
def resource_row_lineage(code: str, key: str, request: Request, db: SessionDep) -> RecordLineage:
    return _lineage(db, request, service.by_resource(code), key)


@router.post(
    "/library/{library}/rebuild",
    response_model=RebuildPublic | None,
    summary="Rebuild a derived library now (dirty keys, or everything with full=true)",
)
def rebuild(
    library: str, db: SessionDep, _admin: PlatformAdmin, full: bool = False
) -> RebuildPublic | None:
    spec = service.library(library)
    if isinstance(spec, LibrarySpec):
        raise BadRequest(f"{library} is a base library: it is merged from deliveries")
    done = derive.rebuild(db, spec.slug, full=full)
    if done is None:
        return None
    r = done.result
    return RebuildPublic(
        derivation=done.derivation,
        full=done.full,
        keys=done.keys,
        inserted=r.inserted,
        updated=r.updated,
        deleted=r.deleted,
    )
