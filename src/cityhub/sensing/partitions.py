"""PostgreSQL declarative partitioning of the time series, created ahead of the data.

The partitions live in their own schema, `cityhub_partitions`, named after the parent's
schema and table (`public__telemetry_points_p20260101`): the platform's schema then holds
exactly the tables of its models, which is what migrations are checked against. Dropping a
partition is how old raw data leaves once every profile's retention has passed it.
On SQLite every function here does nothing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, text

SCHEMA = "cityhub_partitions"
DAY_MS = 86_400_000
_LOCK_KEY = 0x53_45_4E_53  # "SENS": one partition creator at a time


@dataclass(frozen=True)
class PartitionedTable:
    table: str
    column: str
    monthly: bool  # else daily


RAW = PartitionedTable("telemetry_points", "ts_ms", monthly=False)
ROLLUP_1M = PartitionedTable("telemetry_rollup_1m", "bucket_ms", monthly=True)
ROLLUP_1H = PartitionedTable("telemetry_rollup_1h", "bucket_ms", monthly=True)
TABLES = (RAW, ROLLUP_1M, ROLLUP_1H)

_known: set[tuple[str, str]] = set()  # (database key, partition name) known to exist
_keys: dict[str, str] = {}  # engine URL -> database key (URL and schema)
_known_lock = threading.Lock()


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def span(spec: PartitionedTable, ts_ms: int) -> tuple[int, int, str]:
    """(start, end, suffix) of the partition holding `ts_ms`."""
    moment = datetime.fromtimestamp(ts_ms / 1000, UTC)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if spec.monthly:
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
        return _ms(start), _ms(end), start.strftime("%Y%m")
    return _ms(day), _ms(day + timedelta(days=1)), day.strftime("%Y%m%d")


def _spans(spec: PartitionedTable, lo_ms: int, hi_ms: int) -> list[tuple[int, int, str]]:
    out = []
    at = lo_ms
    while True:
        start, end, suffix = span(spec, at)
        out.append((start, end, suffix))
        if end > hi_ms:
            return out
        at = end


def _db_key(conn: Connection) -> str:
    schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    return f"{conn.engine.url.render_as_string(hide_password=True)}|{schema}"


def partition_name(parent_schema: str, spec: PartitionedTable, suffix: str) -> str:
    return f"{parent_schema}__{spec.table}_p{suffix}"


def ensure(engine: Engine, spec: PartitionedTable, lo_ms: int, hi_ms: int) -> int:
    """Create the missing partitions covering [lo_ms, hi_ms]; the number created.

    Runs in its own short transaction (not the caller's), so the exclusive lock that
    creating a partition takes is held only for that moment.
    """
    if engine.dialect.name != "postgresql":
        return 0
    spans = _spans(spec, lo_ms, hi_ms)
    url = engine.url.render_as_string(hide_password=False)
    key = _keys.get(url)
    if key is None:
        with engine.connect() as probe:
            key = _keys[url] = _db_key(probe)
    with _known_lock:
        todo = [s for s in spans if (key, f"{spec.table}_{s[2]}") not in _known]
    if not todo:
        return 0
    with engine.begin() as conn:
        created = create_on(conn, spec, todo)
    with _known_lock:
        _known.update((key, f"{spec.table}_{s[2]}") for s in todo)
    return created


def _lock(conn: Connection) -> None:
    """One partition maker at a time. Bounded waits: creating or dropping a partition locks
    the parent table, and a caller's open transaction may hold it; failing (and trying again
    at the next batch or upkeep) beats waiting forever."""
    conn.execute(text("SET LOCAL lock_timeout = '10s'"))
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})


def create_on(conn: Connection, spec: PartitionedTable, spans: list[tuple[int, int, str]]) -> int:
    """Create the missing partitions of `spans` on a connection in a transaction (a
    migration's: its new parent table is not visible to another connection yet)."""
    _lock(conn)
    schema = _schema(conn)
    conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{SCHEMA}"'))
    existing = set(_existing(conn, spec))
    created = 0
    for start, end, suffix in spans:
        name = partition_name(schema, spec, suffix)
        if name not in existing:
            conn.execute(
                text(
                    f'CREATE TABLE "{SCHEMA}"."{name}" PARTITION OF "{schema}"."{spec.table}" '
                    f"FOR VALUES FROM ({start}) TO ({end})"
                )
            )
            created += 1
    conn.execute(text("SET LOCAL lock_timeout = DEFAULT"))  # a migration's work goes on
    return created


def spans_between(spec: PartitionedTable, lo_ms: int, hi_ms: int) -> list[tuple[int, int, str]]:
    return _spans(spec, lo_ms, hi_ms)


def _existing(conn: Connection, spec: PartitionedTable) -> list[str]:
    rows = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(:parent) ORDER BY c.relname"
        ),
        {"parent": f'"{_schema(conn)}"."{spec.table}"'},
    )
    return [r[0] for r in rows]


def _schema(conn: Connection) -> str:
    return str(conn.execute(text("SELECT current_schema()")).scalar_one())


def existing(engine: Engine, spec: PartitionedTable) -> list[str]:
    """Names of the partitions of `spec` (empty on SQLite)."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as conn:
        return _existing(conn, spec)


def drop_before(engine: Engine, spec: PartitionedTable, cutoff_ms: int) -> list[str]:
    """Drop the partitions wholly older than `cutoff_ms`; their names."""
    if engine.dialect.name != "postgresql":
        return []
    dropped = []
    with engine.begin() as conn:
        _lock(conn)
        schema = _schema(conn)
        key = _db_key(conn)
        prefix = partition_name(schema, spec, "")
        for name in _existing(conn, spec):
            suffix = name.removeprefix(prefix)
            if not name.startswith(prefix) or not suffix.isdigit():
                continue
            fmt = "%Y%m" if spec.monthly else "%Y%m%d"
            start_ms = _ms(datetime.strptime(suffix, fmt).replace(tzinfo=UTC))
            _, end_ms, _ = span(spec, start_ms)
            if end_ms <= cutoff_ms:
                conn.execute(text(f'DROP TABLE "{SCHEMA}"."{name}"'))
                dropped.append(name)
                with _known_lock:
                    _known.discard((key, f"{spec.table}_{suffix}"))
    return dropped


def forget_known() -> None:
    """Forget which partitions exist (after a schema was dropped and made anew)."""
    with _known_lock:
        _known.clear()
        _keys.clear()
