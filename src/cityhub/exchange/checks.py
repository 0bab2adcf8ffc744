"""Validation of one chunk, vectorized: standardize every item, convert it to its storage
type, and collect for each row the reasons it is refused (none: accepted).

The input is a chunk of text columns named by item code, plus `_row` (1-based data row in
the source), and optionally `_op` (incremental deletions) and `_ragged` (a reader's
complaint about the row's shape). Nothing here loops over rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from cityhub.exchange import canonical
from cityhub.exchange import standardize as std
from cityhub.exchange.rules import ItemRule, Target
from cityhub.gateway.resources import ItemInfo
from cityhub.library import datastore as ds
from cityhub.standards import credit_code, id_number, industry, phone, regions

ROW = "_row"
OP = "_op"
REASONS = "_reasons"
DELETE_OPS = ("delete", "d", "del", "删除")
UPSERT_OPS = ("upsert", "u", "insert", "i", "update", "新增", "更新", "")
_CHECK_LABEL = {
    "id_number": "not a valid citizen ID number (GB 11643)",
    "credit_code": "not a valid unified social credit code (GB 32100)",
    "phone": "not a valid mobile number",
    "region": "not a GB/T 2260 region code or known region name",
    "industry": "not a GB/T 4754 industry code",
}


@dataclass
class ItemStats:
    """Per item over a batch: values present, values refused (for the quality report)."""

    present: int = 0
    invalid: int = 0


@dataclass
class Checked:
    upserts: pl.DataFrame  # storage-typed, item codes, `_row`
    deletes: pl.DataFrame  # key items (storage-typed), `_row`
    rejected: pl.DataFrame  # `_row`, `_reasons`, the delivered text of each item
    rows: int
    stats: dict[str, ItemStats] = field(default_factory=dict)


def _title(item: ItemInfo) -> str:
    return f"{item.code} {item.name}" if item.name != item.code else item.code


def _typed(item: ItemInfo, raw: pl.Expr, rule: ItemRule, zone: str, city: str) -> pl.Expr:
    """The standardized value in its storage dtype (null where it cannot be read)."""
    kind = item.kind
    if kind is ds.ColumnKind.integer:
        return std.number_text(raw).cast(pl.Int64, strict=False)
    if kind in (ds.ColumnKind.decimal, ds.ColumnKind.float):
        return std.number_text(raw).cast(pl.Float64, strict=False)
    if kind is ds.ColumnKind.boolean:
        return std.boolean(raw)
    if kind is ds.ColumnKind.date:
        return std.date(raw)
    if kind is ds.ColumnKind.datetime:
        return std.datetime_utc(raw, zone)
    match rule.check:
        case "id_number":
            return std.id_number(raw)
        case "credit_code" | "industry":
            return std.credit_code(raw)
        case "phone":
            return std.mobile(raw)
        case "region":
            return std.region(raw, city)
        case _:
            return raw


def _valid(check: str, value: pl.Expr) -> pl.Expr | None:
    match check:
        case "id_number":
            return id_number.is_valid_expr(value)
        case "credit_code":
            return credit_code.is_valid_expr(value)
        case "phone":  # the value is normalized already (`std.mobile`)
            return value.str.contains(_MOBILE)
        case "region":
            return regions.is_valid_expr(value)
        case "industry":
            return industry.is_valid_expr(value)
    return None


def _within(code: str) -> str:
    """The prefix every code under `code` shares: 370000 → 37, 371300 → 3713."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def _bound_value(item: ItemInfo, bound: Any) -> Any:
    if item.kind in (ds.ColumnKind.date, ds.ColumnKind.datetime):
        return date.today() if bound == "today" else date.fromisoformat(str(bound))
    return bound


Failure = tuple[pl.Expr, pl.Expr]  # (where the row fails, the reason text)


