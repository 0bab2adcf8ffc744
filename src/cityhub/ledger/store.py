"""The log in the platform database: ledgers, the write lock, batched appends, proofs."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from cityhub.core.db import utcnow
from cityhub.errors import CityHubError, ConfigError, NotFound
from cityhub.ledger.merkle import (
    TILE_WIDTH,
    BulkHasher,
    DamagedTiles,
    NodeKey,
    Prover,
    TileKey,
    edge_tiles,
    extend,
    pick,
    tile_of,
)
from cityhub.ledger.models import Ledger, LedgerEntry
from cityhub.ledger.verify import HASH_ALGORITHMS, TreeHasher

DEFAULT_LEDGER = "main"
_LOCK_SPACE = 0x4C454447  # "LEDG"
_TILES_PER_QUERY = 100  # 300 parameters and 100 SELECTs: under SQLite's limits


@dataclass(frozen=True)
class NewEntry:
    """An entry about to be appended: its canonical bytes and the columns to search by."""

    body: str
    topic: str
    event_id: int | None = None
    resource_code: str | None = None
    batch_ref: str | None = None


def get_ledger(session: Session, name: str = DEFAULT_LEDGER) -> Ledger | None:
    return session.scalar(select(Ledger).where(Ledger.name == name))


def require_ledger(session: Session, name: str = DEFAULT_LEDGER) -> Ledger:
    ledger = get_ledger(session, name)
    if ledger is None:
        raise NotFound(f"the ledger {name!r} has no entries yet")
    return ledger


def open_for_write(session: Session, name: str, hash_alg: str, origin: str) -> Ledger:
    """Become the only writer of the ledger `name` until the transaction ends, across
    threads and processes; the ledger is created with `hash_alg` on first use.

    PostgreSQL: a transaction-scoped advisory lock keyed by schema and ledger name.
    SQLite: the transaction's first statement is a write, which takes the database's
    write lock at once (WAL readers go on); a read first could not upgrade safely.
    Then the ledger row is re-read: another writer may have appended while we waited.
    """
    if hash_alg not in HASH_ALGORITHMS:
        raise ConfigError(f"unknown ledger hash {hash_alg!r}; choose one of {HASH_ALGORITHMS}")
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        key = zlib.crc32(f"{schema}:{name}".encode()) - (1 << 31)  # int4 range
        conn.execute(text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": _LOCK_SPACE, "b": key})
    touched = session.execute(update(Ledger).where(Ledger.name == name).values(updated_at=utcnow()))
    if getattr(touched, "rowcount", 0) == 0:
        session.add(Ledger(name=name, origin=origin, hash_alg=hash_alg, size=0, scan_floor=0))
        session.flush()
    ledger = session.scalar(
        select(Ledger).where(Ledger.name == name).execution_options(populate_existing=True)
    )
    assert ledger is not None
    return ledger


def hasher_for(ledger: Ledger) -> TreeHasher:
    return TreeHasher(ledger.hash_alg)


def read_tiles(session: Session, ledger_id: int, tiles: Iterable[TileKey]) -> dict[TileKey, bytes]:
    """Stored tiles by (level, tile index).

    One primary-key SELECT per tile joined by UNION ALL, sent as driver SQL: a proof
    reads its ~2 log2(n) tiles in one round trip, with no statement to compile (SQLite
    answers an OR or a row-value IN over levels by scanning the ledger's tiles)."""
    wanted = sorted(set(tiles))
    conn = session.connection()
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    one = (
        f"SELECT level, idx, hashes FROM ledger_tiles "
        f"WHERE ledger_id = {mark} AND level = {mark} AND idx = {mark}"
    )
    found: dict[TileKey, bytes] = {}
    for start in range(0, len(wanted), _TILES_PER_QUERY):
        chunk = wanted[start : start + _TILES_PER_QUERY]
        args = tuple(x for level, idx in chunk for x in (ledger_id, level, idx))
        rows = conn.exec_driver_sql(" UNION ALL ".join([one] * len(chunk)), args)
        found.update(((level, idx), bytes(blob)) for level, idx, blob in rows)
    return found


def read_nodes(session: Session, ledger_id: int, keys: set[NodeKey]) -> dict[NodeKey, bytes]:
    return pick(read_tiles(session, ledger_id, (tile_of(k)[0] for k in keys)), keys)


class DamagedLedger(CityHubError):
    """Stored rows a proof needs are gone: someone deleted them outside the platform."""

    status, type, title = 500, "https://cityhub.dev/problems/ledger-damaged", "Ledger damaged"


def prover(session: Session, ledger: Ledger) -> Prover:
    ledger_id, name = ledger.id, ledger.name

    def read(keys: set[NodeKey]) -> dict[NodeKey, bytes]:
        found = read_nodes(session, ledger_id, keys)
        missing = sorted(keys - found.keys())
        if missing:
            raise DamagedLedger(
                f"the ledger {name!r} lacks stored tree nodes {missing[:5]} (level, index); "
                "run `cityhub ledger audit`"
            )
        return found

    return Prover(hasher_for(ledger), read)


def append(session: Session, ledger: Ledger, entries: Sequence[NewEntry]) -> int:
    """Append a batch under the write lock (the caller holds it); returns the first index.

    The hot path: leaf and node hashes a whole level at a time (`BulkHasher`), entry rows
    through the driver (executemany on SQLite, COPY on PostgreSQL), then the touched
    tiles (~n/128 rows for n entries) in one upsert, all in the caller's transaction.
    The upsert only ever replaces a partial tile: a full one is immutable even to a bug.
    """
    if not entries:
        return ledger.size
    bulk = BulkHasher(hasher_for(ledger))
    size, lid = ledger.size, ledger.id
    leaves = bulk.leaves([e.body.encode() for e in entries])
    try:
        tiles = extend(bulk, size, read_tiles(session, lid, edge_tiles(size)), leaves)
    except DamagedTiles as exc:
        problem = f"the ledger {ledger.name!r}: {exc}; run `cityhub ledger audit`"
        raise DamagedLedger(problem) from exc
    _insert_entries(session, lid, size, entries)
    session.execute(
        text(
            "INSERT INTO ledger_tiles (ledger_id, level, idx, hashes) "
            "VALUES (:l, :v, :i, :h) ON CONFLICT (ledger_id, level, idx) "
            "DO UPDATE SET hashes = excluded.hashes "
            f"WHERE length(ledger_tiles.hashes) < {TILE_WIDTH * 32}"
        ),
        [{"l": lid, "v": v, "i": i, "h": h} for (v, i), h in tiles.items()],
    )
    session.execute(update(Ledger).where(Ledger.id == lid).values(size=size + len(entries)))
    ledger.size = size + len(entries)
    return size


_ENTRY_COLUMNS = (
    "ledger_id", "idx", "event_id", "topic", "resource_code", "batch_ref", "body", "created_at",
)  # fmt: skip


def _insert_entries(session: Session, lid: int, first: int, entries: Sequence[NewEntry]) -> None:
    conn = session.connection()
    raw: Any = conn.connection.driver_connection
    now = utcnow()
    if conn.dialect.name == "postgresql":
        names = ", ".join(_ENTRY_COLUMNS)
        with raw.cursor() as cur, cur.copy(f"COPY ledger_entries ({names}) FROM STDIN") as copy:
            for i, e in enumerate(entries, first):
                copy.write_row((lid, i, e.event_id, e.topic, e.resource_code, e.batch_ref,
                                e.body, now))  # fmt: skip
        return
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's text form of DateTime
    cursor = raw.cursor()
    try:
        cursor.executemany(
            f"INSERT INTO ledger_entries ({', '.join(_ENTRY_COLUMNS)}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (lid, i, e.event_id, e.topic, e.resource_code, e.batch_ref, e.body, stamp)
                for i, e in enumerate(entries, first)
            ],
        )
    finally:
        cursor.close()


def leaf_hash(session: Session, ledger: Ledger, index: int) -> bytes:
    found = read_nodes(session, ledger.id, {(0, index)})
    if (0, index) not in found:
        if index < ledger.size:
            raise DamagedLedger(
                f"the ledger {ledger.name!r} lacks the leaf hash of {index}; "
                "run `cityhub ledger audit`"
            )
        raise NotFound(f"no entry {index} in the ledger {ledger.name!r}")
    return found[(0, index)]


def get_entry(session: Session, ledger: Ledger, index: int) -> LedgerEntry:
    entry = session.get(LedgerEntry, (ledger.id, index))
    if entry is None:
        raise NotFound(f"no entry {index} in the ledger {ledger.name!r} (size {ledger.size})")
    return entry


def entry_for_event(session: Session, ledger: Ledger, event_id: int) -> LedgerEntry | None:
    return session.scalar(
        select(LedgerEntry).where(
            LedgerEntry.ledger_id == ledger.id, LedgerEntry.event_id == event_id
        )
    )
