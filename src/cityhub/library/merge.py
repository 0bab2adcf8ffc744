"""Merge a chunk of accepted rows into the library, inside the caller's transaction.

    merge_chunk(session, resource_code=..., provider_code=..., batch_id=..., frame=...,
                mode="incremental" | "full", deleted_keys=None) -> MergeResult

- A **base library** resource (or a department resource that feeds one, see `specs`):
  entity resolution into one golden record per key (ID numbers upgraded 15→18, credit
  codes upper-cased), per-field lineage and conflicts resolved by the field's authority
  (`resolve`). A null value means "unknown to this provider" and never erases.
- Any **other tabular resource**: a keyed upsert into its datastore table, keyed by the
  items declared with `target.set_key` (without one, by the fingerprint of the row).
  Delivered columns overwrite (nulls included); columns not delivered are kept.

`frame` columns are item codes (`GMSFHM`) or datastore column names (`gmsfhm`), values as
the exchange standardized them (strings are parsed to the item's type here). Duplicate
keys inside a chunk: the last row wins. A row without a valid key fails the whole chunk
(ValidationFailed) before anything is written: the exchange quarantines such rows first.

Counts: `unchanged` rows are identical to what is stored (same fingerprint); `deleted`
counts rows removed by `deleted_keys` (for a base library, only the registrar removes a
record; another provider's deletion withdraws the fields it supplied).

**Full deliveries** span chunks: call `merge_chunk(mode="full")` per chunk, then
`finish_full(...)` once after the last chunk, in the same transaction. It withdraws what
this provider supplied for keys the batch did not carry (plain resources: deletes them).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any, Literal

import polars as pl
from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from cityhub.core.db import utcnow
from cityhub.core.events import emit
from cityhub.directory.models import Organization, Region
from cityhub.errors import BadRequest, Forbidden, NotFound, ValidationFailed
from cityhub.library import datastore as ds
from cityhub.library import digest, first_load, golden, hooks, write
from cityhub.library.fingerprint import fingerprints
from cityhub.library.golden import KEY
from cityhub.library.lineage_store import record_conflicts
from cityhub.library.merge_plan import Changes, hex_keys, plan, withdraw
from cityhub.library.models import LibraryMerge, LibrarySeenKey
from cityhub.library.target import Target, target_of

Mode = Literal["full", "incremental"]
MODES: tuple[str, ...] = ("full", "incremental")
TOPIC_MERGED = "library.merged"
SQLITE_CACHE_KB = 131_072  # 128 MB, per connection
FRESH = "cityhub.library.fresh"  # session.info: (stored code, batch) -> began on an empty table


@dataclass(frozen=True)
class MergeResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    conflicts: int = 0
    merge_id: int | None = None
    digest: str = ""

    def __add__(self, other: MergeResult) -> MergeResult:
        return MergeResult(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.deleted + other.deleted,
            self.conflicts + other.conflicts,
            other.merge_id or self.merge_id,
            other.digest or self.digest,
        )


# -- entry points --------------------------------------------------------------------------


def merge_chunk(
    session: Session,
    *,
    resource_code: str,
    provider_code: str,
    batch_id: int,
    frame: pl.DataFrame,
    mode: Mode,
    deleted_keys: pl.Series | None = None,
) -> MergeResult:
    """Merge `frame` (and remove `deleted_keys`) for one provider's batch."""
    if mode not in MODES:
        raise BadRequest(f"mode must be full or incremental, not {mode!r}")
    if not isinstance(frame, pl.DataFrame):
        raise ValidationFailed("rows must be a Polars DataFrame")
    target = target_of(session, resource_code)
    conn = session.connection()
    # a first load (`first_load`): the table was ensured, its indexes are being rebuilt
    # at the end, and every key of the batch is new: nothing to look up or remember.
    # After its first chunk, a chunk reads nothing before its writes, so it is prepared
    # while the previous chunk's rows are still being copied (`behind`).
    first = first_load.loading(session, target.stored_code, batch_id)
    if first is not None and first.merged is not None:
        provider, parts, merge = first.merged
    else:
        provider = _provider(session, provider_code, target)
        lock(conn, target.stored_code)
        _cache(conn)
        parts = partitions_for(session, target)
        if first is None:
            golden.ensure(conn, target.layout, parts)
    incoming = _incoming(target, frame)
    deleted = _deleted_keys(target, deleted_keys, incoming)
    # asked before the batch's first write: did the table hold anything before it?
    fresh = mode == "full" and (first is not None or _fresh(session, conn, target, batch_id))
    if first is None or first.merged is None:
        merge = _merge_row(session, target, provider, batch_id, mode)
        if first is not None:
            first.merged = (provider, parts, merge)
    changes = plan(
        session, conn, target, provider, merge.id, incoming, deleted, parts,
        fetch_stored=first is None,
    )  # fmt: skip
    result = _apply(
        session, conn, target, provider, merge, changes, incoming.height, first=first is not None
    )
    if mode == "full" and not fresh:
        _remember(conn, target, batch_id, incoming.get_column(target.layout.key_column))
    return result