def _failures(item: ItemInfo, rule: ItemRule, raw: pl.Expr, value: pl.Expr) -> list[Failure]:
    """Each check as a mask (computed for every row) and its reason (built only for the
    rows that fail: formatting text for a million good rows would cost more than
    checking them)."""
    title = pl.lit(_title(item))
    out: list[Failure] = [
        (
            raw.is_not_null() & value.is_null(),
            pl.format("{}: '{}' is not a valid {}", title, raw, pl.lit(item.kind.value)),
        )
    ]
    if rule.required:
        out.append((raw.is_null(), pl.format("{}: a value is required", title)))
    if item.kind is ds.ColumnKind.string and item.length:
        out.append(
            (
                value.str.len_chars() > item.length,
                pl.format("{}: longer than {} characters", title, pl.lit(item.length)),
            )
        )
    valid = _valid(rule.check, value)
    if valid is not None:
        label = pl.lit(_CHECK_LABEL[rule.check])
        out.append((value.is_not_null() & ~valid, pl.format("{}: '{}' is {}", title, raw, label)))
    if rule.check == "region" and rule.within:
        outside = value.is_not_null() & ~value.str.starts_with(_within(rule.within))
        message = pl.format("{}: {} is outside region {}", title, value, pl.lit(rule.within))
        out.append((outside, message))
    if rule.codes:
        unknown = value.is_not_null() & ~value.cast(pl.String).is_in(list(rule.codes))
        out.append((unknown, pl.format("{}: '{}' is not in the code list", title, raw)))
    if rule.pattern:
        matches = value.cast(pl.String).str.contains(f"^(?:{rule.pattern})$")
        message = pl.format("{}: '{}' does not match the pattern", title, raw)
        out.append((value.is_not_null() & ~matches, message))
    for bound, below in ((rule.min, True), (rule.max, False)):
        if bound is None:
            continue
        limit = _bound_value(item, bound)
        outside = value < limit if below else value > limit
        word = pl.lit("below the minimum" if below else "above the maximum")
        message = pl.format("{}: '{}' is {} {}", title, raw, word, pl.lit(str(limit)))
        out.append((value.is_not_null() & outside, message))
    return [(mask.fill_null(False), message) for mask, message in out]


def _dirty(chunk: pl.DataFrame, items: list[ItemInfo]) -> set[str]:
    """The columns `std.text` would change: some value is empty, has blanks at an end, or
    (unless kept) a full-width character. Exact, and far cheaper than folding: Chinese
    names and addresses are not ASCII yet nearly never need anything."""
    if not items:
        return set()
    probes = []
    for item in items:
        col = pl.col(item.code)
        edge = (col.str.len_bytes() == 0) | (
            col.str.strip_chars().str.len_bytes() != col.str.len_bytes()
        )
        if item.kind is not ds.ColumnKind.text:
            edge = edge | col.str.contains(std.FULL_WIDTH)
        probes.append(edge.any().alias(item.code))
    found = chunk.select(probes)
    return {i.code for i, hit in zip(items, found.row(0), strict=True) if hit}


_MOBILE = f"^{phone._SEGMENTS}$"  # a normalized mobile number, as `std.mobile` leaves it


