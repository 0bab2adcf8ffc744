"""Row fingerprints: a stable 64-bit hash of a row's values, vectorized with numpy.

A row is rendered canonically (values in declared column order, typed canonical text,
nulls distinct from empty strings) and its Unicode code points are hashed two at a time by
a multiply-xorshift mix and a murmur3 finalizer (in C, `_rowhash`, when it was built at
install time; in NumPy otherwise: the same function, tested equal). The function is
defined here, not borrowed from Polars (whose hashes may change between versions), so
fingerprints stored today still match tomorrow. They tell unchanged rows from changed ones
and add up to a library's content digest (`digest`); they are not a defence against a
deliberate forger (that is the SM3 ledger's job on the aggregate).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import polars as pl

from cityhub.library import datastore as ds

try:
    from cityhub.library import _rowhash
except ImportError:  # not built (no C compiler at install time): NumPy below
    _rowhash = None  # type: ignore[assignment]

NULL = "\x1e"  # stands for a null value; never part of real data after standardization
SEPARATOR = "\x1f"
_CELLS = 4_000_000  # code points per working block: bounds memory whatever the row width
_SEED = np.uint64(0x9E3779B97F4A7C15)
_K1 = np.uint64(0xFF51AFD7ED558CCD)
_K2 = np.uint64(0xC4CEB9FE1A85EC53)
_MIX = np.uint64(0x2545F4914F6CDD1D)


def canonical_expr(col: ds.ColumnSpec) -> pl.Expr:
    """The canonical text of one column's values (storage dtype expected)."""
    c = pl.col(col.name)
    match col.kind:
        case ds.ColumnKind.decimal:
            text = c.cast(pl.Float64).round(col.scale).cast(pl.String)
        case ds.ColumnKind.date:
            text = c.dt.strftime("%Y-%m-%d")
        case ds.ColumnKind.datetime:
            text = c.dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S%.6f")
        case ds.ColumnKind.boolean:
            text = c.cast(pl.Int8).cast(pl.String)
        case _:
            text = c.cast(pl.String)
    return text.fill_null(NULL)


def row_text(frame: pl.DataFrame, columns: Sequence[ds.ColumnSpec]) -> pl.Series:
    """Each row's canonical text (the input of `fingerprints`)."""
    if not columns:
        return pl.Series("row", [""] * frame.height, dtype=pl.String)
    exprs = [canonical_expr(c) for c in columns]
    return frame.select(pl.concat_str(exprs, separator=SEPARATOR).alias("row")).to_series()


def _hash_block(
    points: npt.NDArray[np.uint32], lengths: npt.NDArray[np.int64], *, native: bool = True
) -> npt.NDArray[np.uint64]:
    n, width = points.shape
    if native and _rowhash is not None:
        packed = _rowhash.hash_block(np.ascontiguousarray(points), width, lengths.astype(np.int64))
        return np.frombuffer(packed, dtype=np.uint64).copy()
    if width % 2:
        points = np.hstack([points, np.zeros((n, 1), dtype=np.uint32)])
        width += 1
    words = points.astype(np.uint64)
    words = words[:, 0::2] | (words[:, 1::2] << np.uint64(32))
    n_words = (lengths + 1) // 2
    h = _SEED ^ (lengths.astype(np.uint64) * _K1)
    for k in range(words.shape[1]):
        mixed = (h ^ words[:, k]) * _MIX
        mixed ^= mixed >> np.uint64(29)
        h = np.where(k < n_words, mixed, h)
    h ^= h >> np.uint64(33)
    h *= _K1
    h ^= h >> np.uint64(33)
    h *= _K2
    h ^= h >> np.uint64(33)
    return h


def hash_strings(values: pl.Series, *, native: bool = True) -> npt.NDArray[np.uint64]:
    """The 64-bit fingerprint of each string (no nulls expected). `native=False`: through
    fixed-width code points (as without the Arrow interface), not in place."""
    n = values.len()
    out = np.zeros(n, dtype=np.uint64)
    if n == 0:
        return out
    if native and _rowhash is not None and hasattr(values, "__arrow_c_stream__"):
        # read in place as UTF-8 through the Arrow C interface
        packed = b"".join(_rowhash.hash_arrow(values.__arrow_c_stream__()))
        return np.frombuffer(packed, dtype=np.uint64).copy()
    lengths = values.str.len_chars().to_numpy().astype(np.int64)
    order = np.argsort(lengths, kind="stable")  # similar lengths share a block
    sorted_values = values.gather(pl.Series(order))
    sorted_lengths = lengths[order]
    start = 0
    while start < n:
        # As many rows as fit in _CELLS code points at the block's widest row.
        end = start + 1
        step = max(1, _CELLS // max(1, int(sorted_lengths[min(n, start + 4096) - 1])))
        end = min(n, start + step)
        while end - start > 1 and (end - start) * int(sorted_lengths[end - 1]) > _CELLS:
            end = start + max(1, (end - start) // 2)
        block = sorted_values.slice(start, end - start).to_numpy().astype(np.str_)
        width = max(1, block.dtype.itemsize // 4)
        points = np.ascontiguousarray(block).view(np.uint32).reshape(end - start, width)
        out[order[start:end]] = _hash_block(points, sorted_lengths[start:end])
        start = end
    return out


def fingerprints(frame: pl.DataFrame, columns: Sequence[ds.ColumnSpec]) -> pl.Series:
    """Signed 64-bit fingerprints (storable in BIGINT) of each row of `frame`."""
    hashed = hash_strings(row_text(frame, columns))
    return pl.Series("_hash", hashed.view(np.int64), dtype=pl.Int64)


def aggregate(hashes: pl.Series) -> tuple[int, int, int]:
    """(rows, sum mod 2^64, xor) of signed fingerprints: the digest of a set of rows."""
    values = hashes.drop_nulls().to_numpy().astype(np.int64).view(np.uint64)
    if values.size == 0:
        return 0, 0, 0
    return (
        int(values.size),
        int(values.sum(dtype=np.uint64)),
        int(np.bitwise_xor.reduce(values)),
    )