def _fresh(session: Session, conn: Connection, target: Target, batch_id: int) -> bool:
    """Whether a full batch began on an empty table (asked at its first chunk, remembered
    for the others): then every stored row is one it carried, so its keys need not be
    remembered, nor the table searched for rows it did not carry."""
    known: dict[tuple[str, int], bool] = session.info.setdefault(FRESH, {})
    key = (target.stored_code, batch_id)
    if key not in known:
        begun = session.scalar(
            select(LibraryMerge.id).where(
                LibraryMerge.resource_code == target.resource_code,
                LibraryMerge.batch_id == batch_id,
            )
        )
        known[key] = begun is None and golden.is_empty(conn, target.layout)
    return known[key]


def finish_full(
    session: Session, *, resource_code: str, provider_code: str, batch_id: int
) -> MergeResult:
    """After the last chunk of a full delivery: withdraw what it no longer carries."""
    target = target_of(session, resource_code)
    provider = _provider(session, provider_code, target)
    conn = session.connection()
    lock(conn, target.stored_code)
    first = first_load.loading(session, target.stored_code, batch_id)
    first_load.finish(session, resource_code=resource_code)  # no-op unless a first load
    golden.ensure(conn, target.layout, partitions_for(session, target))
    merge = session.scalar(
        select(LibraryMerge).where(
            LibraryMerge.resource_code == resource_code, LibraryMerge.batch_id == batch_id
        )
    )
    if merge is None:  # an empty full delivery: everything it used to carry goes
        merge = _merge_row(session, target, provider, batch_id, "full")
    total = MergeResult(merge_id=merge.id)
    # into a table empty before the batch every stored row came from it: nothing is unseen
    fresh = session.info.get(FRESH, {}).pop((target.stored_code, batch_id), False)
    for stale in () if first is not None or fresh else _unseen(conn, target, batch_id):
        changes = withdraw(session, target, provider, merge.id, stale, registrar=False)
        total = total + _apply(session, conn, target, provider, merge, changes, 0)
    session.query(LibrarySeenKey).filter(
        LibrarySeenKey.resource_code == target.resource_code, LibrarySeenKey.batch_id == batch_id
    ).delete(synchronize_session=False)
    # The content a full delivery leaves, notarized once at its end.
    parts = digest.load(session, target.stored_code)
    return replace(total, digest=_snapshot(session, target, provider, merge, parts))


# -- preparation ---------------------------------------------------------------------------


def _provider(session: Session, code: str, target: Target) -> Organization:
    org = session.scalar(select(Organization).where(Organization.code == code))
    if org is None:
        raise NotFound(f"no organization with code {code!r}")
    allowed = {target.owner}
    if target.library is not None and target.feed is None:
        allowed |= set(target.library.providers)
    if org.code not in allowed:
        raise Forbidden(
            f"{org.code} does not provide resource {target.resource_code} "
            f"(provided by {', '.join(sorted(allowed))})"
        )
    return org


def lock(conn: Connection, code: str) -> None:
    """One merge at a time per table (PostgreSQL; SQLite has a single writer anyway)."""
    if conn.dialect.name == "postgresql":
        key = int.from_bytes(
            hashlib.sha1(f"library:{code}".encode()).digest()[:8], "big", signed=True
        )
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def _cache(conn: Connection) -> None:
    """SQLite: a page cache that holds a large table's key index (the default 2 MB makes
    every insert of a random ID number read and write index pages again)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KB}")


def partitions_for(session: Session, target: Target) -> list[str]:
    """County codes of the registrar's city: one PostgreSQL partition each."""
    if not target.layout.partitioned or target.library is None:
        return []
    city = session.scalar(
        select(Organization.region_code).where(Organization.code == target.library.registrar)
    )
    if not city:
        return []
    prefix = city[:4] + "00"
    return sorted(session.scalars(select(Region.code).where(Region.parent_code == prefix)))