def _fast_typed(item: ItemInfo, raw: pl.Expr, rule: ItemRule) -> pl.Expr | None:
    """A cheap expression equal to `_typed` of the standardized text wherever it is not
    null: it takes only values in their canonical spelling (nothing to trim or fold, so
    the raw text is the standardized text), nearly all of them; the rows it leaves null
    are standardized and typed again the slow way."""
    if item.kind is ds.ColumnKind.date:
        return pl.when(raw.str.contains(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")).then(
            raw.str.to_date("%Y-%m-%d", strict=False)
        )
    if item.kind is not ds.ColumnKind.string and item.kind is not ds.ColumnKind.text:
        return None
    if rule.check == "id_number":
        return pl.when(raw.str.contains(r"^[0-9]{17}[0-9X]$")).then(raw)
    if rule.check == "phone":
        return pl.when(raw.str.contains(_MOBILE)).then(raw)
    if rule.check == "region":
        return pl.when(raw.str.contains(r"^[0-9]{6}$")).then(raw)
    return None


@dataclass(frozen=True)
class _Slow:
    """How to type the rows a fast expression left null: `typed` over `__t_<code>`, after
    `text` standardizes that column (None: it holds standardized text already)."""

    typed: pl.Expr
    text: pl.Expr | None = None


def _patch(out: pl.DataFrame, slow: dict[str, _Slow]) -> pl.DataFrame:
    """Standardize and type the rows the fast expressions left null, the full way (by
    row positions: a few rows, so no pass over the whole chunk)."""
    flags = [f"__f_{code}" for code in slow]
    hits = out.select([pl.col(f).any() for f in flags]).row(0) if flags else ()
    patched = []
    for (code, how), flag, hit in zip(slow.items(), flags, hits, strict=True):
        if not hit:
            continue
        where = out.get_column(flag).arg_true()
        needed = out.get_column(f"__t_{code}").gather(where).to_frame()
        if how.text is not None:
            needed = needed.with_columns(how.text.alias(f"__t_{code}"))
            column = out.get_column(f"__t_{code}").clone()
            patched.append(column.scatter(where, needed.get_column(f"__t_{code}")))
        values = needed.select(how.typed.alias("v")).to_series()
        column = out.get_column(f"__v_{code}").clone()
        patched.append(column.scatter(where, values.cast(column.dtype)))
    return out.with_columns(patched) if patched else out  # the flags are left: unused


def typed_column(
    chunk: pl.DataFrame, item: ItemInfo, rule: ItemRule, *, city: str, zone: str
) -> pl.Series:
    """One delivered column standardized and typed as `check_chunk` types it (the fast
    expression where it takes the value, the full standardization for the other rows)."""
    raw = pl.col(item.code)
    fast = _fast_typed(item, raw, rule)
    keep_width = item.kind is ds.ColumnKind.text
    if fast is None:
        return chunk.select(
            _typed(item, std.text(item.code, keep_width=keep_width), rule, zone, city)
        ).to_series()
    t, v = f"__t_{item.code}", f"__v_{item.code}"
    out = chunk.select(
        raw.alias(t), fast.alias(v), (raw.is_not_null() & fast.is_null()).alias(f"__f_{item.code}")
    )
    slow = _Slow(_typed(item, pl.col(t), rule, zone, city), std.text(t, keep_width=keep_width))
    return _patch(out, {item.code: slow}).get_column(v).alias(item.code)


def _lanes(chunk: pl.DataFrame, target: Target) -> list[canonical.Lane] | None:
    """The fast test of each delivered item, or None when some row could need more than
    its own columns' tests (deletions, addresses filling a region, a required item not
    delivered) or some item has none: then every row goes the full way."""
    if OP in chunk.columns:
        return None
    lanes = []
    for item in target.items:
        rule = target.rule(item.code)
        if item.code not in chunk.columns:
            if rule.required:
                return None
            continue
        lane = canonical.lane_of(item, rule)
        if lane is None:
            return None
        lanes.append(lane)
    return lanes


def check_chunk(chunk: pl.DataFrame, target: Target, *, city: str, zone: str) -> Checked:
    """Standardize, type and check one chunk; split it into upserts, deletes and rejects.

    Rows the fast lane proves canonical and valid (`canonical.accepted`, about one pass
    per column) are stored as delivered; only the others are standardized, typed and
    checked the full way (`_check_full`), which also gives them their reasons."""
    lanes = _lanes(chunk, target)
    if lanes is None or not chunk.height:
        return _check_full(chunk, target, city=city, zone=zone)
    fast = canonical.accepted(chunk, lanes, date.today())
    codes = [lane.code for lane in lanes]
    values = [fast.values[c].alias(c) if c in fast.values else pl.col(c) for c in codes]
    typed = chunk.select(ROW, *values)
    keys = [k for k in target.keys if k in codes]
    present = {c: chunk.height - chunk.get_column(c).null_count() for c in codes}
    if not fast.failed:  # every row taken
        rejected = chunk.clear().select(ROW, pl.lit(None, pl.String).alias(REASONS), *codes)
        stats = {c: ItemStats(present[c], 0) for c in codes}
        return Checked(typed, typed.clear().select(ROW, *keys), rejected, chunk.height, stats)
    taken = pl.Series(fast.mask)
    good, rest = typed.filter(taken), chunk.filter(~taken)
    # a row the lane leaves fails only the tests of `fast.failed`: the others' values stand
    slow = _check_full(
        rest.select(ROW, *fast.failed), target, city=city, zone=zone, only=set(fast.failed)
    )
    others = [c for c in codes if c not in fast.failed]
    left = typed.filter(~taken).select(ROW, *others)
    upserts = slow.upserts.join(left, on=ROW, how="left", maintain_order="left")
    delivered = rest.select(ROW, *others)
    rejected = slow.rejected.join(delivered, on=ROW, how="left", maintain_order="left")
    stats = {
        c: ItemStats(present[c], 0) if c in others else ItemStats(
            present[c] - (rest.height - rest.get_column(c).null_count()) + slow.stats[c].present,
            slow.stats[c].invalid,
        )
        for c in codes
    }  # fmt: skip
    if upserts.height:  # a row the full way accepts (a value to standardize)
        good = good.merge_sorted(upserts.select(ROW, *codes), key=ROW)
    return Checked(
        good,
        typed.clear().select(ROW, *keys),
        rejected.select(ROW, REASONS, *codes),
        chunk.height,
        stats,
    )


def _check_full(
    chunk: pl.DataFrame,
    target: Target,
    *,
    city: str,
    zone: str,
    only: set[str] | None = None,
) -> Checked:
    """Standardize, type and check every row the full way (of the items in `only`)."""
    items = [i for i in target.items if only is None or i.code in only]
    delivered = [i for i in items if i.code in chunk.columns]
    codes = [i.code for i in delivered]
    filled = {
        target.rule(i.code).region_item for i in items if target.rule(i.code).check == "address"
    }
    # columns with a fast path are standardized only where it does not take the value
    at_once = {
        i.code
        for i in delivered
        if i.code not in filled and _fast_typed(i, pl.col(i.code), target.rule(i.code)) is not None
    }
    # the others: trimming and folding only for columns that have anything to change
    dirty = _dirty(chunk, [i for i in delivered if i.code not in at_once])
    frame = chunk.lazy().with_columns(
        [
            (
                std.text(i.code, keep_width=i.kind is ds.ColumnKind.text)
                if i.code in dirty
                else pl.col(i.code)
            ).alias(f"__t_{i.code}")
            for i in delivered
        ]
    )
    raw_of = {c: pl.col(f"__t_{c}") for c in codes}
    # addresses fill their region item where it was left empty
    for item in delivered:
        rule = target.rule(item.code)
        if rule.check == "address" and rule.region_item:
            found = std.address_region(raw_of[item.code], city)
            region_raw = raw_of.get(rule.region_item, pl.lit(None, dtype=pl.String))
            frame = frame.with_columns(
                pl.coalesce([region_raw, found]).alias(f"__t_{rule.region_item}")
            )
            raw_of[rule.region_item] = pl.col(f"__t_{rule.region_item}")
    typed: list[pl.Expr] = []
    slow: dict[str, _Slow] = {}
    for item in items:
        if item.code not in raw_of:
            continue
        raw, rule = raw_of[item.code], target.rule(item.code)
        full = _typed(item, raw, rule, zone, city)
        fast = _fast_typed(item, raw, rule)
        if fast is None:
            typed.append(full.alias(f"__v_{item.code}"))
            continue
        text = None
        if item.code in at_once:
            text = std.text(f"__t_{item.code}", keep_width=item.kind is ds.ColumnKind.text)
        slow[item.code] = _Slow(full, text)
        typed += [
            fast.alias(f"__v_{item.code}"),
            (raw.is_not_null() & fast.is_null()).alias(f"__f_{item.code}"),
        ]
    frame = _patch(frame.with_columns(typed).collect(), slow).lazy()
    value_of = {code: pl.col(f"__v_{code}") for code in raw_of}
    is_delete = pl.lit(False)
    failures: list[tuple[str, pl.Expr, pl.Expr]] = []
    if OP in chunk.columns:
        op = pl.col(OP).str.strip_chars().str.to_lowercase().fill_null("")
        is_delete = op.is_in(DELETE_OPS)
        message = pl.format("_op: '{}' is neither upsert nor delete", pl.col(OP))
        failures.append((OP, ~op.is_in(DELETE_OPS + UPSERT_OPS), message))
    for item in items:
        raw = raw_of.get(item.code, pl.lit(None, dtype=pl.String))
        value = value_of.get(item.code, pl.lit(None, dtype=ds.polars_dtype(item.kind)))
        for mask, message in _failures(item, target.rule(item.code), raw, value):
            if item.code not in target.keys:  # a deletion needs its key only
                mask = mask & ~is_delete
            failures.append((item.code, mask, message))
    masks = [mask.alias(f"__m{n}") for n, (_, mask, _) in enumerate(failures)]
    out = frame.with_columns(*masks, is_delete.alias("__delete")).collect()
    flags = [pl.col(f"__m{n}") for n in range(len(failures))]
    bad = pl.any_horizontal(flags) if flags else pl.lit(False)
    out = out.with_columns(bad.alias("__bad"))
    stat_exprs: list[pl.Expr] = []
    for code in codes:
        mine = [pl.col(f"__m{n}") for n, (c, _, _) in enumerate(failures) if c == code]
        stat_exprs.append(raw_of[code].is_not_null().sum().alias(f"p:{code}"))
        stat_exprs.append(pl.any_horizontal(mine or [pl.lit(False)]).sum().alias(f"i:{code}"))
    stats_row = out.select(stat_exprs).row(0) if stat_exprs else ()
    stats = {
        code: ItemStats(int(stats_row[2 * n]), int(stats_row[2 * n + 1]))
        for n, code in enumerate(codes)
    }
    value_cols = [pl.col(f"__v_{code}").alias(code) for code in value_of]
    key_cols = [k for k in target.keys if k in value_of]
    good = out.select(ROW, "__delete", "__bad", *value_cols).filter(~pl.col("__bad"))
    if OP in chunk.columns:
        upserts = good.filter(~pl.col("__delete")).drop("__delete", "__bad")
        deletes = good.filter(pl.col("__delete")).select(ROW, *key_cols)
    else:  # no deletions: one pass less over the chunk
        upserts = good.drop("__delete", "__bad")
        deletes = good.clear().select(ROW, *key_cols)
    failed = out.filter(pl.col("__bad"))
    reasons = [pl.when(pl.col(f"__m{n}")).then(msg) for n, (_, _, msg) in enumerate(failures)]
    rejected = failed.select(
        pl.col(ROW),
        pl.concat_str(reasons, separator="; ", ignore_nulls=True).alias(REASONS),
        *[pl.col(c) for c in codes],
    )
    return Checked(upserts, deletes, rejected, chunk.height, stats)
