"""Applying a prepared batch: read chunk by chunk, check, merge the accepted rows,
quarantine the rejected ones, record the changes, all in ONE transaction, so the
libraries hold the batch entirely or not at all.

Duplicate keys inside a batch are found without holding the batch's keys: a first pass
reads the key columns only and spills one 64-bit hash per row to disk; the rows whose hash
repeats are held back in the second pass and judged at the end (same key → every
occurrence is rejected; a mere hash collision → merged after all).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl
from sqlalchemy.orm import Session

from cityhub.core.db import utcnow
from cityhub.core.prefetch import prefetch
from cityhub.directory.models import Organization
from cityhub.exchange import bulk, changes, checks, readers
from cityhub.exchange.checks import ROW, Checked, ItemStats
from cityhub.exchange.merging import (
    Landing,
    Merged,
    begin_first_load,
    canonical_keys,
    end_first_load,
    finish_first_load,
    finish_full,
    key_normalizer,
    merge,
    to_columns,
)
from cityhub.exchange.models import QuarantineRow
from cityhub.exchange.prepare import Prepared
from cityhub.exchange.vocab import Mode, QuarantineStatus
from cityhub.library import datastore as ds

Progress = Callable[[int], None]
_HASH = "__key_hash"
_SPILL_BITS = 6  # the duplicate-key pass spills its hashes to 2**6 files


@dataclass
class Totals:
    rows_in: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    items: dict[str, ItemStats] = field(default_factory=dict)

    def add_stats(self, stats: dict[str, ItemStats]) -> None:
        for code, one in stats.items():
            mine = self.items.setdefault(code, ItemStats())
            mine.present += one.present
            mine.invalid += one.invalid

    def add_merge(self, merged: Merged) -> None:
        self.inserted += merged.inserted
        self.updated += merged.updated
        self.unchanged += merged.unchanged
        self.deleted += merged.deleted


@dataclass(frozen=True)
class Context:
    city: str
    zone: str
    chunk_rows: int


def _key_hash(frame: pl.DataFrame, keys: tuple[str, ...]) -> pl.Series:
    return frame.select(pl.struct([pl.col(k) for k in keys]).hash().alias(_HASH)).to_series()


def _mapped(chunk: pl.DataFrame, rename: dict[str, str]) -> pl.DataFrame:
    keep = [readers.ROW, *rename, *([checks.OP] if checks.OP in chunk.columns else [])]
    return chunk.select([c for c in keep if c in chunk.columns]).rename(
        {readers.ROW: ROW, **rename}
    )


def _source_chunks(prep: Prepared, ctx: Context) -> Iterator[pl.DataFrame]:
    for chunk in readers.chunks(prep.source, ctx.chunk_rows):
        yield _mapped(chunk, prep.rename)
    if prep.deletions is not None and prep.deletion_rename is not None:
        for chunk in readers.chunks(prep.deletions, ctx.chunk_rows):
            mapped = _mapped(chunk, prep.deletion_rename)
            # deleted keys continue the row numbers after the main file's rows
            yield mapped.with_columns(
                pl.lit("delete").alias(checks.OP), (pl.col(ROW) + 10**9).alias(ROW)
            )


def duplicate_hashes(prep: Prepared, ctx: Context) -> pl.Series:
    """Pass 1: hashes of keys that occur more than once in the batch (usually none)."""
    keys = prep.target.keys
    if not keys:
        return pl.Series(_HASH, [], dtype=pl.UInt64)
    # Memory bounded by the chunk, not the batch: each chunk's hashes go to spill files by
    # their top bits, then each file (1/64 of the batch: 1.4 MB at 11 M rows) is sorted
    # alone, where a repeat sits next to its twin.
    edges = np.arange(1, 1 << _SPILL_BITS, dtype=np.uint64) << np.uint64(64 - _SPILL_BITS)
    repeated: list[npt.NDArray[np.uint64]] = []
    with tempfile.TemporaryDirectory(prefix="cityhub-keys-") as tmp:
        paths = [Path(tmp) / f"{b:02d}.u64" for b in range(len(edges) + 1)]
        with ExitStack() as stack:
            files = [stack.enter_context(path.open("wb")) for path in paths]
            for chunk in _source_chunks(prep, ctx):
                typed = _typed_keys(chunk, prep, ctx)
                mask = typed.select(_all_keys(keys)).to_series()
                hashes = np.sort(_key_hash(typed, keys).filter(mask).to_numpy())
                for out, part in zip(
                    files, np.split(hashes, np.searchsorted(hashes, edges)), strict=True
                ):
                    if part.size:
                        part.tofile(out)
        for path in paths:
            values = np.sort(np.fromfile(path, dtype=np.uint64))
            same = values[1:][values[1:] == values[:-1]]
            if same.size:
                repeated.append(np.unique(same))
    found = np.concatenate(repeated) if repeated else np.zeros(0, dtype=np.uint64)
    return pl.Series(_HASH, found, dtype=pl.UInt64)


def _all_keys(keys: tuple[str, ...]) -> pl.Expr:
    return pl.all_horizontal([pl.col(k).is_not_null() for k in keys])


def _typed_keys(chunk: pl.DataFrame, prep: Prepared, ctx: Context) -> pl.DataFrame:
    columns = []
    for code in prep.target.keys:
        item = next(i for i in prep.target.items if i.code == code)
        if code in chunk.columns:
            rule = prep.target.rule(code)
            columns.append(checks.typed_column(chunk, item, rule, city=ctx.city, zone=ctx.zone))
        else:
            dtype = ds.polars_dtype(item.kind)
            columns.append(pl.Series(code, [None] * chunk.height, dtype=dtype))
    return pl.DataFrame(columns)


class Applier:
    """Pass 2, inside the caller's transaction."""

    def __init__(
        self,
        session: Session,
        prep: Prepared,
        ctx: Context,
        dup_hashes: pl.Series,
        progress: Progress | None = None,
    ) -> None:
        self.session = session
        self.prep = prep
        self.ctx = ctx
        self.dups = dup_hashes
        self.progress = progress
        self.totals = Totals()
        self.held: list[tuple[pl.DataFrame, pl.DataFrame]] = []  # (checked rows, original)
        self.now: datetime = utcnow()
        self.landing: Landing = prep.landing
        # batches of one resource apply one after another; changes are numbered in order
        self.state = changes.lock_state(session, prep.landing.stored_code)
        session.info[changes.BATCH_KEY] = prep.batch.id
        self.normalize = key_normalizer(prep.landing)
        org = session.get(Organization, prep.batch.provider_id)
        self.provider_code = org.code if org is not None else ""
        self.mode = prep.batch.mode
        self.first_load = False

    # -- one chunk --------------------------------------------------------------------------

    def _checked(self) -> Iterator[tuple[pl.DataFrame, Checked]]:
        for chunk in _source_chunks(self.prep, self.ctx):
            yield chunk, self._check(chunk)

    def _check(self, chunk: pl.DataFrame) -> Checked:
        return checks.check_chunk(chunk, self.prep.target, city=self.ctx.city, zone=self.ctx.zone)

    def run(self) -> Totals:
        # into an empty library table: no lookups, its indexes built once at the end
        self.first_load = bool(self.prep.target.keys) and begin_first_load(
            self.session, landing=self.landing, batch_id=self.prep.batch.id
        )
        # the next chunk is read and checked while this one is merged (no database there)
        for chunk, checked in prefetch(self._checked()):
            self.chunk(chunk, checked)
            if self.progress is not None:
                self.progress(chunk.height)
        self._release_held()
        if self.first_load:
            finish_first_load(self.session, landing=self.landing)
        if self.mode is Mode.full:
            finished = finish_full(
                self.session,
                landing=self.landing,
                provider_code=self.provider_code,
                batch_id=self.prep.batch.id,
            )
            self.totals.add_merge(finished)
        if self.first_load:
            end_first_load(self.session, landing=self.landing)
        self.state.last_batch_id = self.prep.batch.id
        self.state.last_completed_at = self.now
        return self.totals

    def chunk(self, chunk: pl.DataFrame, checked: Checked | None = None) -> None:
        checked = checked if checked is not None else self._check(chunk)
        self.totals.rows_in += checked.rows
        self.totals.add_stats(checked.stats)
        upserts, deletes = self._valid_keys(chunk, checked.upserts, checked.deletes)
        if self.dups.len() and self.prep.target.keys:
            upserts, deletes = self._hold(chunk, upserts, deletes)
        # merged first: a first load prepares this chunk while the last one is still being
        # copied (the quarantine's write would wait for that copy)
        self._merge(upserts, deletes)
        self._quarantine(checked.rejected)

    def _valid_keys(
        self, chunk: pl.DataFrame, upserts: pl.DataFrame, deletes: pl.DataFrame
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Keys the library would refuse (its own normalization) go to quarantine."""
        keys = self.prep.target.keys
        if self.normalize is None or len(keys) != 1:
            return upserts, deletes
        key = keys[0]
        out = []
        for frame in (upserts, deletes):
            if frame.height == 0:
                out.append(frame)
                continue
            normalized = self.normalize(frame.get_column(key))
            bad = normalized.is_null()
            if bool(bad.any()):
                rows = frame.filter(bad).get_column(ROW)
                original = chunk.filter(pl.col(ROW).is_in(rows.implode()))
                reason = pl.lit(f"{key}: not a valid key for this library")
                cols = [c for c in original.columns if c not in (ROW, checks.OP)]
                self._quarantine(original.select(ROW, reason.alias(checks.REASONS), *cols))
            out.append(frame.filter(~bad).with_columns(normalized.filter(~bad).alias(key)))
        return out[0], out[1]

    def _hold(
        self, chunk: pl.DataFrame, upserts: pl.DataFrame, deletes: pl.DataFrame
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        keys = self.prep.target.keys
        out = []
        for frame, op in ((upserts, "upsert"), (deletes, "delete")):
            if frame.height == 0:
                out.append(frame)
                continue
            flagged = _key_hash(frame, keys).is_in(self.dups.implode())
            held = frame.filter(flagged)
            if held.height:
                rows = held.get_column(ROW)
                original = chunk.filter(pl.col(ROW).is_in(rows.implode()))
                self.held.append((held.with_columns(pl.lit(op).alias("__op")), original))
            out.append(frame.filter(~flagged))
        return out[0], out[1]

    def _release_held(self) -> None:
        """Every occurrence of a repeated key is rejected; hash collisions are merged."""
        if not self.held:
            return
        keys = self.prep.target.keys
        rows = pl.concat([h for h, _ in self.held], how="diagonal_relaxed")
        originals = pl.concat([o for _, o in self.held], how="diagonal_relaxed")
        key_text = canonical_keys(rows, keys)
        rows = rows.with_columns(key_text.alias("__key"))
        counted = rows.with_columns(
            pl.len().over("__key").alias("__n"),
            pl.col(ROW).cast(pl.String).str.join(", ").over("__key").alias("__rows"),
        )
        repeated = counted.filter(pl.col("__n") > 1)
        if repeated.height:
            label = "+".join(keys)
            reasons = repeated.select(
                pl.col(ROW),
                pl.format(
                    "{}: key {} appears {} times in this batch (rows {})",
                    pl.lit(label),
                    pl.col("__key"),
                    pl.col("__n"),
                    pl.col("__rows"),
                ).alias(checks.REASONS),
            )
            original = originals.join(reasons, on=ROW, how="inner")
            item_cols = [c for c in original.columns if c not in (ROW, checks.REASONS, checks.OP)]
            self._quarantine(original.select(ROW, checks.REASONS, *item_cols))
            self.totals.duplicates += repeated.height
        single = counted.filter(pl.col("__n") == 1)
        drop = ["__key", "__n", "__rows", "__op"]
        self._merge(
            single.filter(pl.col("__op") == "upsert").drop(drop, strict=False),
            single.filter(pl.col("__op") == "delete").select(ROW, *keys),
        )

    # -- writing ----------------------------------------------------------------------------

    def _merge(self, upserts: pl.DataFrame, deletes: pl.DataFrame) -> None:
        if upserts.height == 0 and deletes.height == 0:
            return
        info = self.prep.info
        keys = self.prep.target.keys
        frame = to_columns(upserts.drop(ROW), info)
        deleted_keys = canonical_keys(deletes, keys) if deletes.height and keys else None
        merged = merge(
            self.session,
            landing=self.landing,
            provider_code=self.provider_code,
            batch_id=self.prep.batch.id,
            frame=frame,
            mode=self.mode.value,
            deleted_keys=deleted_keys,
        )
        self.totals.accepted += upserts.height + deletes.height
        self.totals.add_merge(merged)

    def _quarantine(self, rejected: pl.DataFrame) -> None:
        if rejected.height == 0:
            return
        values = [c for c in rejected.columns if c not in (ROW, checks.REASONS)]
        data = pl.struct(values).struct.json_encode() if values else pl.lit("{}", dtype=pl.String)
        frame = rejected.select(
            pl.lit(self.prep.batch.id, dtype=pl.Int64).alias("batch_id"),
            pl.col(ROW).cast(pl.Int64).alias("row_number"),
            pl.col(checks.REASONS).alias("reasons"),
            data.alias("data"),
            pl.lit(QuarantineStatus.open.value).alias("status"),
        )
        bulk.insert(self.session.connection(), QuarantineRow.__tablename__, frame)
        self.totals.rejected += rejected.height


def decoded(row: QuarantineRow) -> dict[str, object]:
    value = json.loads(row.data)
    return value if isinstance(value, dict) else {}


__all__ = ["Applier", "Checked", "Context", "Totals", "duplicate_hashes"]
