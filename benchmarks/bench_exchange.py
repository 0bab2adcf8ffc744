"""The delivery pipeline on population data: validate, standardize and merge N residents
from CSV into the population library; rows/s and peak memory (RSS). Side by side, in the
same run, on the same 1,000,000-row file and the same rules: `frictionless validate` and
pandera (Polars backend).

    python benchmarks/bench_exchange.py [--rows 1000000] [--chunk-rows 200000]
        [--peer-rows 1000000] [--no-peers] [--only-checks]
        [--database-url postgresql+psycopg://127.0.0.1:5432/test]

The file is 公安's household registration of N generated Linyi residents
(`library.generate`, seeded; ~3% bad rows: wrong check digits, impossible dates, unknown
regions). The exchange delivers it exactly as an upload would (`service.receive`:
streamed to disk with its SM3 digest; `pipeline.run`: read in chunks, standardize, check,
quarantine, merge into the population base library with entity resolution, record
changes, quality report; one transaction).

The rules, the same for the three: ID number (GB 11643 shape, birth date and check
digit), name required and at most 32 characters, sex in {1, 2}, birth date a date,
registered region a county of Linyi (GB/T 2260), address at most 128 characters, phone a
mobile number, and the ID number unique. `cityhub (checks only)` is the pipeline's
validation and standardization alone (UTF-8 check of the file included; the next chunk is
read while one is checked, as in the pipeline), the part the peers do; `cityhub (full)`
merges too. cityhub checks more than the peers on the same columns (dates in local
spellings, phone and region spellings standardized, full-width text folded), never less.

Peak RSS is sampled every 20 ms per stage (it starts from what the process already holds).
"""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import text

from cityhub.core.db import make_engine, session_factory, transaction
from cityhub.core.migrations import upgrade
from cityhub.directory.models import Organization, OrgKind
from cityhub.directory.regions import seed_regions
from cityhub.exchange import canonical, checks, pipeline, readers, service
from cityhub.exchange.prepare import target_of
from cityhub.gateway import resources
from cityhub.library import register
from cityhub.library.generate import Population, departments
from cityhub.library.specs import POPULATION
from cityhub.settings import Settings
from cityhub.standards import id_number, regions

PROVIDERS = {"LYGA": "临沂市公安局", "LYMZ": "临沂市民政局", "LYRS": "临沂市人社局",
             "LYWJ": "临沂市卫健委", "LYDSJ": "临沂市大数据局"}  # fmt: skip
COUNTIES = sorted(r.code for r in regions.all_regions() if r.parent == "371300")
MOBILE = r"^1[3-9]\d{9}$"


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class PeakRss:
    def __init__(self) -> None:
        self.peak = rss_mb()
        self._stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mb())

    def reset(self) -> float:
        self.peak = rss_mb()
        return self.peak

    def stop(self) -> None:
        self._stop.set()


@dataclass
class Figure:
    name: str
    rows: int
    seconds: float
    peak_mb: float
    note: str = ""

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


# -- data ----------------------------------------------------------------------------------


def write_population(path: Path, n: int, chunk_rows: int, seed: int = 2020) -> int:
    """公安's registration of N residents as CSV, chunk by chunk; returns the bad rows."""
    bad_total = 0
    with path.open("wb") as out:
        first = True
        for index, people in enumerate(Population(n, seed, chunk_rows).chunks()):
            rng = np.random.default_rng([seed, 3, index])
            frame, bad = departments(rng, people)["ga"]
            frame.write_csv(out, include_header=first)
            first = False
            bad_total += bad
    return bad_total


@contextmanager
def scratch_database(url: str | None, tmp: Path) -> Iterator[str]:
    if not url:
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    schema = f"bench_exchange_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def prepare_platform(url: str, settings: Settings) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with transaction(session_factory(engine)) as session:
        seed_regions(session, settings)
        for code, name in PROVIDERS.items():
            session.add(
                Organization(code=code, name_zh=name, kind=OrgKind.government, region_code="371300")
            )
        session.flush()
        register.register_all(session)
    engine.dispose()


