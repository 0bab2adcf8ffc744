"""The log in the platform database: ledgers, the write lock, batched appends, proofs."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from cityhub.core.db import utcnow
from cityhub.errors import CityHubError, ConfigError, NotFound
from cityhub.ledger.merkle import NodeKey, Prover, extend, frontier_keys, pick, row_of
from cityhub.ledger.models import Ledger, LedgerEntry
from cityhub.ledger.verify import HASH_ALGORITHMS, TreeHasher

DEFAULT_LEDGER = "main"
_LOCK_SPACE = 0x4C454447  # "LEDG"
_MAX_KEYS_PER_QUERY = 400  # well under SQLite's bound-parameter limit


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


def read_rows(session: Session, ledger_id: int, rows: Iterable[int]) -> dict[int, bytes]:
    """Stored hash rows by leaf index."""
    wanted = sorted(set(rows))
    found: dict[int, bytes] = {}
    for start in range(0, len(wanted), _MAX_KEYS_PER_QUERY):
        chunk = wanted[start : start + _MAX_KEYS_PER_QUERY]
        result = session.execute(
            select(LedgerEntry.idx, LedgerEntry.hashes).where(
                LedgerEntry.ledger_id == ledger_id, LedgerEntry.idx.in_(chunk)
            )
        )
        found.update((idx, bytes(blob)) for idx, blob in result)
    return found


def read_nodes(session: Session, ledger_id: int, keys: set[NodeKey]) -> dict[NodeKey, bytes]:
    return pick(read_rows(session, ledger_id, (row_of(k)[0] for k in keys)), keys)


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

    Written through the driver (executemany on SQLite, COPY on PostgreSQL): this is the
    hot path, one row per entry holding its body and its tree hashes.
    """
    if not entries:
        return ledger.size
    hasher = hasher_for(ledger)
    size = ledger.size
    keys = frontier_keys(size)
    stored = read_nodes(session, ledger.id, set(keys))
    if len(stored) != len(keys):
        raise DamagedLedger(f"the ledger {ledger.name!r} lacks the nodes of its right edge")
    leaf = hasher.leaf
    rows = extend(hasher, size, [stored[k] for k in keys], [leaf(e.body.encode()) for e in entries])
    lid = ledger.id
    stamp = _timestamp(session)
    _bulk_insert(
        session,
        "ledger_entries",
        _ENTRY_COLUMNS,
        [
            (lid, size + i, e.event_id, e.topic, e.resource_code, e.batch_ref, e.body, h, stamp)
            for i, (e, h) in enumerate(zip(entries, rows, strict=True))
        ],
    )
    session.execute(update(Ledger).where(Ledger.id == lid).values(size=size + len(entries)))
    ledger.size = size + len(entries)
    return size


_ENTRY_COLUMNS = (
    "ledger_id", "idx", "event_id", "topic", "resource_code", "batch_ref", "body", "hashes",
    "created_at",
)  # fmt: skip


def _timestamp(session: Session) -> datetime | str:
    """Now, as the driver stores it: SQLite keeps DateTime as text in SQLAlchemy's format."""
    now = utcnow()
    if session.connection().dialect.name == "postgresql":
        return now
    return now.strftime("%Y-%m-%d %H:%M:%S.%f")


def _bulk_insert(
    session: Session, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    conn = session.connection()
    raw: Any = conn.connection.driver_connection
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    cursor = raw.cursor()
    try:
        cursor.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})", rows
        )
    finally:
        cursor.close()


def leaf_hash(session: Session, ledger: Ledger, index: int) -> bytes:
    found = read_nodes(session, ledger.id, {(0, index)})
    if (0, index) not in found:
        if index < ledger.size:
            raise DamagedLedger(f"the ledger {ledger.name!r} lacks the leaf hash of {index}")
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
