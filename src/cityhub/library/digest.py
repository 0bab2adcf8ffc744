"""Content digests of keyed tables, kept incrementally and notarized by the ledger.

Each partition (a county, or `all`) keeps its row count and the sum and XOR, mod 2^64,
of its rows' fingerprints. A merge subtracts the fingerprints of the rows it replaced or
removed and adds those it wrote, so the digest never needs a scan. The resource's digest
is SM3 over a canonical text of its partitions in code order:

    <resource code>\\n
    <part>:<rows>:<sum as 16 hex>:<xor as 16 hex>\\n   (one line per partition)

After each merge the digest goes to the outbox as `library.snapshot.taken`; the ledger
notarizes it. `recompute` scans the table, recomputes every fingerprint from the values
and reports rows whose stored fingerprint no longer matches: changed outside the platform.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from cityhub.core.events import emit
from cityhub.library import datastore as ds
from cityhub.library.fingerprint import fingerprints
from cityhub.library.golden import HASH, REGION, Layout, iterate, key_expr
from cityhub.library.models import LibraryDigestPart

ALGORITHM = "sm3"
ALL = "all"
TOPIC = "library.snapshot.taken"
_MASK = (1 << 64) - 1


@dataclass
class PartState:
    rows: int = 0
    fp_sum: int = 0
    fp_xor: int = 0

    def line(self, part: str) -> str:
        return f"{part}:{self.rows}:{self.fp_sum:016x}:{self.fp_xor:016x}\n"


def digest_of(resource_code: str, parts: dict[str, PartState]) -> str:
    text = resource_code + "\n" + "".join(parts[p].line(p) for p in sorted(parts) if parts[p].rows)
    return hashlib.new(ALGORITHM, text.encode()).hexdigest()


def _by_part(frame: pl.DataFrame) -> dict[str, tuple[int, int, int]]:
    """(rows, sum, xor) of the `_hash` column per `part`."""
    out: dict[str, tuple[int, int, int]] = {}
    if frame.height == 0:
        return out
    for (part,), group in frame.group_by(["part"]):
        values = group.get_column(HASH).drop_nulls().to_numpy().astype(np.int64).view(np.uint64)
        out[str(part)] = (
            int(values.size),
            int(values.sum(dtype=np.uint64)) if values.size else 0,
            int(np.bitwise_xor.reduce(values)) if values.size else 0,
        )
    return out


def part_frame(layout: Layout, frame: pl.DataFrame) -> pl.DataFrame:
    """`part` and `_hash` of rows (their partition, or `all`)."""
    part = pl.col(REGION) if layout.partitioned else pl.lit(ALL)
    return frame.select(part.cast(pl.String).alias("part"), pl.col(HASH))


def load(session: Session, resource_code: str, *, lock: bool = False) -> dict[str, PartState]:
    stmt = select(LibraryDigestPart).where(LibraryDigestPart.resource_code == resource_code)
    if lock:
        stmt = stmt.with_for_update()
    return {
        row.part: PartState(row.rows, int(row.fp_sum, 16), int(row.fp_xor, 16))
        for row in session.scalars(stmt)
    }


def apply(
    session: Session, resource_code: str, removed: pl.DataFrame, added: pl.DataFrame
) -> dict[str, PartState]:
    """Subtract `removed` and add `added` (frames of `part`, `_hash`); store and return."""
    rows = {
        r.part: r
        for r in session.scalars(
            select(LibraryDigestPart).where(LibraryDigestPart.resource_code == resource_code)
        )
    }
    gone, new = _by_part(removed), _by_part(added)
    for part in set(gone) | set(new):
        row = rows.get(part)
        if row is None:
            row = LibraryDigestPart(
                resource_code=resource_code, part=part, rows=0, fp_sum="0" * 16, fp_xor="0" * 16
            )
            session.add(row)
            rows[part] = row
        g_rows, g_sum, g_xor = gone.get(part, (0, 0, 0))
        n_rows, n_sum, n_xor = new.get(part, (0, 0, 0))
        row.rows = (row.rows or 0) - g_rows + n_rows
        row.fp_sum = f"{(int(row.fp_sum, 16) - g_sum + n_sum) & _MASK:016x}"
        row.fp_xor = f"{int(row.fp_xor, 16) ^ g_xor ^ n_xor:016x}"
    session.flush()
    return {p: PartState(r.rows, int(r.fp_sum, 16), int(r.fp_xor, 16)) for p, r in rows.items()}


def snapshot(
    session: Session,
    resource_code: str,
    parts: dict[str, PartState],
    *,
    library: str,
    batch_id: int | None,
    provider: str,
    actor: str = "",
) -> str:
    """Emit the digest of the resource's current content for the ledger; return it."""
    value = digest_of(resource_code, parts)
    emit(
        session,
        TOPIC,
        {
            "resource": resource_code,
            "library": library,
            "digest": value,
            "algorithm": ALGORITHM,
            "rows": sum(p.rows for p in parts.values()),
            "batch": batch_id,
            "provider": provider,
        },
        actor=actor,
    )
    return value


@dataclass
class Recount:
    """What a scan of the table finds: its true digest and the rows edited behind our back."""

    parts: dict[str, PartState] = field(default_factory=dict)
    tampered: list[str] = field(default_factory=list)  # keys whose values lost their hash
    tampered_count: int = 0

    def digest(self, resource_code: str) -> str:
        return digest_of(resource_code, self.parts)


def recompute(conn: Connection, layout: Layout, *, max_keys: int = 100) -> Recount:
    """Scan every row, recompute fingerprints from values, compare with the stored ones."""
    names = [ds.ROW_ID, *(c.name for c in layout.spec.columns), HASH]
    if layout.partitioned:
        names.append(REGION)
    if layout.composite:
        names.append("_key")
    out = Recount()
    for frame in _chunks(conn, layout, names):
        fresh = fingerprints(frame, layout.hashed_columns)
        bad = frame.filter(fresh.ne_missing(frame.get_column(HASH)))
        if bad.height:
            out.tampered_count += bad.height
            keys = bad.select(key_expr(layout) if not layout.composite else pl.col("_key"))
            room = max_keys - len(out.tampered)
            out.tampered += [str(k) for k in keys.to_series().head(max(0, room)).to_list()]
        recounted = part_frame(layout, frame.with_columns(fresh.alias(HASH)))
        for part, (rows, s, x) in _by_part(recounted).items():
            state = out.parts.setdefault(part, PartState())
            state.rows += rows
            state.fp_sum = (state.fp_sum + s) & _MASK
            state.fp_xor ^= x
    return out


def _chunks(conn: Connection, layout: Layout, names: list[str]) -> Iterator[pl.DataFrame]:
    yield from iterate(conn, layout, names)
