"""sensing_0002: webhook secrets encrypted in place (and decrypted on downgrade); on
PostgreSQL the 1-hour rollups move to a table partitioned by month, on SQLite the readings
to a WITHOUT ROWID table, rows kept both ways."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, text

from cityhub.core.db import make_engine
from cityhub.core.migrations import alembic_config, upgrade
from cityhub.sensing import partitions, webhooks
from cityhub.settings import Settings

HOUR = 1_764_000_000_000  # 2025-11-24 16:00 UTC


def _migrate(engine: Engine, settings: Settings, target: str, *, down: bool) -> None:
    cfg = alembic_config(engine)
    cfg.attributes["settings"] = settings
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, target)


def _partitioned(engine: Engine) -> bool:
    if engine.dialect.name != "postgresql":
        return False
    with engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT count(*) FROM pg_partitioned_table p JOIN pg_class c "
                "ON c.oid = p.partrelid WHERE c.relname = 'telemetry_rollup_1h' "
                "AND c.relnamespace = (SELECT oid FROM pg_namespace "
                "WHERE nspname = current_schema())"
            )
        ).scalar_one()
    return bool(found)


def _without_rowid(engine: Engine) -> bool:
    if engine.dialect.name != "sqlite":
        return False
    with engine.connect() as conn:
        sql = conn.execute(
            text("SELECT sql FROM sqlite_master WHERE name = 'telemetry_points'")
        ).scalar_one()
    return "WITHOUT ROWID" in sql.upper()


def test_secrets_encrypted_and_rollups_partitioned(settings: Settings) -> None:
    engine = make_engine(settings.effective_database_url)
    pg = engine.dialect.name == "postgresql"
    try:
        _migrate(engine, settings, "sensing_0001", down=True)
        assert not _partitioned(engine)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO sensing_webhooks (name, url, secret, events, active, "
                    "created_by, created_at) VALUES ('h', 'http://x', 'clear-secret', "
                    "'sensing.alarm.*', true, 't', '2026-01-01 00:00:00')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO telemetry_rollup_1h VALUES "
                    "(1, 1, :a, 2, 3.0, 1.0, 2.0), (1, 1, :b, 1, 5.0, 5.0, 5.0)"
                ),
                {"a": HOUR, "b": HOUR + 40 * 86_400_000},  # two months
            )
            if not pg:  # the readings table is rebuilt on SQLite only
                conn.execute(
                    text("INSERT INTO telemetry_points VALUES (1, 1, :t, 7.5)"), {"t": HOUR}
                )
        _migrate(engine, settings, "sensing_0002", down=False)
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT secret FROM sensing_webhooks")).scalar_one()
            rows = conn.execute(text("SELECT count(*), sum(n) FROM telemetry_rollup_1h")).one()
        assert stored.startswith("sm4:1:") and "clear-secret" not in stored
        assert webhooks.unseal(settings, stored) == "clear-secret"
        assert tuple(rows) == (2, 3)
        assert _partitioned(engine) == pg and _without_rowid(engine) == (not pg)
        if not pg:
            with engine.connect() as conn:
                point = conn.execute(text("SELECT ts_ms, value FROM telemetry_points")).one()
            assert tuple(point) == (HOUR, 7.5)
        if pg:
            assert len(partitions.existing(engine, partitions.ROLLUP_1H)) == 3  # Nov to Jan

        _migrate(engine, settings, "sensing_0001", down=True)
        with engine.connect() as conn:
            back = conn.execute(text("SELECT secret FROM sensing_webhooks")).scalar_one()
            count = conn.execute(text("SELECT count(*) FROM telemetry_rollup_1h")).scalar_one()
        assert back == "clear-secret" and count == 2 and not _partitioned(engine)
        assert not _without_rowid(engine)
    finally:
        upgrade(engine)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM sensing_webhooks"))
            conn.execute(text("DELETE FROM telemetry_rollup_1h"))
            conn.execute(text("DELETE FROM telemetry_points"))
        partitions.forget_known()
        engine.dispose()
