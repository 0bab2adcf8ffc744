"""The change log behind the change feed and the webhooks.

Every merge into a library table tells the library's merge hook which keys it changed;
we record them in the same transaction, numbered per resource (`seq`) under the
resource's state row lock, so numbers follow the commit order and a consumer that reads
"after seq N" never misses a change that commits later. The keys of one merge are stored
in blocks of consecutive numbers (`ChangeBlock`, up to `BLOCK_KEYS` keys a row): a load
of millions of rows writes hundreds of log rows, and a page of the feed reads one or two.
A change is served as the row as it is when read (or a deletion when the row is gone):
delivery is at least once, in order, and a consumer converges on the current state.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection, case, func, select
from sqlalchemy.orm import Session

from cityhub.catalog.masking import mask_frame, mask_value
from cityhub.core.db import utcnow
from cityhub.core.times import as_utc
from cityhub.exchange import bulk
from cityhub.exchange.models import ChangeBlock, ResourceState
from cityhub.gateway.access import View
from cityhub.library import golden, hooks
from cityhub.library import target as library_target
from cityhub.library.merge_plan import keys_of

BATCH_KEY = "cityhub.exchange.batch_id"
BLOCK_KEYS = 10_000  # keys per log row: a feed page decodes at most this many to serve one


def lock_state(session: Session, code: str) -> ResourceState:
    """The resource's state row, locked: one writer of its changes at a time."""
    state = session.scalar(
        select(ResourceState).where(ResourceState.resource_code == code).with_for_update()
    )
    if state is None:
        state = ResourceState(resource_code=code, last_seq=0)
        session.add(state)
        session.flush()
    return state