# -- the exchange ----------------------------------------------------------------------------


def run_exchange(url: str, settings: Settings, path: Path, peak: PeakRss) -> tuple[Figure, Any]:
    engine = make_engine(url)
    factory = session_factory(engine)
    with factory() as session:
        info = resources.load(session, POPULATION.resource_code)
    actor = service.Actor("bench", info.provider_id, frozenset(), system=True)
    peak.reset()
    started = time.perf_counter()
    with path.open("rb") as content:
        received = service.receive(
            factory, settings, actor, resource_code=info.code, content=content,
            filename=path.name, source="bench", mode=service.Mode.incremental,
        )  # fmt: skip
    batch = pipeline.run(factory, settings, received.batch_id)
    seconds = time.perf_counter() - started
    engine.dispose()
    if batch.error:
        raise SystemExit(f"the batch failed: {batch.error}")
    note = f"{batch.accepted:,} merged, {batch.rejected:,} quarantined"
    return Figure("cityhub exchange (full)", batch.rows_in, seconds, peak.peak, note), batch


def run_checks_only(url: str, settings: Settings, path: Path, peak: PeakRss) -> Figure:
    """Read, standardize and check in chunks, merging nothing: the peers' share of work."""
    from cityhub.core.prefetch import prefetch
    from cityhub.exchange import intake, mapping

    engine = make_engine(url)
    with session_factory(engine)() as session:
        info = resources.load(session, POPULATION.resource_code)
        target, _ = target_of(session, info)
    peak.reset()
    started = time.perf_counter()
    with path.open("rb") as head:  # the first 64 KiB, as intake keeps them (not the file)
        first = head.read(65536)
    stored = intake.StoredFile(path, path.name, path.stat().st_size, "", intake.check_file(path),
                               first)  # fmt: skip
    source = readers.open_source(stored, readers.FileFormat.csv, None)
    rename = mapping.resolve(target, list(source.columns), None, "bench")
    rows = rejected = 0
    keys: list[pl.Series] = []
    # as in the pipeline: the next chunk is read while this one is checked
    for chunk in prefetch(readers.chunks(source, settings.exchange_chunk_rows)):
        mapped = chunk.rename({readers.ROW: checks.ROW, **rename})
        result = checks.check_chunk(mapped, target, city="371300", zone="Asia/Shanghai")
        rows += result.rows
        rejected += result.rejected.height
        keys.append(result.upserts.select(pl.struct(target.keys).hash()).to_series())
    # the ID number unique, as the pipeline's duplicate-key pass finds repeats: sorted
    # 64-bit hashes of the typed keys, a repeat next to its twin
    hashes = pl.concat(keys).sort()
    repeated = int((hashes.slice(1) == hashes.slice(0, hashes.len() - 1)).sum())
    seconds = time.perf_counter() - started
    engine.dispose()
    note = f"{rejected:,} invalid, {repeated:,} repeated keys"
    return Figure("cityhub (checks only)", rows, seconds, peak.peak, note)


# -- the peers -----------------------------------------------------------------------------


