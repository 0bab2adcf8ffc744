"""`cityhub demo --population N`: generate the city's base data as department files and
deliver them through the exchange pipeline, like real deliveries.

1. the libraries are published in the catalog (`register`), the tax bureau added if the
   demo city lacks it;
2. N residents, N/10 market entities, economic indicators and spatial data are streamed
   to CSV files, one per department resource (`generate`, `generate_world`);
3. each file is delivered: through the exchange (validation, quarantine of the bad rows,
   merge) when it is installed, else straight through `merge.merge_chunk` after the same
   standard checks;
4. the derived libraries are rebuilt from what landed.

Idempotent: when the population library already holds records nothing is generated again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import session_factory, transaction
from cityhub.directory.models import Organization, OrgKind, Region
from cityhub.library import derive, digest, register
from cityhub.library.generate import Population, departments
from cityhub.library.generate_world import Centre, Entities, economy, entity_departments, spatial
from cityhub.library.merge import MergeResult, finish_full, merge_chunk
from cityhub.library.specs import (
    ADDRESSES,
    ECONOMY,
    GRIDS,
    LEGAL_ENTITIES,
    POIS,
    POPULATION,
    REGIONS,
)
from cityhub.library.specs import SWJ as TAX
from cityhub.library.target import target_of
from cityhub.settings import Settings
from cityhub.standards import credit_code, id_number, regions

log = logging.getLogger("cityhub.library.demo")
TAX_NAME = ("国家税务总局临沂市税务局", "Linyi Municipal Tax Service, STA")
Progress = Callable[[str], None]


@dataclass(frozen=True)
class DemoFile:
    resource_code: str
    provider: str
    path: Path
    rows: int
    bad_rows: int


@dataclass
class Delivered:
    file: DemoFile
    batch_id: int | None
    status: str
    accepted: int = 0
    rejected: int = 0
    via: str = "exchange"


@dataclass
class LibraryDemo:
    files: list[DemoFile] = field(default_factory=list)
    delivered: list[Delivered] = field(default_factory=list)
    skipped: bool = False


class _Sink:
    """CSV files written chunk by chunk (header once), with row counts."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.rows: dict[str, int] = {}
        self.bad: dict[str, int] = {}

    def path(self, name: str) -> Path:
        return self.out_dir / f"{name}.csv"

    def write(self, name: str, frame: pl.DataFrame, bad: int = 0) -> None:
        first = name not in self.rows
        with self.path(name).open("wb" if first else "ab") as out:
            frame.write_csv(out, include_header=first, date_format="%Y-%m-%d")
        self.rows[name] = self.rows.get(name, 0) + frame.height
        self.bad[name] = self.bad.get(name, 0) + bad


def _centres(session: Session, city: str) -> list[Centre]:
    rows = session.execute(
        select(Region.code, Region.center_lon, Region.center_lat, Region.area_km2)
        .where(Region.parent_code == city)
        .order_by(Region.code)
    )
    return [Centre(c, lon or 118.35, lat or 35.1, area or 500.0) for c, lon, lat, area in rows]


# The files and the resource each one is delivered to, with its provider.
TARGETS: dict[str, tuple[str, str]] = {
    "population_ga": (POPULATION.resource_code, POPULATION.registrar),
    **{
        f"population_{f.provider[2:].lower()}": (f.resource_code, f.provider)
        for f in POPULATION.feeds
    },
    "entities_sj": (LEGAL_ENTITIES.resource_code, LEGAL_ENTITIES.registrar),
    **{
        f"entities_{f.provider[2:].lower()}": (f.resource_code, f.provider)
        for f in LEGAL_ENTITIES.feeds
    },
    "economy": (ECONOMY.resource_code, ECONOMY.registrar),
    **{lib.slug: (lib.resource_code, lib.registrar) for lib in (REGIONS, GRIDS, ADDRESSES, POIS)},
}


