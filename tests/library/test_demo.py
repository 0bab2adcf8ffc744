"""`cityhub demo --population N`: department files delivered through the exchange, bad
rows quarantined, libraries and derivations filled; a re-run generates nothing."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import make_engine, transaction
from cityhub.demo.catalog import build_catalog
from cityhub.demo.world import _ensure_orgs, plan
from cityhub.library import demo, digest
from cityhub.library.derived import SOCIAL_SECURITY
from cityhub.library.specs import LEGAL_ENTITIES, POPULATION
from cityhub.settings import Settings


def records(db: sessionmaker[Session], code: str) -> int:
    with db() as session:
        return sum(p.rows for p in digest.load(session, code).values())


def test_demo_population_goes_through_the_exchange(
    settings: Settings, db: sessionmaker[Session]
) -> None:
    with transaction(db) as session:
        build_catalog(session, _ensure_orgs(session, plan(1)))
    engine = make_engine(settings.effective_database_url)
    try:
        built = demo.build(settings, engine, seed=7, population=3000)
        again = demo.build(settings, engine, seed=7, population=3000)
    finally:
        engine.dispose()
    assert again.skipped
    by_name = {d.file.path.stem: d for d in built.delivered}
    assert {d.status for d in built.delivered} == {"completed"}
    assert {d.via for d in built.delivered} == {"exchange"}
    for name in ("population_ga", "population_mz", "population_rs"):
        delivered = by_name[name]
        assert delivered.rejected == delivered.file.bad_rows > 0  # quarantined, reasons kept
        assert delivered.accepted == delivered.file.rows - delivered.file.bad_rows
    people = records(db, POPULATION.resource_code)
    assert by_name["population_ga"].accepted <= people <= 3000
    assert records(db, LEGAL_ENTITIES.resource_code) == 300
    assert records(db, SOCIAL_SECURITY.resource_code) == people  # derived, rebuilt