def run_frictionless(path: Path, peak: PeakRss) -> Figure:
    from frictionless import Check, Checklist, Resource, Schema, errors, fields

    class IdCheckDigit(Check):  # type: ignore[misc]
        """GB 11643: the same rule as cityhub's (shape, birth date, check digit)."""

        type = "id-check-digit"
        Errors = [errors.RowError]  # noqa: RUF012 (frictionless reads it as a class attribute)

        def validate_row(self, row: Any) -> Any:
            value = row["gmsfhm"]
            if value is not None and not id_number.is_valid(str(value)):
                yield errors.RowError.from_row(row, note="not a valid GB 11643 ID number")

    schema = Schema(
        fields=[
            fields.StringField(
                name="gmsfhm",
                constraints={"required": True, "unique": True, "pattern": r"[0-9]{17}[0-9X]"},
            ),
            fields.StringField(name="xm", constraints={"required": True, "maxLength": 32}),
            fields.StringField(name="xb", constraints={"enum": ["1", "2"]}),
            fields.DateField(name="csrq"),
            fields.StringField(name="mz"),
            fields.StringField(name="hjdz", constraints={"maxLength": 128}),
            fields.StringField(name="lxdh", constraints={"pattern": MOBILE[1:-1]}),
            fields.StringField(name="whcd"),
            fields.StringField(name="hh"),
            fields.StringField(name="hjqh", constraints={"enum": COUNTIES}),
        ]
    )
    peak.reset()
    started = time.perf_counter()
    report = Resource(path=path.name, basepath=str(path.parent), schema=schema).validate(
        Checklist(checks=[IdCheckDigit()]), limit_errors=10**9
    )
    seconds = time.perf_counter() - started
    task = report.tasks[0]
    rows = int(task.stats.get("rows") or 0)
    if not rows:
        raise SystemExit(f"frictionless did not validate: {task.errors[:1]}")
    return Figure("frictionless validate", rows, seconds, peak.peak,
                  f"{len(task.errors):,} errors")  # fmt: skip


def run_pandera(path: Path, peak: PeakRss, numpy_id: bool = False) -> Figure:
    """pandera with the rules as pandera checks. `numpy_id`: its GB 11643 check is
    cityhub's fast-lane test (NumPy over the 18 bytes) instead of `is_valid_expr`
    (Polars string operations), so the two differ in the framework, not in that check."""
    import pandera.polars as pa

    today = date.today()

    def numpy_valid(values: pl.Series) -> pl.Series:
        return pl.Series(canonical.id_number_ok(values.to_numpy(), today))

    def id_valid(data: pa.PolarsData) -> pl.LazyFrame:
        value = pl.col(data.key)
        if numpy_id:
            matrix = canonical.fixed_bytes(value.str.to_uppercase(), 18)
            return data.lazyframe.select(matrix.map_batches(numpy_valid, pl.Boolean))
        return data.lazyframe.select(id_number.is_valid_expr(value))

    def date_valid(data: pa.PolarsData) -> pl.LazyFrame:
        # an impossible date (1990-02-30) fails, as in frictionless and cityhub: coercing
        # with strict=False first would turn it into a null that passes
        value = pl.col(data.key)
        parsed = value.str.to_date("%Y-%m-%d", strict=False)
        return data.lazyframe.select(value.is_null() | parsed.is_not_null())

    schema = pa.DataFrameSchema(
        {
            "gmsfhm": pa.Column(str, pa.Check(id_valid), unique=True, nullable=False),
            "xm": pa.Column(str, pa.Check.str_length(max_value=32), nullable=False),
            "xb": pa.Column(str, pa.Check.isin(["1", "2"]), nullable=True),
            "csrq": pa.Column(str, pa.Check(date_valid), nullable=True),
            "hjdz": pa.Column(str, pa.Check.str_length(max_value=128), nullable=True),
            "lxdh": pa.Column(str, pa.Check.str_matches(MOBILE), nullable=True),
            "hjqh": pa.Column(str, pa.Check.isin(COUNTIES), nullable=True),
        },
        strict=False,
    )
    peak.reset()
    started = time.perf_counter()
    frame = pl.read_csv(path, infer_schema=False)
    failures = 0
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        failures = len(exc.failure_cases)
    seconds = time.perf_counter() - started
    name = "pandera (polars, NumPy ID)" if numpy_id else "pandera (polars)"
    return Figure(name, frame.height, seconds, peak.peak, f"{failures:,} failures")


# -- main ------------------------------------------------------------------------------------


