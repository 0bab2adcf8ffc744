"""The catalog held in memory for search: every resource's search text, sort keys and
facet columns (as small integer codes in NumPy arrays), one index per database and
catalog state.

Why: a common term (信用) matches a third of the catalog, and counting six facets over
those hits, then sorting them, costs more in SQL round trips and rows than the search
itself. In memory a substring test over 10,000 texts takes about a millisecond, the
filters and facets are array operations, and only the page's resources are loaded.

Freshness: triggers change `catalog_search_state.token` with every write to the
resources or their keywords (catalog_0002), in the writer's transaction. Each search
reads the token first (one indexed row) and rebuilds the index when it differs, so a
search sees every committed edit, from any process, and its own transaction's edits.
"""

from __future__ import annotations

import threading
import weakref
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, String, select, type_coerce
from sqlalchemy.orm import Session

from cityhub.catalog.models import Resource, ResourceKeyword, SearchState

NO_DATE = date(1, 1, 1)
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Coded columns: the filters, the visibility rule and the column facets.
CODED: dict[str, Any] = {
    "provider": Resource.provider_id,
    "category": Resource.category,
    "share_type": Resource.share_type,
    "open_type": Resource.open_type,
    "update_cycle": Resource.update_cycle,
    "format": Resource.format,
    "region": Resource.region_key,
    "status": Resource.status,
}


@dataclass
class Coded:
    """One column as codes into its distinct values (the stored text, or provider ids)."""

    codes: IntArray
    values: list[Any]
    index: dict[Any, int]

    @classmethod
    def of(cls, column: Sequence[Any]) -> Coded:
        values = list(dict.fromkeys(column))
        index = {v: c for c, v in enumerate(values)}
        codes = np.fromiter(map(index.__getitem__, column), np.int64, len(column))
        return cls(codes, values, index)

    def mask(self, wanted: Sequence[Any]) -> BoolArray:
        """Rows whose value is one of `wanted`."""
        hit = [self.index[v] for v in wanted if v in self.index]
        return np.isin(self.codes, np.asarray(hit, np.int64))

    def code(self, value: Any) -> int:
        return self.index.get(value, -1)


@dataclass
class Order:
    """The rows in (key, id) order, for one sort."""

    position: IntArray  # each row's place in the order
    rows: IntArray  # the row at each place
    keys: list[tuple[Any, int]]  # (key, id) at each place

    @classmethod
    def of(cls, values: list[Any], ids: list[int]) -> Order:
        ranked = sorted(zip(values, ids, range(len(ids)), strict=True))
        rows = np.fromiter((row for _, _, row in ranked), np.int64, len(ids))
        position = np.empty(len(ids), np.int64)
        position[rows] = np.arange(len(ids))
        return cls(position, rows, [(v, i) for v, i, _ in ranked])

    def cut(self, key: tuple[Any, int], descending: bool) -> int:
        """The place just past a keyset cursor: places before it are past the cursor when
        descending, places from it on when ascending."""
        return bisect_left(self.keys, key) if descending else bisect_right(self.keys, key)


@dataclass
class SearchIndex:
    token: str
    ids: IntArray  # rows in id order
    names: list[str]
    names_lower: list[str]
    texts: list[str]  # search_text, lower-cased
    columns: dict[str, Coded]
    sort_values: dict[str, list[Any]]  # name, code, publish_date, updated → value per row
    _orders: dict[str, Order] = field(default_factory=dict)
    _keywords: Keywords | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def order(self, sort: str) -> Order:
        """Made on first use: one catalog state is usually searched many times."""
        found = self._orders.get(sort)
        if found is None:
            found = Order.of(self.sort_values[sort], self.ids.tolist())
            self._orders[sort] = found
        return found

    def keywords(self, session: Session) -> Keywords:
        """Read on first use (few searches ask for keywords), by a search that has just
        checked the token, so they belong to the same catalog state as the rest."""
        if self._keywords is None:
            row_of = {int(i): r for r, i in enumerate(self.ids.tolist())}
            stmt = select(ResourceKeyword.resource_id, ResourceKeyword.keyword)
            pairs = [p for p in session.connection().execute(stmt) if p[0] in row_of]
            self._keywords = Keywords(
                np.fromiter((row_of[r] for r, _ in pairs), np.int64, len(pairs)),
                Coded.of([k for _, k in pairs]),
            )
        return self._keywords


@dataclass
class Keywords:
    rows: IntArray  # the row of each (resource, keyword) pair
    words: Coded  # the keyword of each pair

    def rows_with(self, keyword: str) -> IntArray:
        found: IntArray = self.rows[self.words.codes == self.words.code(keyword)]
        return found


def _build(session: Session, token: str) -> SearchIndex:
    names = list(CODED)
    stmt = select(
        Resource.id,
        Resource.name,
        Resource.code,
        Resource.search_text,
        Resource.publish_date,
        Resource.updated_at,
        *(type_coerce(CODED[n], String) if n != "provider" else CODED[n] for n in names),
    ).order_by(Resource.id)
    connection = session.connection()  # Core rows: no ORM work per row
    rows = connection.execute(stmt).all()
    cols = list(zip(*rows, strict=True)) if rows else [()] * (6 + len(names))
    ids = np.asarray(cols[0], np.int64)
    return SearchIndex(
        token=token,
        ids=ids,
        names=list(cols[1]),
        names_lower=[n.lower() for n in cols[1]],
        texts=list(cols[3]),
        columns={n: Coded.of(cols[6 + k]) for k, n in enumerate(names)},
        sort_values={
            "name": list(cols[1]),
            "code": list(cols[2]),
            "publish_date": [d or NO_DATE for d in cols[4]],
            "updated": list(cols[5]),
        },
    )


_lock = threading.Lock()
_current: weakref.WeakKeyDictionary[Engine, SearchIndex] = weakref.WeakKeyDictionary()


def current_index(session: Session) -> SearchIndex:
    """The index of the catalog as this session sees it, rebuilt if the catalog changed."""
    # ORM select: the session flushes its pending writes first, so they count.
    token = session.execute(select(SearchState.token).where(SearchState.id == 1)).scalar()
    if token is None:  # the state row was emptied out (triggers off): nothing to trust
        return _build(session, "")
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    index = _current.get(engine)
    if index is not None and index.token == token:
        return index
    with _lock:  # one build per change, however many searches wait for it
        index = _current.get(engine)
        if index is None or index.token != token:
            index = _build(session, token)
            _current[engine] = index
    return index
