"""Entity resolution of one chunk against the stored golden records, in Polars.

Per field, for each incoming row (`P` the delivering provider, `A` the field's authority):

- nothing stored yet                        → take the incoming value
- same value                                → keep; if P is A, the lineage moves to P
- different, P is A                         → take it ("authority_applied" if another
                                              provider had set it)
- different, the stored value came from A   → keep it ("authority_kept")
- different, no authority involved          → take it ("latest_applied" if another
                                              provider had set it)

A null incoming value means "not known to this provider": it never erases a value.
Every disagreement between two providers is returned as a conflict row.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from cityhub.library import datastore as ds
from cityhub.library.fingerprint import canonical_expr
from cityhub.library.golden import HASH, Layout

CUR = "__cur"
PROV = "__prov"
EXISTS = "__exists"


@dataclass(frozen=True)
class FieldRule:
    column: str  # datastore column
    code: str  # item code, as shown in the conflict log
    authority_id: int | None  # organization id whose value wins


@dataclass
class Resolution:
    rows: pl.DataFrame  # key, every item column, src columns, _row_id (null: new), changed
    conflicts: pl.DataFrame  # record_key, field, kept/rejected value and merge, resolution


CONFLICT_SCHEMA: dict[str, pl.DataType] = {
    "record_key": pl.String(),
    "field": pl.String(),
    "kept_value": pl.String(),
    "kept_merge_id": pl.Int64(),
    "rejected_value": pl.String(),
    "rejected_merge_id": pl.Int64(),
    "resolution": pl.String(),
}


def _text(column: ds.ColumnSpec, name: str) -> pl.Expr:
    """Canonical text of a value for the conflict log (nulls stay null)."""
    renamed = ds.ColumnSpec(name, column.kind, column.length, column.scale)
    return pl.when(pl.col(name).is_not_null()).then(canonical_expr(renamed))


def resolve(
    layout: Layout,
    incoming: pl.DataFrame,
    stored: pl.DataFrame,
    rules: dict[str, FieldRule],
    *,
    provider_id: int,
    merge_id: int,
    source_providers: dict[int, int],
) -> Resolution:
    """Merge `incoming` (key column + the fields this provider delivers, storage dtypes)
    into `stored` (golden rows of the same keys, see `golden.fetch`).

    The result has, per incoming row: the key, `_row_id` and `_hash` as stored (null for
    a new record), every value column and its `_src_` column after resolution, and
    `__lineage_moved` (a source changed even where no value did).
    """
    key = layout.key_column
    value_cols = list(layout.value_columns)
    delivered = {c.name for c in value_cols if c.name in incoming.columns}
    renamed = {c.name: c.name + CUR for c in value_cols}
    renamed |= {layout.src(c.name): layout.src(c.name) + CUR for c in value_cols}
    current = stored.select([key, ds.ROW_ID, HASH, *renamed]).rename(renamed)
    key_items = [c for c in layout.key_columns if c != key]
    joined = incoming.select([key, *key_items, *sorted(delivered)]).join(
        current, on=key, how="left", maintain_order="left"
    )
    merge_lit = pl.lit(merge_id, pl.Int64)
    exprs: list[pl.Expr] = []
    moved: list[pl.Expr] = []
    conflicts: list[pl.DataFrame] = []
    for col in value_cols:
        src = layout.src(col.name)
        v_cur, s_cur = pl.col(col.name + CUR), pl.col(src + CUR)
        if col.name not in delivered:
            exprs += [v_cur.alias(col.name), s_cur.alias(src)]
            continue
        rule = rules[col.name]
        v_in = pl.col(col.name)
        prov_cur = s_cur.replace_strict(source_providers, default=None, return_dtype=pl.Int64)
        me_auth = pl.lit(rule.authority_id is not None and rule.authority_id == provider_id)
        cur_is_auth = (
            (prov_cur == rule.authority_id).fill_null(False)
            if rule.authority_id is not None
            else pl.lit(False)
        )
        provided = v_in.is_not_null()
        differ = provided & v_cur.is_not_null() & v_in.ne_missing(v_cur)
        take = provided & (v_cur.is_null() | (differ & (me_auth | ~cur_is_auth)))
        upgrade = provided & v_in.eq_missing(v_cur) & me_auth & ~cur_is_auth
        new_src = pl.when(take | upgrade).then(merge_lit).otherwise(s_cur)
        exprs += [pl.when(take).then(v_in).otherwise(v_cur).alias(col.name), new_src.alias(src)]
        moved.append(new_src.ne_missing(s_cur))
        picked = joined.filter(differ & prov_cur.ne_missing(provider_id))
        if picked.height:
            conflicts.append(
                _conflicts(picked, col, rule, key, merge_lit, take, cur_is_auth, me_auth)
            )
    merged = joined.select(
        pl.col(key),
        *[pl.col(k) for k in key_items],
        pl.col(ds.ROW_ID),
        pl.col(HASH),
        *exprs,
        (pl.any_horizontal(moved) if moved else pl.lit(False)).alias(LINEAGE_MOVED),
    )
    table = (
        pl.concat(conflicts, how="vertical") if conflicts else pl.DataFrame(schema=CONFLICT_SCHEMA)
    )
    return Resolution(merged, table)


LINEAGE_MOVED = "__lineage_moved"


def _conflicts(
    picked: pl.DataFrame,
    col: ds.ColumnSpec,
    rule: FieldRule,
    key: str,
    merge_lit: pl.Expr,
    take: pl.Expr,
    cur_is_auth: pl.Expr,
    me_auth: pl.Expr,
) -> pl.DataFrame:
    s_cur = pl.col(Layout.src(col.name) + CUR)
    incoming, stored = _text(col, col.name), _text(col, col.name + CUR)
    resolution = (
        pl.when(me_auth)
        .then(pl.lit("authority_applied"))
        .when(cur_is_auth)
        .then(pl.lit("authority_kept"))
        .otherwise(pl.lit("latest_applied"))
    )
    return picked.select(
        pl.col(key).cast(pl.String).alias("record_key"),
        pl.lit(rule.code).alias("field"),
        pl.when(take).then(incoming).otherwise(stored).alias("kept_value"),
        pl.when(take).then(merge_lit).otherwise(s_cur).alias("kept_merge_id"),
        pl.when(take).then(stored).otherwise(incoming).alias("rejected_value"),
        pl.when(take).then(s_cur).otherwise(merge_lit).alias("rejected_merge_id"),
        resolution.alias("resolution"),
    ).cast(CONFLICT_SCHEMA)  # type: ignore[arg-type]