def record(session: Session, resource_code: str, keys: pl.Series) -> int:
    """Append changed keys of `resource_code` to the log; returns the last seq."""
    keys = keys.drop_nulls().cast(pl.String)
    state = lock_state(session, resource_code)
    if keys.len() == 0:
        return state.last_seq
    start = state.last_seq + 1
    n = keys.len()
    blocks = (
        keys.alias("key")
        .to_frame()
        .with_row_index("i")
        .group_by((pl.col("i") // BLOCK_KEYS).alias("b"), maintain_order=True)
        .agg(pl.col("i").min().alias("first"), pl.col("i").max().alias("last"), pl.col("key"))
    )
    frame = blocks.select(
        pl.lit(resource_code, dtype=pl.String).alias("resource_code"),
        (pl.col("first").cast(pl.Int64) + start).alias("seq_first"),
        (pl.col("last").cast(pl.Int64) + start).alias("seq_last"),
        pl.lit(session.info.get(BATCH_KEY), dtype=pl.Int64).alias("batch_id"),
        # {"key":[...]} without its wrapper: the JSON array of the block's keys
        pl.struct("key")
        .struct.json_encode()
        .str.strip_prefix('{"key":')
        .str.strip_suffix("}")
        .alias("keys"),
        pl.lit(utcnow(), dtype=pl.Datetime("us", "UTC")).alias("at"),
    )
    bulk.insert(session.connection(), ChangeBlock.__tablename__, frame)
    state.last_seq = start + n - 1
    session.flush()
    return state.last_seq


def _keys(session: Session, resource_code: str, frames: tuple[pl.DataFrame, ...]) -> pl.Series:
    """Canonical keys of changed rows (as the library writes them) from row frames."""
    layout = library_target.target_of(session, resource_code).layout
    parts = []
    for frame in frames:
        if frame.height == 0:
            continue
        if golden.KEY in frame.columns:
            parts.append(frame.get_column(golden.KEY).cast(pl.String))
        elif layout.key_columns and all(c in frame.columns for c in layout.key_columns):
            parts.append(frame.select(golden.key_expr(layout)).to_series())
        elif not layout.key_columns:  # keyless: a row is keyed by its fingerprint
            parts.append(keys_of(layout, frame))
    if not parts:
        return pl.Series("key", [], dtype=pl.String)
    return pl.concat([p.alias("key") for p in parts])


def _on_merge(session: Session, resource_code: str, *changed: Any) -> None:
    """Every merge into a library table, by the exchange or not, feeds the change log.

    The library hands over the changed keys (or the changed rows, before and after)."""
    if len(changed) == 1 and isinstance(changed[0], pl.Series):
        keys = changed[0]
    else:
        keys = _keys(
            session, resource_code, tuple(f for f in changed if isinstance(f, pl.DataFrame))
        )
    record(session, resource_code, keys.unique(maintain_order=True))


hooks.on_merge(_on_merge)


# -- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    seq: int
    op: str  # upsert | delete, as of now
    key: str  # as the caller may see it (masked like its item, when it is masked for them)
    key_ref: str  # a stable pseudonym of the key: matches a deletion to earlier upserts
    batch_id: int | None
    at: datetime
    row: dict[str, Any] | None


def last_seq(session: Session, resource_code: str) -> int:
    value = session.scalar(
        select(ResourceState.last_seq).where(ResourceState.resource_code == resource_code)
    )
    return int(value or 0)


@dataclass(frozen=True)
class Record:
    """One logged change: its number, the key it changed, its batch and time."""

    seq: int
    key: str
    batch_id: int | None
    at: datetime


def records(
    session: Session, code: str, after: int, limit: int, upto: int | None = None
) -> list[Record]:
    """Up to `limit` logged changes of `code` after seq `after` (up to `upto`), in order."""
    out: list[Record] = []
    seen = after
    while len(out) < limit:
        stmt = (
            select(ChangeBlock)
            .where(ChangeBlock.resource_code == code, ChangeBlock.seq_last > seen)
            .order_by(ChangeBlock.seq_last)
            .limit(4)
        )
        blocks = list(session.scalars(stmt))
        if not blocks:
            break
        for block in blocks:
            keys: list[str] = json.loads(block.keys)
            skip = max(0, after + 1 - block.seq_first)
            for i in range(skip, len(keys)):
                seq = block.seq_first + i
                if (upto is not None and seq > upto) or len(out) >= limit:
                    return out
                out.append(Record(seq, keys[i], block.batch_id, block.at))
            seen = block.seq_last
    return out


def _current_rows(
    conn: Connection, session: Session, view: View, keys: list[str]
) -> dict[str, dict[str, Any]]:
    """The rows of `keys` as stored now, limited and masked by what the caller may read."""
    found = library_target.target_of(session, view.resource.code)
    layout = found.layout
    stored = golden.fetch(conn, layout, pl.Series(keys, dtype=pl.String))
    if stored.height == 0:
        return {}
    key_col = "_key" if layout.composite else layout.key_column
    by_column = {item.column: item for item in view.items}
    frame = stored.select(
        pl.col(key_col).cast(pl.String).alias("__key"),
        *[pl.col(col).alias(item.code) for col, item in by_column.items() if col in stored.columns],
    )
    rules = {item.code: item.rule for item in view.items if view.masked(item)}
    if rules:
        frame = mask_frame(frame, rules)
    return {row.pop("__key"): row for row in frame.to_dicts()}


def _key_shown(view: View, key_items: tuple[str, ...], key: str) -> str:
    """The key in clear only where every key item is granted in clear to the caller."""
    items = [view.resource.item(code) for code in key_items]
    if items and all(i is not None and view.allows(i.code) and not view.masked(i) for i in items):
        return key
    if len(items) == 1 and items[0] is not None and items[0].rule is not None:
        return str(mask_value(key, items[0].rule))
    return "*" * min(len(key), 8)


def key_ref(secret: bytes, resource_code: str, key: str) -> str:
    message = f"{resource_code}|{key}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def page(
    session: Session,
    view: View,
    *,
    after: int,
    limit: int,
    secret: bytes,
    upto: int | None = None,
) -> tuple[list[Change], int]:
    """Up to `limit` changes after seq `after` (and up to `upto`); and the last seq seen."""
    code = view.resource.code
    found_records = records(session, code, after, limit, upto)
    if not found_records:
        return [], after
    rows = _current_rows(
        session.connection(), session, view, sorted({r.key for r in found_records})
    )
    found = library_target.target_of(session, code)
    by_column = {item.column: item.code for item in view.resource.items}
    key_items = tuple(by_column.get(c, c) for c in found.layout.key_columns)
    out = [
        Change(
            seq=r.seq,
            op="upsert" if r.key in rows else "delete",
            key=_key_shown(view, key_items, r.key),
            key_ref=key_ref(secret, code, r.key),
            batch_id=r.batch_id,
            at=as_utc(r.at),
            row=_jsonable(rows.get(r.key)),
        )
        for r in found_records
    ]
    return out, found_records[-1].seq


def _jsonable(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}


def count_after(session: Session, resource_code: str, after: int) -> int:
    # a block straddling `after` counts only its changes past it
    first = case((ChangeBlock.seq_first > after, ChangeBlock.seq_first), else_=after + 1)
    return int(
        session.scalar(
            select(func.sum(ChangeBlock.seq_last - first + 1)).where(
                ChangeBlock.resource_code == resource_code, ChangeBlock.seq_last > after
            )
        )
        or 0
    )


def as_json(change: Change) -> dict[str, Any]:
    return {
        "seq": change.seq,
        "op": change.op,
        "key": change.key,
        "key_ref": change.key_ref,
        "batch_id": change.batch_id,
        "at": change.at.isoformat(),
        "row": change.row,
    }