def _line(figure: Figure, against: Figure | None = None) -> str:
    ratio = f"{figure.rate / against.rate:8.1f}x" if against and against.rate else " " * 9
    return (
        f"{figure.name:<28}{figure.rows:>12,}{figure.seconds:>10.1f} s{figure.rate:>13,.0f}"
        f"{figure.peak_mb:>10,.0f} MB {ratio}  {figure.note}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--peer-rows", type=int, default=1_000_000)
    parser.add_argument("--chunk-rows", type=int, default=200_000)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument(
        "--only-checks",
        action="store_true",
        help="cityhub (checks only) and pandera alone: no full pipeline, no frictionless",
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    args = parser.parse_args()
    peak = PeakRss()
    with tempfile.TemporaryDirectory(prefix="bench-exchange-") as tmp_name:
        tmp = Path(tmp_name)
        with scratch_database(args.database_url or None, tmp) as url:
            settings = Settings(
                database_url=url, data_dir=tmp, demo_mode=True, log_level="WARNING",
                exchange_chunk_rows=args.chunk_rows,
            )  # fmt: skip
            prepare_platform(url, settings)
            big = tmp / "population.csv"
            started = time.perf_counter()
            bad = write_population(big, args.rows, args.chunk_rows)
            size_mb = big.stat().st_size / 2**20
            print(f"generated {args.rows:,} residents ({bad:,} bad rows, {size_mb:,.0f} MB) in "
                  f"{time.perf_counter() - started:.1f} s; database "
                  f"{make_engine(url).dialect.name}; chunk {args.chunk_rows:,} rows")  # fmt: skip
            figures: list[Figure] = []
            if args.only_checks:  # the same file, rules and chunked reading; nothing merged
                figures.append(run_checks_only(url, settings, big, peak))
                figures.append(run_pandera(big, peak))
                figures.append(run_pandera(big, peak, numpy_id=True))
                args.no_peers = True
            else:
                full, _ = run_exchange(url, settings, big, peak)
                figures.append(full)
            peer_file = big
            if not args.no_peers and args.peer_rows != args.rows:
                peer_file = tmp / "peers.csv"
                write_population(peer_file, args.peer_rows, args.chunk_rows, seed=7)
            if not args.no_peers:
                if peer_file is not big:  # the pipeline on the peers' file too
                    with scratch_database(args.database_url or None, tmp / "p") as peer_url:
                        (tmp / "p").mkdir(exist_ok=True)
                        peer_settings = settings.model_copy(update={"database_url": peer_url})
                        prepare_platform(peer_url, peer_settings)
                        same, _ = run_exchange(peer_url, peer_settings, peer_file, peak)
                        same.name = "cityhub exchange (full)"
                        figures.append(same)
                figures.append(run_checks_only(url, settings, peer_file, peak))
                figures.append(run_pandera(peer_file, peak))
                figures.append(run_pandera(peer_file, peak, numpy_id=True))
                figures.append(run_frictionless(peer_file, peak))
    peak.stop()
    print()
    print(f"{'':<28}{'rows':>12}{'time':>12}{'rows/s':>13}{'peak RSS':>13}  vs frictionless")
    friction = next((f for f in figures if f.name.startswith("frictionless")), None)
    for figure in figures:
        print(_line(figure, friction if figure is not friction else None))
    checks_only = next((f for f in figures if f.name == "cityhub (checks only)"), None)
    if friction is not None:
        same = next(f for f in reversed(figures) if f.name == "cityhub exchange (full)")
        print()
        print(f"on the same {same.rows:,}-row file: cityhub full pipeline "
              f"{same.rate / friction.rate:.1f}x frictionless")  # fmt: skip
    for peer in (f for f in figures if f.name.startswith("pandera") and checks_only):
        assert checks_only is not None
        print(f"cityhub checks only: {checks_only.rate / peer.rate:.2f}x {peer.name}")
    _ = csv  # the peers read the same CSV text


if __name__ == "__main__":
    main()
