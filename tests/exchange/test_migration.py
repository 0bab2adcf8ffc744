"""exchange_0002: the change log's rows (one per key) move into blocks unchanged, and back
on downgrade."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, text

from cityhub.core.db import make_engine, session_factory
from cityhub.core.migrations import alembic_config, upgrade
from cityhub.exchange import changes
from cityhub.settings import Settings

AT = "2026-01-01 00:00:00"


def _migrate(engine: Engine, target: str) -> None:
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, target)


def test_logged_changes_move_into_blocks_and_back(settings: Settings) -> None:
    engine = make_engine(settings.effective_database_url)
    # two resources; batch 1 then batch 2 for A; keys with quotes and Chinese text
    old = [("A", s, 1 if s <= 3 else 2, f'k"{s}\\中') for s in range(1, 8)]
    old += [("B", s, None, f"b{s}") for s in range(1, 4)]
    try:
        _migrate(engine, "exchange_0001")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO exchange_changes (resource_code, seq, batch_id, key, at) "
                    "VALUES (:r, :s, :b, :k, :t)"
                ),
                [{"r": r, "s": s, "b": b, "k": k, "t": AT} for r, s, b, k in old],
            )
        upgrade(engine)
        with session_factory(engine)() as session:
            for code in ("A", "B"):
                got = changes.records(session, code, after=0, limit=100)
                want = [(s, k, b) for r, s, b, k in old if r == code]
                assert [(r.seq, r.key, r.batch_id) for r in got] == want
            assert [r.seq for r in changes.records(session, "A", after=2, limit=3)] == [3, 4, 5]
            assert changes.count_after(session, "A", 2) == 5
            blocks = session.execute(
                text("SELECT seq_first, seq_last FROM exchange_change_blocks "
                     "WHERE resource_code = 'A' ORDER BY seq_last")
            ).all()  # fmt: skip
            assert [tuple(b) for b in blocks] == [(1, 3), (4, 7)]  # one block per batch
        _migrate(engine, "exchange_0001")
        with engine.connect() as conn:
            back = conn.execute(
                text("SELECT resource_code, seq, batch_id, key FROM exchange_changes "
                     "ORDER BY resource_code, seq")
            ).all()  # fmt: skip
        assert [tuple(r) for r in back] == old
    finally:
        upgrade(engine)
        engine.dispose()