def write_files(
    out_dir: Path,
    *,
    population: int,
    seed: int,
    centres: list[Centre],
    bad_rate: float = 0.03,
    chunk_rows: int = 200_000,
    progress: Progress | None = None,
) -> list[DemoFile]:
    """Generate everything as CSV files in `out_dir`, streamed chunk by chunk."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sink = _Sink(out_dir)
    counts = dict.fromkeys((c.code for c in centres), 0)
    for index, people in enumerate(Population(population, seed, chunk_rows).chunks()):
        rng = np.random.default_rng([seed, 3, index])
        for dept, (frame, bad) in departments(rng, people, bad_rate=bad_rate).items():
            sink.write(f"population_{dept}", frame, bad)
        for code, n in people.group_by("hjqh").len().iter_rows():
            counts[code] = counts.get(code, 0) + n
        if progress:
            progress(f"residents {min(population, (index + 1) * chunk_rows):,}/{population:,}")
    entity_rows = max(1, population // 10)
    for index, firms in enumerate(Entities(entity_rows, seed, chunk_rows).chunks()):
        sink.write("entities_sj", firms)
        for dept, frame in entity_departments(
            np.random.default_rng([seed, 5, index]), firms
        ).items():
            sink.write(f"entities_{dept}", frame)
    sink.write("economy", economy(seed, counts))
    for name, frame in spatial(seed, centres, population).items():
        sink.write(name, frame)
    return [
        DemoFile(*TARGETS[name], sink.path(name), rows, sink.bad.get(name, 0))
        for name, rows in sink.rows.items()
        if name in TARGETS
    ]


def _valid_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """The standard checks the exchange applies, for the direct path (no exchange)."""
    ok = pl.lit(True)
    if "gmsfhm" in frame.columns:
        upgraded = pl.col("gmsfhm").str.len_chars() == 15
        ok = ok & (id_number.is_valid_expr(pl.col("gmsfhm")) | upgraded)
    if "tyshxydm" in frame.columns:
        ok = ok & credit_code.is_valid_expr(pl.col("tyshxydm"))
    for col in ("hjqh", "qhdm"):
        if col in frame.columns:
            ok = ok & (regions.is_valid_expr(pl.col(col)) | pl.col(col).is_null())
    for col in ("csrq", "swrq", "cbrq", "clrq"):
        if col in frame.columns:
            ok = ok & (
                pl.col(col).str.to_date("%Y-%m-%d", strict=False).is_not_null()
                | pl.col(col).is_null()
            )
    return frame.filter(ok)


def _batches(path: Path, chunk_rows: int) -> Iterator[pl.DataFrame]:
    yield from pl.scan_csv(path, infer_schema=False).collect_batches(chunk_size=chunk_rows)


def merge_file(
    factory: sessionmaker[Session], file: DemoFile, batch_id: int, chunk_rows: int = 200_000
) -> Delivered:
    """Deliver a file straight through `merge_chunk` (no exchange): one transaction."""
    total = MergeResult()
    rows = 0
    with transaction(factory) as session:
        for chunk in _batches(file.path, chunk_rows):
            good = _valid_rows(chunk)
            rows += chunk.height
            total += merge_chunk(
                session, resource_code=file.resource_code, provider_code=file.provider,
                batch_id=batch_id, frame=good, mode="full",
            )  # fmt: skip
        total += finish_full(
            session,
            resource_code=file.resource_code,
            provider_code=file.provider,
            batch_id=batch_id,
        )
    accepted = total.inserted + total.updated + total.unchanged
    return Delivered(file, batch_id, "completed", accepted, rows - accepted, via="merge")


def _exchange() -> Any:
    try:
        from cityhub.exchange import pipeline, service
    except ImportError:  # the exchange is optional: deliver straight to the library
        return None
    return service, pipeline


def deliver(
    factory: sessionmaker[Session],
    settings: Settings,
    files: list[DemoFile],
    *,
    progress: Progress | None = None,
) -> list[Delivered]:
    found = _exchange()
    out = []
    for number, file in enumerate(files, start=1):
        if progress:
            progress(f"delivering {file.path.name} ({file.rows:,} rows)")
        if found is None:
            out.append(merge_file(factory, file, batch_id=number))
            continue
        service, pipeline = found
        with factory() as session:
            provider = session.scalar(
                select(Organization).where(Organization.code == file.provider)
            )
        assert provider is not None
        actor = service.Actor(f"demo:{file.provider}", provider.id, frozenset(), system=True)
        with file.path.open("rb") as content:
            received = service.receive(
                factory, settings, actor, resource_code=file.resource_code, content=content,
                filename=file.path.name, source="demo",
            )  # fmt: skip
        batch = pipeline.run(factory, settings, received.batch_id)
        status = str(getattr(batch.status, "value", batch.status))
        out.append(Delivered(file, batch.id, status, int(batch.accepted), int(batch.rejected)))
    return out


def ensure_tax_bureau(session: Session) -> None:
    """The demo city's departments lack the tax bureau, a provider of the legal-entity
    library; add it (once)."""
    if session.scalar(select(Organization.id).where(Organization.code == TAX)) is None:
        session.add(
            Organization(
                code=TAX, name_zh=TAX_NAME[0], name_en=TAX_NAME[1],
                kind=OrgKind.government, region_code="371300",
            )
        )  # fmt: skip
        session.flush()


def build(
    settings: Settings,
    engine: Engine,
    *,
    seed: int,
    population: int,
    progress: Progress | None = None,
) -> LibraryDemo:
    """Publish the libraries, generate and deliver the demo data, rebuild derivations."""
    factory = session_factory(engine)
    with transaction(factory) as session:
        ensure_tax_bureau(session)
        register.register_all(session)
        present = sum(p.rows for p in digest.load(session, POPULATION.resource_code).values())
        centres = _centres(session, settings.city_code)
        target_of(session, POPULATION.resource_code)
    if present or population == 0:
        return LibraryDemo(skipped=True)
    files = write_files(
        settings.data_dir / "demo" / "library", population=population, seed=seed,
        centres=centres, progress=progress,
    )  # fmt: skip
    delivered = deliver(factory, settings, files, progress=progress)
    derive.rebuild_dirty(factory)
    return LibraryDemo(files, delivered)