def _incoming(target: Target, frame: pl.DataFrame) -> pl.DataFrame:
    """Columns renamed to the datastore's, values cast, keys canonical, duplicates folded."""
    layout = target.layout
    rename: dict[str, str] = {}
    unknown = []
    for name in frame.columns:
        col = name if name in target.columns else ds.column_name(name)
        if col not in target.columns:
            unknown.append(name)
        elif col in rename.values():
            raise ValidationFailed(f"column {name!r} is delivered twice")
        else:
            rename[name] = col
    if unknown:
        raise ValidationFailed(
            f"unknown column(s) {', '.join(unknown)} for resource {target.resource_code}; "
            f"it takes: {', '.join(_item_names(target))}"
        )
    df = frame.rename(rename)
    if frame.height == 0:  # nothing delivered (a chunk of deletions only)
        empty = {c.name: ds.polars_dtype(c.kind) for c in layout.spec.columns}
        df = pl.DataFrame(schema=empty)
        return df.with_columns(pl.lit(None, pl.String).alias(KEY)) if layout.composite else df
    if missing := [k for k in layout.key_columns if k not in df.columns]:
        raise ValidationFailed(
            f"the key column(s) {', '.join(missing)} of resource {target.resource_code} are missing"
        )
    delivered = tuple(c for c in layout.spec.columns if c.name in df.columns)
    df = ds.prepare(ds.TableSpec(layout.spec.resource_code, delivered), df).drop(ds.UPDATED_AT)
    if target.library is not None and target.library.normalize_key is not None:
        key = layout.key_columns[0]
        df = df.with_columns(target.library.normalize_key(df.get_column(key)).alias(key))
    if not layout.key_columns:  # keyless: whole rows, identified by their fingerprint
        absent = [
            pl.lit(None, ds.polars_dtype(c.kind)).alias(c.name)
            for c in layout.spec.columns
            if c.name not in df.columns
        ]
        df = df.with_columns(absent).select([c.name for c in layout.spec.columns])
        df = df.with_columns(hex_keys(fingerprints(df, layout.spec.columns)).alias(KEY))
    else:
        _require_keys(target, df)
        if layout.composite:
            df = df.with_columns(golden.key_expr(layout).alias(KEY))
    return df.unique(subset=[layout.key_column], keep="last", maintain_order=True)


def _item_names(target: Target) -> list[str]:
    if target.library is not None:
        return [f.code for f in target.library.fields if f.column in target.columns]
    return [c.label or c.name for c in target.layout.spec.columns]


def _require_keys(target: Target, df: pl.DataFrame) -> None:
    layout = target.layout
    missing = df.select(pl.any_horizontal([pl.col(k).is_null() for k in layout.key_columns]))
    bad = missing.to_series()
    count = int(bad.sum())
    if not count:
        return
    first = int(bad.arg_max() or 0)
    names = ", ".join(
        next((f.code for f in target.library.fields if f.column == k), k) if target.library else k
        for k in layout.key_columns
    )
    raise ValidationFailed(
        f"{count} of {df.height} rows have a missing or invalid key ({names}); the first is "
        f"row {first + 1} of the chunk"
    )


def _deleted_keys(target: Target, keys: pl.Series | None, incoming: pl.DataFrame) -> pl.Series:
    layout = target.layout
    if keys is None or keys.len() == 0:
        return pl.Series(layout.key_column, [], dtype=pl.String)
    if not layout.key_columns:
        raise ValidationFailed(
            f"resource {target.resource_code} has no declared key: deletions need one"
        )
    keys = keys.cast(pl.String).alias(layout.key_column)
    if target.library is not None and target.library.normalize_key is not None:
        normalized = target.library.normalize_key(keys)
        if int(normalized.is_null().sum()) > int(keys.is_null().sum()):
            raise ValidationFailed("deleted_keys holds keys that are not valid")
        keys = normalized
    keys = keys.drop_nulls().unique()
    both = keys.is_in(incoming.get_column(layout.key_column).implode())
    if bool(both.any()):
        raise ValidationFailed(
            f"key {keys.filter(both)[0]} is both delivered and deleted in the same chunk"
        )
    return keys


