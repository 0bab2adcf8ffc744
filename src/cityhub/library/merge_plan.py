"""Planning a merge: what one chunk inserts, updates, deletes or withdraws in the library,
worked out in Polars before anything is written (`merge` then applies it).

Rows are resolved field by field for a base library (`resolve`: authority, lineage,
conflicts) or taken as delivered for a plain resource, then split by their fingerprints
into inserts, updates of only the delivered columns, and unchanged rows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import polars as pl
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from cityhub.core.db import utcnow
from cityhub.directory.models import Organization
from cityhub.library import datastore as ds
from cityhub.library import digest, golden
from cityhub.library.fingerprint import fingerprints
from cityhub.library.golden import HASH, KEY, REGION, Layout
from cityhub.library.lineage_store import source_providers
from cityhub.library.resolve import LINEAGE_MOVED, FieldRule, resolve
from cityhub.library.target import Target

NEW_HASH = "__new_hash"
_ORG_IDS = "cityhub.library.org_ids"  # session.info: organization code -> id


@dataclass
class Changes:
    """What one merge writes, before it is written."""

    inserts: pl.DataFrame
    updates: pl.DataFrame
    delete_ids: list[int]
    removed: pl.DataFrame  # part, _hash of rows replaced or removed
    added: pl.DataFrame  # part, _hash of rows written
    before: pl.DataFrame  # item columns of rows as they were, where values changed
    after: pl.DataFrame  # item columns of rows as written (inserts and changes)
    unchanged: int
    conflicts: pl.DataFrame | None = None
    changed_rows: int = 0


def plan(
    session: Session,
    conn: Connection,
    target: Target,
    provider: Organization,
    merge_id: int,
    incoming: pl.DataFrame,
    deleted: pl.Series,
    parts: list[str],
    *,
    fetch_stored: bool = True,
) -> Changes:
    """`fetch_stored=False`: the table holds none of these keys (a first load)."""
    layout = target.layout
    keys = pl.concat([incoming.get_column(layout.key_column), deleted])
    if not fetch_stored:
        keys = keys.clear()
    stored = golden.fetch(conn, layout, keys)
    if target.library is not None:
        changes = _plan_library(session, target, parts, provider, merge_id, incoming, stored)
        if deleted.len():  # withdrawn rows rewrite every field: the updates go together
            changes = replace(changes, updates=_full_updates(layout, changes, stored))
    else:
        changes = _plan_plain(layout, incoming, stored)
        if deleted.len():
            changes = replace(changes, updates=_full_updates(layout, changes, stored))
    if deleted.len():
        gone = stored.filter(pl.col(layout.key_column).is_in(deleted.implode()))
        registrar = target.library is None or provider.code == target.library.registrar
        more = withdraw(session, target, provider, merge_id, gone, registrar=registrar)
        changes = combine(changes, more)
    return changes


def _stamp() -> pl.Expr:
    return pl.lit(utcnow(), dtype=pl.Datetime("us", "UTC")).alias(ds.UPDATED_AT)


def _split(
    layout: Layout,
    rows: pl.DataFrame,
    stored: pl.DataFrame,
    moved: pl.Expr | None,
    delivered: set[str] | None = None,
) -> Changes:
    """Classify resolved rows (stored `_row_id`, `_hash`; new values) into writes.

    `delivered`: the columns the merge may have changed (the others carry the stored
    values through `resolve`); updates rewrite only those, not the whole row."""
    rows = rows.with_columns(fingerprints(rows, layout.spec.columns).alias(NEW_HASH))
    is_new = pl.col(ds.ROW_ID).is_null()
    changed = ~is_new & pl.col(NEW_HASH).ne_missing(pl.col(HASH))
    touched = changed | (moved if moved is not None else pl.lit(False))
    flags = rows.select(is_new.alias("n"), changed.alias("c"), (~is_new & touched).alias("t"))
    new_rows = rows.filter(flags.get_column("n"))
    upd_rows = rows.filter(flags.get_column("t"))
    changed_rows = rows.filter(flags.get_column("c"))
    extra = [c for c in (KEY, REGION) if c in stored.columns or c in rows.columns]
    srcs = [layout.src(c.name) for c in layout.value_columns] if layout.lineage else []
    item_cols = [c.name for c in layout.spec.columns]
    stamp = _stamp()
    inserts = new_rows.select(
        *item_cols, *[c for c in extra if c in new_rows.columns], *srcs,
        pl.col(NEW_HASH).alias(HASH), stamp,
    )  # fmt: skip
    value_cols = [c.name for c in layout.value_columns]
    if delivered is not None:
        value_cols = [c for c in value_cols if c in delivered]
        srcs = [layout.src(c) for c in value_cols] if layout.lineage else []
    updates = upd_rows.select(
        ds.ROW_ID, *([REGION] if layout.partitioned else []), *value_cols, *srcs,
        pl.col(NEW_HASH).alias(HASH), stamp,
    )  # fmt: skip
    old = stored.filter(pl.col(ds.ROW_ID).is_in(changed_rows.get_column(ds.ROW_ID).implode()))
    return Changes(
        inserts=inserts,
        updates=updates,
        delete_ids=[],
        removed=digest.part_frame(layout, old),
        added=digest.part_frame(
            layout,
            pl.concat(
                [
                    inserts.select(HASH, *([REGION] if layout.partitioned else [])),
                    changed_rows.select(
                        pl.col(NEW_HASH).alias(HASH), *([REGION] if layout.partitioned else [])
                    ),
                ]
            ),
        ),
        before=old.select(item_cols),
        after=pl.concat([new_rows.select(item_cols), changed_rows.select(item_cols)]),
        unchanged=rows.height - new_rows.height - changed_rows.height,
        changed_rows=changed_rows.height,
    )


def _plan_library(
    session: Session,
    target: Target,
    parts: list[str],
    provider: Organization,
    merge_id: int,
    incoming: pl.DataFrame,
    stored: pl.DataFrame,
) -> Changes:
    layout, lib = target.layout, target.library
    assert lib is not None
    providers = source_providers(session, stored, layout)
    providers[merge_id] = provider.id
    authorities = _org_ids(session, {f.authority for f in lib.value_fields if f.authority})
    rules = {
        f.column: FieldRule(f.column, f.code, authorities.get(f.authority))
        for f in lib.value_fields
    }
    res = resolve(
        layout, incoming, stored, rules,
        provider_id=provider.id, merge_id=merge_id, source_providers=providers,
    )  # fmt: skip
    rows = res.rows
    if layout.partitioned:
        rows = rows.join(
            stored.select(layout.key_column, REGION), on=layout.key_column, how="left"
        ).with_columns(pl.coalesce(pl.col(REGION), golden.region_expr(layout, parts)).alias(REGION))
    changes = _split(layout, rows, stored, pl.col(LINEAGE_MOVED), set(incoming.columns))
    changes.conflicts = res.conflicts
    return changes


def _full_updates(layout: Layout, changes: Changes, stored: pl.DataFrame) -> pl.DataFrame:
    """Updates of some columns widened to every column (the others as stored), so that
    they stack with updates that rewrite whole rows."""
    updates = changes.updates
    if updates.height == 0:
        return updates
    names = [c.name for c in layout.value_columns]
    names += [layout.src(c) for c in names] if layout.lineage else []
    missing = [n for n in names if n not in updates.columns]
    if not missing:
        return updates
    kept = stored.select(ds.ROW_ID, *missing)
    widened = updates.join(kept, on=ds.ROW_ID, how="left", maintain_order="left")
    order = [ds.ROW_ID, *([REGION] if layout.partitioned else []), *names, HASH, ds.UPDATED_AT]
    return widened.select(order)


def _plan_plain(layout: Layout, incoming: pl.DataFrame, stored: pl.DataFrame) -> Changes:
    key = layout.key_column
    kept = [c.name for c in layout.spec.columns if c.name not in incoming.columns]
    rows = incoming.join(
        stored.select(key, ds.ROW_ID, HASH, *kept), on=key, how="left", maintain_order="left"
    )
    return _split(layout, rows, stored, None, set(incoming.columns))


def _org_ids(session: Session, codes: set[str]) -> dict[str, int]:
    """Organization ids by code, looked up once per session (a merge asks every chunk)."""
    if not codes:
        return {}
    known: dict[str, int] = session.info.setdefault(_ORG_IDS, {})
    if missing := codes - known.keys():
        rows = session.execute(
            select(Organization.code, Organization.id).where(Organization.code.in_(missing))
        )
        known.update({code: org_id for code, org_id in rows})
    return {code: known[code] for code in codes if code in known}


def withdraw(
    session: Session,
    target: Target,
    provider: Organization,
    merge_id: int,
    stored: pl.DataFrame,
    *,
    registrar: bool,
) -> Changes:
    """Remove `stored` rows (a registrar's or a plain resource's deletion), or clear the
    fields `provider` supplied to them, removing records left with no source at all."""
    layout = target.layout
    empty = Changes(
        inserts=pl.DataFrame(),
        updates=pl.DataFrame(),
        delete_ids=[],
        removed=digest.part_frame(layout, stored.clear()),
        added=digest.part_frame(layout, stored.clear()),
        before=_items_of(layout, stored.clear()),
        after=_items_of(layout, stored.clear()),
        unchanged=0,
    )
    if stored.height == 0:
        return empty
    if registrar or not layout.lineage:
        return replace(
            empty,
            delete_ids=stored.get_column(ds.ROW_ID).to_list(),
            removed=digest.part_frame(layout, stored),
            before=_items_of(layout, stored),
        )
    providers = source_providers(session, stored, layout)
    mine = [m for m, p in providers.items() if p == provider.id]
    exprs = []
    for col in layout.value_columns:
        src = layout.src(col.name)
        ours = pl.col(src).is_in(mine)
        exprs += [
            pl.when(ours).then(None).otherwise(pl.col(col.name)).alias(col.name),
            pl.when(ours).then(None).otherwise(pl.col(src)).alias(src),
        ]
    rows = stored.with_columns(exprs)
    srcs = [layout.src(c.name) for c in layout.value_columns]
    orphan = rows.select(pl.all_horizontal([pl.col(s).is_null() for s in srcs])).to_series()
    gone = stored.filter(orphan)
    changes = _split(layout, rows.filter(~orphan), stored, None)
    changes.delete_ids = gone.get_column(ds.ROW_ID).to_list()
    changes.removed = pl.concat([changes.removed, digest.part_frame(layout, gone)])
    changes.before = pl.concat([changes.before, _items_of(layout, gone)])
    changes.unchanged = 0
    return changes


def keys_of(layout: Layout, items: pl.DataFrame) -> pl.Series:
    """Canonical keys of rows given by their item columns (keyless: their fingerprint)."""
    if not layout.key_columns:
        return hex_keys(fingerprints(items, layout.spec.columns)).alias(layout.key_column)
    parts = [pl.col(c).cast(pl.String) for c in layout.key_columns]
    expr = parts[0] if len(parts) == 1 else pl.concat_str(parts, separator=golden.KEY_SEPARATOR)
    return items.select(expr.alias(layout.key_column)).to_series()


def _items_of(layout: Layout, frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select([c.name for c in layout.spec.columns])


def combine(a: Changes, b: Changes) -> Changes:
    def cat(x: pl.DataFrame, y: pl.DataFrame) -> pl.DataFrame:
        if x.height == 0:
            return y
        if y.height == 0:
            return x
        return pl.concat([x, y], how="vertical_relaxed")

    return Changes(
        inserts=cat(a.inserts, b.inserts),
        updates=cat(a.updates, b.updates),
        delete_ids=a.delete_ids + b.delete_ids,
        removed=cat(a.removed, b.removed),
        added=cat(a.added, b.added),
        before=cat(a.before, b.before),
        after=cat(a.after, b.after),
        unchanged=a.unchanged + b.unchanged,
        conflicts=a.conflicts,
        changed_rows=a.changed_rows + b.changed_rows,
    )


def hex_keys(hashes: pl.Series) -> pl.Series:
    """A row fingerprint as a key (keyless resources)."""
    return hashes.reinterpret(signed=False).cast(pl.String)
