"""Throughput of the standards validators: vectorized (Polars) against a per-row Python loop.

    python benchmarks/bench_standards.py [--rows N] [--scalar-rows M] [--seed S]

Generates N citizen ID numbers and N unified social credit codes (about 70% valid, the rest
with a wrong check character, an impossible date or field, or a wrong length), times
``is_valid_expr`` over all N and the scalar ``is_valid`` over an M-row sample of the same data,
checks that both agree on that sample, and prints values per second for each.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import date

import numpy as np
import polars as pl

from cityhub.standards import credit_code, id_number, regions

ALPHABET = np.frombuffer(credit_code.ALPHABET.encode(), dtype=np.uint8)
BASE36 = np.array([int(c, 36) for c in credit_code.ALPHABET])  # GB 11714 value of each char
ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)


def _join(chars: np.ndarray) -> pl.Series:
    """(rows, width) array of ASCII bytes -> Series of width-char strings, no Python loop."""
    width = chars.shape[1]
    rows = np.ascontiguousarray(chars, dtype=np.uint8).view(f"S{width}").ravel()
    return pl.Series(rows).cast(pl.String)


def _spoil(values: pl.Series, rng: np.random.Generator) -> pl.Series:
    """Turn ~10% of rows into wrong-length values (the other invalid kinds are made upstream)."""
    short = rng.random(len(values)) < 0.10
    return pl.select(
        pl.when(pl.Series(short)).then(values.str.slice(0, 17)).otherwise(values)
    ).to_series()


def make_ids(n: int, rng: np.random.Generator) -> pl.Series:
    counties = np.array([int(r.code) for r in regions.all_regions() if r.level == "county"])
    region = rng.choice(counties, n).astype(np.int64)
    start = np.datetime64("1900-01-01")
    span = (np.datetime64(date.today()) - start).astype(int)
    born = start + rng.integers(0, span + 1, n).astype("timedelta64[D]")
    years = born.astype("datetime64[Y]").astype(int) + 1970
    months = born.astype("datetime64[M]").astype(int) % 12 + 1
    days = (born - born.astype("datetime64[M]")).astype(int) + 1
    bad_date = rng.random(n) < 0.10  # 30 February
    months[bad_date], days[bad_date] = 2, 30
    ymd = years * 10_000 + months * 100 + days
    first17 = region * 10**11 + ymd * 1_000 + rng.integers(0, 1000, n)
    digits = (first17[:, None] // 10 ** np.arange(16, -1, -1)) % 10
    remainder = (digits * np.array(id_number.WEIGHTS)).sum(axis=1) % 11
    wrong = rng.random(n) < 0.10
    remainder[wrong] = (remainder[wrong] + 1) % 11
    chars = np.concatenate([digits + ord("0"), ID_CHECK[remainder][:, None]], axis=1)
    return _spoil(_join(chars), rng)


def make_credit_codes(n: int, rng: np.random.Generator) -> pl.Series:
    values = np.empty((n, 18), dtype=np.int64)
    values[:, 0] = rng.choice([9, 9, 9, 9, 1, 5, 22, 30], n)  # 9, 1, 5, N, Y
    values[:, 1] = rng.integers(1, 10, n)
    region = rng.choice([int(r.code) for r in regions.all_regions()], n)
    values[:, 2:8] = (region[:, None] // 10 ** np.arange(5, -1, -1)) % 10
    values[:, 8:16] = rng.integers(0, 31, (n, 8))
    org = (BASE36[values[:, 8:16]] * np.array(credit_code.ORG_WEIGHTS)).sum(axis=1)
    org_check = (11 - org % 11) % 11
    bad_org = rng.random(n) < 0.10
    org_check[bad_org] = (org_check[bad_org] + 1) % 11
    values[:, 16] = np.where(org_check == 10, 29, org_check)  # 'X' is index 29
    total = (values[:, :17] * np.array(credit_code.WEIGHTS)).sum(axis=1)
    values[:, 17] = (31 - total % 31) % 31
    wrong = rng.random(n) < 0.10
    values[wrong, 17] = (values[wrong, 17] + 1) % 31
    return _spoil(_join(ALPHABET[values]), rng)


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench(
    label: str,
    values: pl.Series,
    expr: Callable[[pl.Expr], pl.Expr],
    scalar: Callable[[str], bool],
    sample_rows: int,
) -> None:
    frame = values.to_frame("v")
    vec_time = best_of(3, lambda: frame.select(expr(pl.col("v"))))
    valid_share = frame.select(expr(pl.col("v"))).to_series().mean()

    sample = values.head(sample_rows)
    rows = sample.to_list()
    scalar_time = best_of(1, lambda: [scalar(v) for v in rows])
    vec_sample = sample.to_frame("v").select(expr(pl.col("v"))).to_series().to_list()
    agree = vec_sample == [scalar(v) for v in rows]

    vec_rate = len(values) / vec_time
    scalar_rate = len(rows) / scalar_time
    print(
        f"{label:<12} valid {valid_share:6.1%}  "
        f"vectorized {len(values):>10,} rows {vec_time:7.3f} s {vec_rate:>14,.0f}/s  |  "
        f"scalar loop {len(rows):>8,} rows {scalar_time:7.3f} s {scalar_rate:>12,.0f}/s  "
        f"(x{vec_rate / scalar_rate:,.0f}; agree on sample: {agree})"
    )
    if not agree:
        raise SystemExit(f"{label}: vectorized and scalar results differ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=2_000_000, help="rows per validator")
    parser.add_argument("--scalar-rows", type=int, default=200_000, help="scalar sample size")
    parser.add_argument("--seed", type=int, default=2260)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    ids = make_ids(args.rows, rng)
    codes = make_credit_codes(args.rows, rng)
    print(
        f"polars {pl.__version__}, {pl.thread_pool_size()} threads; "
        f"generated {args.rows:,} ID numbers and {args.rows:,} credit codes "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    sample = min(args.scalar_rows, args.rows)
    bench("id_number", ids, id_number.is_valid_expr, id_number.is_valid, sample)
    bench("credit_code", codes, credit_code.is_valid_expr, credit_code.is_valid, sample)


if __name__ == "__main__":
    main()
