"""Catalog search: full text that works for Chinese, facets, sort, keyset pagination.

Text matching, term by term (whitespace separates terms; every term must match):
- SQLite: terms of 3+ characters go through the FTS5 trigram index `catalog_fts`
  (a substring index, so 人口基础 finds 人口基础信息); trigrams cannot match 1-2
  characters, so shorter terms (人口) fall back to LIKE on the search text.
- PostgreSQL: LIKE on the (lower-cased) search text, served by the pg_trgm GIN index for
  3+ characters.

Relevance is the same on both databases: names equal to, starting with, or containing the
query come first, then other matches; shorter (more specific) names first; then by id.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Date,
    Enum,
    Float,
    Integer,
    Select,
    String,
    and_,
    case,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, lazyload, selectinload

from cityhub.catalog.labels import labels
from cityhub.catalog.models import Resource, ResourceKeyword
from cityhub.catalog.service import Actor, visible_clause
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
from cityhub.directory.models import Organization, Region
from cityhub.errors import BadRequest

Sort = Literal["relevance", "name", "code", "publish_date", "updated"]
SORTS: tuple[Sort, ...] = ("relevance", "name", "code", "publish_date", "updated")
MAX_TERMS = 8
MAX_FACET_VALUES = 50
FTS_MIN = 3  # the trigram tokenizer matches substrings of 3+ characters
_NO_DATE = date(1, 1, 1)


@dataclass(frozen=True)
class SearchQuery:
    q: str = ""
    providers: tuple[str, ...] = ()
    categories: tuple[Category, ...] = ()
    share_types: tuple[ShareType, ...] = ()
    open_types: tuple[OpenType, ...] = ()
    update_cycles: tuple[UpdateCycle, ...] = ()
    formats: tuple[ResourceFormat, ...] = ()
    regions: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    statuses: tuple[Status, ...] = ()
    sort: Sort | None = None  # default: relevance with a query, else updated
    facets: tuple[str, ...] = DEFAULT_FACETS

    @property
    def terms(self) -> list[str]:
        terms = [t for t in self.q.split() if t]
        if len(terms) > MAX_TERMS:
            raise BadRequest(f"q: at most {MAX_TERMS} search terms")
        return terms

    @property
    def effective_sort(self) -> Sort:
        return self.sort or ("relevance" if self.terms else "updated")


@dataclass
class SearchResult:
    resources: list[Resource]
    total: int
    facets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    next_key: list[Any] | None = None


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _text_conditions(
    session: Session, terms: list[str]
) -> tuple[list[ColumnElement[bool]], Any | None]:
    """WHERE conditions for the terms, and the FTS subquery to join (SQLite) if any."""
    conditions: list[ColumnElement[bool]] = []
    fts = None
    sqlite = session.get_bind().dialect.name == "sqlite"
    long_terms = [t for t in terms if len(t) >= FTS_MIN] if sqlite else []
    if long_terms:
        expr = " AND ".join(_phrase(t) for t in long_terms)
        fts = (
            text("SELECT rowid AS id FROM catalog_fts WHERE catalog_fts MATCH :expr")
            .bindparams(expr=expr)
            .columns(id=Integer)
            .subquery("fts")
        )
    for term in terms:
        if term in long_terms:
            continue
        # search_text is stored lower-cased: a plain LIKE is case-insensitive, and on
        # PostgreSQL it is what the pg_trgm index serves (3+ characters).
        pattern = f"%{_like_escape(term.lower())}%"
        conditions.append(Resource.search_text.like(pattern, escape="\\"))
    return conditions, fts


def _rank(terms: list[str]) -> ColumnElement[Any]:
    if not terms:
        return literal(0, Integer)
    term = max(terms, key=len)
    escaped = _like_escape(term)
    tier = case(
        (func.lower(Resource.name) == term.lower(), 0),
        (Resource.name.ilike(f"{escaped}%", escape="\\"), 1),
        (Resource.name.ilike(f"%{escaped}%", escape="\\"), 2),
        else_=3,
    )
    length = func.length(Resource.name)
    return tier * 1000 + case((length > 999, 999), else_=length)


def _filters(
    session: Session, query: SearchQuery, actor: Actor | None
) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [visible_clause(actor)]
    if query.providers:  # ids, not a subquery: the planner can then use the index
        stmt = select(Organization.id).where(Organization.code.in_(query.providers))
        conds.append(Resource.provider_id.in_(list(session.scalars(stmt))))
    for column, values in (
        (Resource.category, query.categories),
        (Resource.share_type, query.share_types),
        (Resource.open_type, query.open_types),
        (Resource.update_cycle, query.update_cycles),
        (Resource.format, query.formats),
        (Resource.status, query.statuses),
    ):
        if values:
            conds.append(column.in_(values))
    if query.regions:  # on region_key, which the covering index holds: no subquery
        wrapped = literal(",") + Resource.region_key + literal(",")
        codes = [c for c in query.regions if c.isdigit()] or ["-"]  # codes are digits only
        conds.append(or_(*(wrapped.like(f"%,{c},%") for c in codes)))
    for keyword in query.keywords:  # every keyword given must be present
        conds.append(
            Resource.id.in_(
                select(ResourceKeyword.resource_id).where(ResourceKeyword.keyword == keyword)
            )
        )
    return conds


def _sort_key(sort: Sort, rank: ColumnElement[Any]) -> tuple[Any, bool]:
    """(expression, descending)"""
    if sort == "relevance":
        return rank, False
    if sort == "name":
        return Resource.name, False
    if sort == "code":
        return Resource.code, False
    if sort == "publish_date":
        return func.coalesce(Resource.publish_date, literal(_NO_DATE, Date)), True
    return Resource.updated_at, True


def _decode_key(sort: Sort, key: list[Any]) -> tuple[Any, int]:
    try:
        cursor_sort, value, last_id = key
        if cursor_sort != sort:
            raise ValueError
        last_id = int(last_id)
        if sort == "relevance":
            return float(value), last_id
        if sort in ("name", "code"):
            return str(value), last_id
        if sort == "publish_date":
            return date.fromisoformat(value), last_id
        return datetime.fromisoformat(value), last_id
    except (ValueError, TypeError):
        raise BadRequest("cursor does not belong to this search (its sort changed)") from None


def _encode_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


# Facets that are columns of the resource: counted together by one GROUP BY ("cube").
_COLUMN_FACETS: dict[str, Any] = {
    "provider": Resource.provider_id,
    "category": Resource.category,
    "share_type": Resource.share_type,
    "open_type": Resource.open_type,
    "update_cycle": Resource.update_cycle,
    "format": Resource.format,
    "region": Resource.region_key,  # split into codes after counting
}


def _raw(column: Any) -> Any:
    """A facet column as its stored text: counting needs no Enum object per row."""
    return type_coerce(column, String) if isinstance(column.type, Enum) else column


def _id_set(session: Session, ids: Sequence[int]) -> ColumnElement[bool]:
    """`Resource.id` in a precomputed list, as one bound parameter however long it is."""
    if session.get_bind().dialect.name == "postgresql":
        return Resource.id == func.any(literal(list(ids), ARRAY(Integer)))
    each = select(literal_column("value", Integer)).select_from(func.json_each(json.dumps(ids)))
    return Resource.id.in_(each.scalar_subquery())


def search(
    session: Session,
    query: SearchQuery,
    actor: Actor | None,
    *,
    limit: int,
    after: list[Any] | None = None,
    offset: int | None = None,
) -> SearchResult:
    """A page of visible resources matching `query`, the total and the facet counts."""
    for name in query.facets:
        if name not in FACETS:
            raise BadRequest(f"unknown facet {name!r}; use {', '.join(FACETS)}")
    terms = query.terms
    sort = query.effective_sort
    text_conds, fts = _text_conditions(session, terms)
    conds = _filters(session, query, actor) + text_conds
    if terms:
        return _search_text(session, query, conds, fts, limit=limit, after=after, offset=offset)

    def matching(*columns: Any) -> Select[Any]:
        return select(*columns).select_from(Resource).where(and_(*conds))

    key_expr, descending = _sort_key(sort, _rank(terms))
    page = matching(Resource, key_expr.label("sort_key")).options(
        lazyload(Resource.items),
        lazyload(Resource.regions),  # a hit shows neither
        # Providers in a second query: a join here keeps PostgreSQL from walking the
        # sort key's index and stopping at the page's end.
        selectinload(Resource.provider),
    )
    if after is not None:
        value, last_id = _decode_key(sort, after)
        bound = literal(value, key_expr.type) if sort != "relevance" else literal(value, Float)
        if descending:
            page = page.where(or_(key_expr < bound, and_(key_expr == bound, Resource.id < last_id)))
        else:
            page = page.where(or_(key_expr > bound, and_(key_expr == bound, Resource.id > last_id)))
    order = (key_expr.desc(), Resource.id.desc()) if descending else (key_expr, Resource.id)
    page = page.order_by(*order).limit(limit + 1)
    if offset:
        page = page.offset(offset)
    rows = session.execute(page).all()
    resources = [row[0] for row in rows[:limit]]
    next_key = None
    if len(rows) > limit and offset is None:
        last = rows[limit - 1]
        next_key = [sort, _encode_value(last[1]), last[0].id]

    total, facets = _cube(session, matching, [f for f in query.facets if f in _COLUMN_FACETS])
    if "keyword" in query.facets:
        facets["keyword"] = _keyword_facet(session, matching)
    ordered = {name: facets[name] for name in query.facets}
    return SearchResult(resources, total, ordered, next_key)


def _cube(
    session: Session, matching: Any, names: list[str]
) -> tuple[int, dict[str, list[dict[str, Any]]]]:
    """The total and every column facet from one GROUP BY over all of them."""
    dims = [_raw(_COLUMN_FACETS[n]) for n in names]
    counts: dict[str, Counter[Any]] = {n: Counter() for n in names}
    total = 0
    for row in session.connection().execute(matching(*dims, func.count()).group_by(*dims)):
        *values, n = row
        total += n
        for name, value in zip(names, values, strict=True):
            counts[name][value] += n
    return total, _facet_values(session, counts)


def _facet_values(
    session: Session, counts: dict[str, Counter[Any]]
) -> dict[str, list[dict[str, Any]]]:
    """Counted column facets → values with labels, most frequent first."""
    facets: dict[str, list[dict[str, Any]]] = {}
    for name, counter in counts.items():
        ranked = sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))
        if name == "provider":
            facets[name] = _provider_values(session, ranked[:MAX_FACET_VALUES])
        elif name == "region":
            facets[name] = _region_values(session, counter)
        else:
            facets[name] = [_value(v, n, *labels(name, v)) for v, n in ranked]
    return facets


def _search_text(
    session: Session,
    query: SearchQuery,
    conds: list[ColumnElement[bool]],
    fts: Any | None,
    *,
    limit: int,
    after: list[Any] | None,
    offset: int | None,
) -> SearchResult:
    """A text search: one pass over the hits (the FTS index, or LIKE) brings back their
    sort keys and facet columns; counting, sorting and the keyset cut happen here, and
    only the page's resources are loaded. Hits are few next to the catalog, so this
    beats asking the database three times over the same match."""
    sort = query.effective_sort
    key_expr, descending = _sort_key(sort, _rank(query.terms))
    names = [f for f in query.facets if f in _COLUMN_FACETS]
    stmt = select(Resource.id, key_expr, *(_raw(_COLUMN_FACETS[n]) for n in names)).where(*conds)
    if fts is not None:
        stmt = stmt.join(fts, fts.c.id == Resource.id)
    hits = session.connection().execute(stmt).all()  # Core rows: no ORM work per hit
    # Count the distinct facet combinations first (one C-level pass over the hits), then
    # spread each combination's count over its facets: far fewer steps than hits × facets.
    combos = Counter(tuple(hit[2:]) for hit in hits)
    counts: dict[str, Counter[Any]] = {n: Counter() for n in names}
    for combo, n in combos.items():
        for name, value in zip(names, combo, strict=True):
            counts[name][value] += n
    facets = _facet_values(session, counts)
    if "keyword" in query.facets:
        facets["keyword"] = _keyword_facet_of(session, [hit[0] for hit in hits])

    ordered = sorted(((hit[1], hit[0]) for hit in hits), reverse=descending)
    if after is not None:
        cut = _decode_key(sort, after)
        ordered = [k for k in ordered if (k < cut if descending else k > cut)]
    start = offset or 0
    window = ordered[start : start + limit + 1]
    page_ids = [resource_id for _, resource_id in window[:limit]]
    loaded = {
        r.id: r
        for r in session.scalars(
            select(Resource)
            .where(Resource.id.in_(page_ids))
            .options(lazyload(Resource.items), lazyload(Resource.regions))
        )
    }
    next_key = None
    if len(window) > limit and offset is None:
        value, last_id = window[limit - 1]
        next_key = [sort, _encode_value(value), last_id]
    return SearchResult(
        [loaded[i] for i in page_ids],
        len(hits),
        {name: facets[name] for name in query.facets},
        next_key,
    )


def _provider_values(session: Session, ranked: list[tuple[int, int]]) -> list[dict[str, Any]]:
    orgs = {
        o.id: o
        for o in session.scalars(
            select(Organization).where(Organization.id.in_([i for i, _ in ranked]))
        )
    }
    return [
        _value(orgs[i].code, n, orgs[i].name_zh, orgs[i].name_en or orgs[i].name_zh)
        for i, n in ranked
        if i in orgs
    ]


def _region_values(session: Session, by_key: Counter[str]) -> list[dict[str, Any]]:
    """Region counts from counts per coverage ("371300,371302": n counts for each code)."""
    counter: Counter[str] = Counter()
    for key, n in by_key.items():
        for code in key.split(","):
            if code:
                counter[code] += n
    ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_FACET_VALUES]
    names = {
        r.code: r
        for r in session.scalars(select(Region).where(Region.code.in_([c for c, _ in ranked])))
    }
    return [
        _value(code, n, names[code].name_zh, names[code].name_en)
        for code, n in ranked
        if code in names
    ]


def _keyword_facet_of(session: Session, ids: Sequence[int]) -> list[dict[str, Any]]:
    count = func.count().label("n")
    stmt = (
        select(ResourceKeyword.keyword, count)
        .where(ResourceKeyword.resource_id.in_(select(Resource.id).where(_id_set(session, ids))))
        .group_by(ResourceKeyword.keyword)
        .order_by(count.desc(), ResourceKeyword.keyword)
        .limit(MAX_FACET_VALUES)
    )
    return [_value(k, n, k, k) for k, n in session.execute(stmt)]


def _keyword_facet(session: Session, matching: Any) -> list[dict[str, Any]]:
    count = func.count().label("n")
    stmt = (
        select(ResourceKeyword.keyword, count)
        .where(ResourceKeyword.resource_id.in_(matching(Resource.id)))
        .group_by(ResourceKeyword.keyword)
        .order_by(count.desc(), ResourceKeyword.keyword)
        .limit(MAX_FACET_VALUES)
    )
    return [_value(k, n, k, k) for k, n in session.execute(stmt)]


def _value(value: str, count: int, zh: str, en: str) -> dict[str, Any]:
    return {"value": value, "count": count, "label_zh": zh, "label_en": en}


def codes_of(session: Session, actor: Actor | None, statuses: Sequence[Status] = ()) -> list[str]:
    """Every visible resource code (CKAN's package_list), in code order."""
    stmt = select(Resource.code).where(visible_clause(actor)).order_by(Resource.code)
    if statuses:
        stmt = stmt.where(Resource.status.in_(statuses))
    return list(session.scalars(stmt))
