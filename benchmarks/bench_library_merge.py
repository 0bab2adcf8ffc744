"""Merging residents into the population library, with entity resolution from three
departments: rows/s and peak memory (RSS) per stage.

    python benchmarks/bench_library_merge.py [--rows 1000000] [--chunk-rows 200000]
        [--database-url postgresql+psycopg://127.0.0.1:5432/test]

N residents are generated chunk by chunk (`library.generate`, seeded) and each department's
share of a chunk is merged with `library.merge.merge_chunk`, one transaction per delivery
(as the exchange does):

    1. 公安  household registration of everyone: N inserts (the registrar's batch)
    2. 民政  marital status of ~75% of adults: updates, and birth dates that disagree
            (kept: 公安 is the authority, conflicts logged); 15-digit IDs upgraded
    3. 人社  social insurance of ~85% aged 16+: updates, new phones (latest wins, logged)
    4. 公安  the same registration again: every row unchanged (fingerprints)

Generation is timed apart from merging; merge rows/s counts delivered rows (bad rows
made by the generator are dropped first, as the exchange would quarantine them). Peak RSS
is sampled every 20 ms per stage. Memory stays bounded by the chunk size: nothing holds
the whole population. Default database: a scratch SQLite file; give a PostgreSQL URL to
run there (a private schema, dropped afterwards).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
from sqlalchemy import text

from cityhub.core.db import make_engine, session_factory, transaction
from cityhub.core.migrations import upgrade
from cityhub.directory.models import Organization, OrgKind
from cityhub.directory.regions import seed_regions
from cityhub.library.demo import _valid_rows
from cityhub.library.generate import Population, departments
from cityhub.library.merge import MergeResult, merge_chunk
from cityhub.library.specs import FEEDS, POPULATION
from cityhub.settings import Settings

PROVIDERS = {
    "LYGA": "临沂市公安局",
    "LYMZ": "临沂市民政局",
    "LYRS": "临沂市人社局",
    "LYWJ": "临沂市卫健委",
    "LYDSJ": "临沂市大数据局",
}
FEED_OF = {feed.provider: code for code, (_, feed) in FEEDS.items() if code.startswith("301")}


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class PeakRss:
    """Samples the resident set size in a thread; `peak` since the last `reset`."""

    def __init__(self) -> None:
        self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mb())

    def reset(self) -> None:
        self.peak = rss_mb()

    def stop(self) -> None:
        self._stop.set()


@dataclass
class Stage:
    name: str
    rows: int = 0
    merge_seconds: float = 0.0
    generate_seconds: float = 0.0
    peak_rss: float = 0.0
    result: MergeResult = field(default_factory=MergeResult)

    def line(self) -> str:
        rate = self.rows / self.merge_seconds if self.merge_seconds else 0.0
        r = self.result
        return (
            f"{self.name:<22} {self.rows:>11,} {self.merge_seconds:>9.1f} {rate:>12,.0f} "
            f"{self.generate_seconds:>8.1f} {self.peak_rss:>9,.0f}   "
            f"ins {r.inserted:,} upd {r.updated:,} same {r.unchanged:,} conflicts {r.conflicts:,}"
        )


@contextmanager
def scratch_database(url: str | None) -> Iterator[str]:
    if not url:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    schema = f"bench_library_{uuid.uuid4().hex[:8]}"
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


def prepare(url: str, tmp: Path) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with transaction(session_factory(engine)) as session:
        seed_regions(session, Settings(database_url=url, data_dir=tmp, demo_mode=True))
        for code, name in PROVIDERS.items():
            session.add(
                Organization(code=code, name_zh=name, kind=OrgKind.government, region_code="371300")
            )
    engine.dispose()


def run_stage(
    url: str,
    name: str,
    provider: str,
    dept: str,
    args: argparse.Namespace,
    rss: PeakRss,
    batch: int,
) -> Stage:
    stage = Stage(name)
    resource = POPULATION.resource_code if provider == "LYGA" else FEED_OF[provider]
    engine = make_engine(url)
    rss.reset()
    population = Population(args.rows, args.seed, args.chunk_rows)
    with transaction(session_factory(engine)) as session:
        started = time.perf_counter()
        for index, people in enumerate(population.chunks()):
            rng = np.random.default_rng([args.seed, 3, index])
            frame, _ = departments(rng, people, bad_rate=args.bad_rate)[dept]
            good = _valid_rows(frame)
            generated = time.perf_counter()
            stage.generate_seconds += generated - started
            stage.result += merge_chunk(
                session,
                resource_code=resource,
                provider_code=provider,
                batch_id=batch,
                frame=good,
                mode="incremental",
            )
            stage.rows += good.height
            started = time.perf_counter()
            stage.merge_seconds += started - generated
        commit = time.perf_counter()
    stage.merge_seconds += time.perf_counter() - commit
    stage.peak_rss = rss.peak
    engine.dispose()
    return stage


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="residents (default 1,000,000)")
    parser.add_argument("--chunk-rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--bad-rate", type=float, default=0.03)
    parser.add_argument("--database-url", default=os.environ.get("CITYHUB_BENCH_DATABASE_URL"))
    args = parser.parse_args()
    rss = PeakRss()
    with tempfile.TemporaryDirectory() as tmp, scratch_database(args.database_url) as url:
        prepare(url, Path(tmp))
        backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        print(
            f"population library merge: {args.rows:,} residents, chunks of "
            f"{args.chunk_rows:,}, {backend}, pid {os.getpid()}"
        )
        print(
            f"{'stage':<22} {'rows':>11} {'merge s':>9} {'rows/s':>12} {'gen s':>8} "
            f"{'peak MB':>9}   outcome"
        )
        stages = [
            ("1 公安 registration", "LYGA", "ga", 1),
            ("2 民政 marital status", "LYMZ", "mz", 2),
            ("3 人社 insurance", "LYRS", "rs", 3),
            ("4 公安 again", "LYGA", "ga", 4),
        ]
        done = []
        for name, provider, dept, batch in stages:
            stage = run_stage(url, name, provider, dept, args, rss, batch)
            done.append(stage)
            print(stage.line(), flush=True)
        rows = sum(s.rows for s in done)
        seconds = sum(s.merge_seconds for s in done)
        print(
            f"{'all stages':<22} {rows:>11,} {seconds:>9.1f} {rows / seconds:>12,.0f} "
            f"{sum(s.generate_seconds for s in done):>8.1f} {max(s.peak_rss for s in done):>9,.0f}"
        )
    rss.stop()


if __name__ == "__main__":
    pl.Config.set_tbl_rows(5)
    main()
