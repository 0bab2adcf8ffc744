"""Catalog search: full text that works for Chinese, facets, sort, keyset pagination.

Searches run over the catalog held in memory (`search_index`: every resource's search
text, sort keys and facet columns, rebuilt when the catalog changes), and only the page's
resources are read from the database.

Text: whitespace separates terms; every term must be a substring of the resource's
lower-cased search text (names, code, summary, keywords, items, provider), so 人口 finds
人口基础信息 and 1-character terms work too. Relevance: names equal to, starting with, or
containing the longest term first, then shorter (more specific) names, then by id.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from cityhub.catalog.labels import labels
from cityhub.catalog.models import Resource
from cityhub.catalog.search_index import (
    BoolArray,
    IntArray,
    Keywords,
    SearchIndex,
    current_index,
)
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
        raise BadRequest(_FOREIGN_CURSOR) from None


_FOREIGN_CURSOR = "cursor does not belong to this search (its sort changed)"


def _encode_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


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
    cursor = _decode_key(sort, after) if after is not None else None
    index = current_index(session)
    rows = _matching(session, index, query, actor, terms)
    facets = _facets(session, index, query.facets, rows)
    window = _window(index, rows, terms, sort, cursor, offset or 0, limit + 1)
    page_ids = [int(index.ids[row]) for row, _ in window[:limit]]
    loaded = {
        r.id: r
        for r in session.scalars(
            select(Resource)
            .where(Resource.id.in_(page_ids))
            .options(lazyload(Resource.items), lazyload(Resource.regions))  # a hit shows neither
        )
    }
    next_key = None
    if len(window) > limit and offset is None:
        row, value = window[limit - 1]
        next_key = [sort, _encode_value(value), int(index.ids[row])]
    # A resource deleted since the index was read is left out of the page.
    resources = [loaded[i] for i in page_ids if i in loaded]
    return SearchResult(resources, len(rows), facets, next_key)


def _raw(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _visible(index: SearchIndex, actor: Actor | None) -> BoolArray:
    """`service.visible_clause` over the index."""
    status, opened = index.columns["status"], index.columns["open_type"]
    published: BoolArray = status.codes == status.code(Status.published.value)
    if actor is None:
        anonymous: BoolArray = published & (opened.codes != opened.code(OpenType.closed.value))
        return anonymous
    if actor.sees_all:
        return np.ones(len(index), np.bool_)
    if actor.organization_id is None:
        return published
    provider = index.columns["provider"]
    own: BoolArray = provider.codes == provider.code(actor.organization_id)
    return published | own


def _matching(
    session: Session,
    index: SearchIndex,
    query: SearchQuery,
    actor: Actor | None,
    terms: list[str],
) -> IntArray:
    """The rows of the visible resources that pass the filters and contain every term."""
    mask = _visible(index, actor)
    columns = index.columns
    if query.providers:
        stmt = select(Organization.id).where(Organization.code.in_(query.providers))
        mask &= columns["provider"].mask(list(session.scalars(stmt)))
    for name, values in (
        ("category", query.categories),
        ("share_type", query.share_types),
        ("open_type", query.open_types),
        ("update_cycle", query.update_cycles),
        ("format", query.formats),
        ("status", query.statuses),
    ):
        if values:
            mask &= columns[name].mask([_raw(v) for v in values])
    if query.regions:  # a coverage key ("371300,371302") holding any of the codes
        codes = set(query.regions)
        region = columns["region"]
        mask &= region.mask([k for k in region.values if codes & set(k.split(","))])
    for keyword in query.keywords:  # every keyword given must be present
        has = np.zeros(len(index), np.bool_)
        has[index.keywords(session).rows_with(keyword)] = True
        mask &= has
    rows = np.flatnonzero(mask)
    texts = index.texts
    for term in terms:  # search_text is lower-cased: a substring test of the lowered term
        needle = term.lower()
        rows = np.fromiter((r for r in rows.tolist() if needle in texts[r]), np.int64)
    return rows


def _facets(
    session: Session, index: SearchIndex, names: Sequence[str], rows: IntArray
) -> dict[str, list[dict[str, Any]]]:
    counts: dict[str, Counter[Any]] = {}
    for name in names:
        if name == "keyword":
            continue
        column = index.columns[name]
        found = np.bincount(column.codes[rows], minlength=len(column.values))
        counts[name] = Counter({column.values[c]: int(found[c]) for c in np.flatnonzero(found)})
    facets = _facet_values(session, counts)
    if "keyword" in names:
        facets["keyword"] = _keyword_facet(index.keywords(session), len(index), rows)
    return {name: facets[name] for name in names}


def _keyword_facet(keywords: Keywords, size: int, rows: IntArray) -> list[dict[str, Any]]:
    chosen = np.zeros(size, np.bool_)
    chosen[rows] = True
    words = keywords.words
    found = np.bincount(words.codes[chosen[keywords.rows]], minlength=len(words.values))
    ranked = sorted(
        ((words.values[c], int(found[c])) for c in np.flatnonzero(found)),
        key=lambda kv: (-kv[1], kv[0]),
    )
    return [_value(k, n, k, k) for k, n in ranked[:MAX_FACET_VALUES]]


def _relevance(index: SearchIndex, rows: IntArray, terms: list[str]) -> IntArray:
    """Names equal to, starting with, or containing the longest term first, then shorter
    (more specific) names: tier × 1000 + length (capped at 999)."""
    if not terms:
        return np.zeros(len(rows), np.int64)
    term = max(terms, key=len).lower()
    names, lowered = index.names, index.names_lower

    def rank(row: int) -> int:
        name = lowered[row]
        tier = 0 if name == term else 1 if name.startswith(term) else 2 if term in name else 3
        return tier * 1000 + min(len(names[row]), 999)

    return np.fromiter((rank(r) for r in rows.tolist()), np.int64, len(rows))


def _window(
    index: SearchIndex,
    rows: IntArray,
    terms: list[str],
    sort: Sort,
    cursor: tuple[Any, int] | None,
    start: int,
    size: int,
) -> list[tuple[int, Any]]:
    """(row, sort value) of `size` matching rows in sort order (ties by id), past the
    cursor and `start` more."""
    if sort == "relevance":  # depends on the query: ranked here, ascending
        keys, ids = _relevance(index, rows, terms), index.ids[rows]
        if cursor is not None:
            value, last_id = cursor
            keep = (keys > value) | ((keys == value) & (ids > last_id))
            rows, keys, ids = rows[keep], keys[keep], ids[keep]
        chosen = np.lexsort((ids, keys))[start : start + size]
        return [(int(rows[i]), int(keys[i])) for i in chosen]
    descending = sort in ("publish_date", "updated")
    order = index.order(sort)
    positions = np.sort(order.position[rows])
    if descending:
        positions = positions[::-1]
    if cursor is not None:
        try:
            cut = order.cut(cursor, descending)
        except TypeError:  # e.g. a time with a zone against times without
            raise BadRequest(_FOREIGN_CURSOR) from None
        positions = positions[positions < cut] if descending else positions[positions >= cut]
    return [(int(order.rows[p]), order.keys[p][0]) for p in positions[start : start + size]]


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


def _value(value: str, count: int, zh: str, en: str) -> dict[str, Any]:
    return {"value": value, "count": count, "label_zh": zh, "label_en": en}


def codes_of(session: Session, actor: Actor | None, statuses: Sequence[Status] = ()) -> list[str]:
    """Every visible resource code (CKAN's package_list), in code order."""
    stmt = select(Resource.code).where(visible_clause(actor)).order_by(Resource.code)
    if statuses:
        stmt = stmt.where(Resource.status.in_(statuses))
    return list(session.scalars(stmt))