def _merge_row(
    session: Session, target: Target, provider: Organization, batch_id: int, mode: str
) -> LibraryMerge:
    merge = session.scalar(
        select(LibraryMerge).where(
            LibraryMerge.resource_code == target.resource_code, LibraryMerge.batch_id == batch_id
        )
    )
    if merge is None:
        merge = LibraryMerge(
            resource_code=target.resource_code,
            library=target.library.slug if target.library else "",
            batch_id=batch_id,
            provider_id=provider.id,
            mode=mode,
            rows_in=0,
            inserted=0,
            updated=0,
            unchanged=0,
            deleted=0,
            conflicts=0,
        )
        session.add(merge)
        session.flush()
    elif merge.provider_id != provider.id:
        raise Forbidden(f"batch {batch_id} of {target.resource_code} came from another provider")
    return merge


# -- applying ------------------------------------------------------------------------------


def _apply(
    session: Session,
    conn: Connection,
    target: Target,
    provider: Organization,
    merge: LibraryMerge,
    changes: Changes,
    rows_in: int,
    *,
    first: bool = False,
) -> MergeResult:
    """`first`: a first load (`first_load`) is under way; its rows are written last,
    behind the caller."""
    layout = target.layout
    if not first:
        write.insert(conn, layout, changes.inserts)
    write.update(conn, layout, changes.updates)
    write.delete(conn, layout, changes.delete_ids)
    conflicts = 0
    if changes.conflicts is not None and changes.conflicts.height:
        lib = target.library.slug if target.library else ""
        conflicts = record_conflicts(conn, lib, merge.id, changes.conflicts)
    parts = digest.apply(session, target.stored_code, changes.removed, changes.added)
    result = MergeResult(
        inserted=changes.inserts.height,
        updated=changes.changed_rows,
        unchanged=changes.unchanged,
        deleted=len(changes.delete_ids),
        conflicts=conflicts,
        merge_id=merge.id,
    )
    merge.rows_in += rows_in
    merge.inserted += result.inserted
    merge.updated += result.updated
    merge.unchanged += result.unchanged
    merge.deleted += result.deleted
    merge.conflicts += result.conflicts
    merge.finished_at = utcnow()
    if changes.before.height or changes.after.height:
        from cityhub.library import derive  # noqa: F401  (registers its listener)

        hooks.merged(session, target.stored_code, changes.before, changes.after)
    changed = result.inserted + result.updated + result.deleted + result.conflicts
    if not changed:  # nothing to notarize or to rebuild: the digest is the one on record
        return replace(result, digest=digest.digest_of(target.stored_code, parts))
    value = _snapshot(session, target, provider, merge, parts)
    emit(
        session,
        TOPIC_MERGED,
        {
            "resource": target.resource_code,
            "stored": target.stored_code,
            "library": target.library.slug if target.library else "",
            "batch": merge.batch_id,
            "provider": provider.code,
            "merge": merge.id,
            "inserted": result.inserted,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "deleted": result.deleted,
            "conflicts": result.conflicts,
        },
    )
    session.flush()
    if first:
        first_load.insert(conn, layout, changes.inserts)
    return replace(result, digest=value)


def _snapshot(
    session: Session,
    target: Target,
    provider: Organization,
    merge: LibraryMerge,
    parts: dict[str, digest.PartState],
) -> str:
    return digest.snapshot(
        session,
        target.stored_code,
        parts,
        library=target.library.slug if target.library else "",
        batch_id=merge.batch_id,
        provider=provider.code,
    )


def _remember(conn: Connection, target: Target, batch_id: int, keys: pl.Series) -> None:
    """Keys a full delivery carried (idempotent across chunks)."""
    frame = pl.DataFrame(
        {"resource_code": target.resource_code, "batch_id": batch_id, "key": keys.cast(pl.String)},
        schema={"resource_code": pl.String, "batch_id": pl.Int64, "key": pl.String},
    )
    write.insert_ignore(conn, LibrarySeenKey.__tablename__, frame)


def _unseen(conn: Connection, target: Target, batch_id: int) -> Any:
    """Stored rows a full delivery did not carry, in chunks (see `golden.iterate`)."""
    return golden.iterate_unseen(conn, target.layout, target.resource_code, batch_id)
