"""Ledger benchmark: batched appends and proof times, side by side with pymerkle.

    python benchmarks/bench_ledger.py                  # 1,000,000 entries
    python benchmarks/bench_ledger.py --ten-million    # 10,000,000 entries (takes a while)

The same entries (canonical JSON of a delivery event, ~230 bytes) and the same hash
(SHA-256, RFC 6962 tree hashing on both sides) go to cityhub's ledger and to pymerkle's
SqliteTree (its persistent backend) and InmemoryTree (its default); cityhub also runs with
SM3, its default. Each side appends in batches, one transaction per batch. A last row
writes the entries' bytes alone (blobs of 256, no hashes, no index) with the platform's
SQLite settings: the floor under any SQLite-backed log on this disk. Proof times
are the median and the 99th percentile over random indexes at the full size, reading from
the database. Targets: >= 5x pymerkle's append rate, proofs < 1 ms at 10M entries.
Bytes per entry count cityhub's entry rows and hash tiles (ledger_entries, ledger_tiles)
and pymerkle's leaf table, with their indexes (SQLite dbstat).

By default cityhub's entry rows leave the search columns empty, as pymerkle has none;
`--as-sequenced` fills them as the sequencer does (event id, resource code, batch), so
the three partial indexes do the work they do in production.
"""

from __future__ import annotations

import argparse
import gc
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from cityhub.core.db import make_engine, session_factory
from cityhub.core.migrations import upgrade
from cityhub.ledger import store
from cityhub.ledger.verify import TreeHasher, verify_consistency, verify_inclusion

TOPIC = "exchange.batch.accepted"
T = TypeVar("T")


def batches(total: int, size: int) -> Iterator[list[str]]:
    """Deterministic realistic entries, made batch by batch so 10M fit in memory."""
    for start in range(0, total, size):
        yield [
            f'{{"at":"2020-12-28T08:00:00.000000Z","data":{{"batch_id":"B{i // 1000}",'
            f'"content_digest":"sm3:{i:064x}","resource_code":"LYGA-RK-{i % 97:03d}",'
            f'"rows_accepted":{i % 5000}}},"event_id":{i},"topic":"{TOPIC}","v":1}}'
            for i in range(start, min(total, start + size))
        ]


@dataclass
class Result:
    name: str
    appended: int = 0
    seconds: float = 0.0
    inclusion_ms: list[float] = field(default_factory=list)
    consistency_ms: list[float] = field(default_factory=list)
    cold_ms: float | None = None
    bytes_total: int = 0
    growth: list[tuple[int, float]] = field(default_factory=list)  # (size, bytes/entry)
    root: bytes = b""

    @property
    def rate(self) -> float:
        return self.appended / self.seconds if self.seconds else 0.0


def _file_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def _table_bytes(path: Path, names: tuple[str, ...]) -> int:
    """Bytes of the named tables and their indexes (SQLite dbstat), else the file size."""
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        marks = " OR ".join("name = ? OR name IN (SELECT name FROM sqlite_master "
                            "WHERE tbl_name = ? AND type = 'index')" for _ in names)  # fmt: skip
        args = [n for name in names for n in (name, name)]
        total = con.execute(f"SELECT SUM(pgsize) FROM dbstat WHERE {marks}", args).fetchone()[0]
        return int(total or 0)
    except sqlite3.OperationalError:  # dbstat not compiled in
        return _file_bytes(path)
    finally:
        con.close()


def _time(fn: Callable[..., T], *args: Any) -> tuple[float, T]:
    """(milliseconds, result) of one call."""
    start = time.perf_counter()
    value = fn(*args)
    return (time.perf_counter() - start) * 1000, value


def new_entries(first: int, bodies: list[str], searchable: bool) -> list[store.NewEntry]:
    """The entries of a batch; `searchable`: with the columns `topics.entry_for` fills."""
    if not searchable:
        return [store.NewEntry(body=b, topic=TOPIC) for b in bodies]
    return [
        store.NewEntry(
            body=b,
            topic=TOPIC,
            event_id=i,
            resource_code=f"LYGA-RK-{i % 97:03d}",
            batch_ref=f"B{i // 1000}",
        )
        for i, b in enumerate(bodies, first)
    ]


def run_cityhub(
    alg: str, workdir: Path, total: int, batch: int, samples: int, searchable: bool = False
) -> Result:
    path = workdir / f"cityhub-{alg}.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    factory = session_factory(engine)
    result = Result(f"cityhub ({'SHA-256' if alg == 'sha256' else 'SM3'}, SQLite)")
    checkpoints = {total // 10, total // 2}
    for bodies in batches(total, batch):
        entries = new_entries(result.appended, bodies, searchable)
        start = time.perf_counter()
        with factory() as session, session.begin():
            ledger = store.open_for_write(session, f"bench-{alg}", alg, "bench")
            store.append(session, ledger, entries)
        result.seconds += time.perf_counter() - start
        result.appended += len(entries)
        if any(result.appended - len(entries) < c <= result.appended for c in checkpoints):
            size = _table_bytes(path, ("ledger_entries", "ledger_tiles"))
            result.growth.append((result.appended, size / result.appended))
    result.bytes_total = _table_bytes(path, ("ledger_entries", "ledger_tiles"))
    result.growth.append((total, result.bytes_total / total))
    rng = random.Random(7)
    hasher = TreeHasher(alg)
    with factory() as session:
        ledger = store.require_ledger(session, f"bench-{alg}")
        prover = store.prover(session, ledger)
        result.root = prover.root(total)
        for n in range(samples):
            index = rng.randrange(total)
            ms, proof = _time(prover.inclusion, index, total)
            result.inclusion_ms.append(ms)
            if n < 20:  # the proofs are right, not only fast
                leaf = store.leaf_hash(session, ledger, index)
                verify_inclusion(hasher, index, total, leaf, proof, result.root)
        for n in range(samples):
            first = rng.randrange(1, total)
            ms, cproof = _time(prover.consistency, first, total)
            result.consistency_ms.append(ms)
            if n < 20:
                verify_consistency(hasher, first, total, cproof, prover.root(first), result.root)
    engine.dispose()
    return result


def run_cityhub_memory(total: int, batch: int, samples: int) -> Result:
    """The same tree code without a database, against pymerkle's InmemoryTree."""
    from cityhub.ledger.merkle import MemoryTree

    tree = MemoryTree(TreeHasher("sha256"))
    result = Result("cityhub MemoryTree (SHA-256, RAM)")
    for bodies in batches(total, batch):
        data = [b.encode() for b in bodies]
        start = time.perf_counter()
        tree.append(data)
        result.seconds += time.perf_counter() - start
        result.appended += len(data)
    rng = random.Random(7)
    result.root = tree.prover.root(total)
    for _ in range(samples):
        result.inclusion_ms.append(_time(tree.prover.inclusion, rng.randrange(total), total)[0])
    for _ in range(samples):
        result.consistency_ms.append(
            _time(tree.prover.consistency, rng.randrange(1, total), total)[0]
        )
    return result


def run_storage_floor(workdir: Path, total: int, batch: int) -> Result:
    """What any SQLite-backed log must pay at least: the entries' bytes alone, written
    durably with the platform's settings (WAL, synchronous=NORMAL), 256 to a blob, no
    hashing, no index, one transaction per batch. No log can append faster than this."""
    con = sqlite3.connect(workdir / "floor.db", isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("CREATE TABLE bundle (idx INTEGER PRIMARY KEY, entries BLOB)")
    result = Result("entry bytes alone (SQLite floor)")
    for bodies in batches(total, batch):
        data = [b.encode() for b in bodies]
        start = time.perf_counter()
        rows = [
            (
                result.appended + at,
                b"".join(len(e).to_bytes(4, "big") + e for e in data[at : at + 256]),
            )
            for at in range(0, len(data), 256)
        ]
        con.execute("BEGIN IMMEDIATE")
        con.executemany("INSERT INTO bundle VALUES (?, ?)", rows)
        con.execute("COMMIT")
        result.seconds += time.perf_counter() - start
        result.appended += len(data)
    con.close()
    result.bytes_total = _table_bytes(workdir / "floor.db", ("bundle",))
    return result


def run_pymerkle_sqlite(workdir: Path, total: int, batch: int, samples: int) -> Result:
    from pymerkle import SqliteTree

    tree = SqliteTree(str(workdir / "pymerkle.db"), algorithm="sha256")
    result = Result("pymerkle SqliteTree (SHA-256)")
    for bodies in batches(total, batch):
        data = [b.encode() for b in bodies]
        start = time.perf_counter()
        tree.append_entries(data)
        result.seconds += time.perf_counter() - start
        result.appended += len(data)
    result.bytes_total = _table_bytes(workdir / "pymerkle.db", ("leaf",))
    result.growth.append((total, result.bytes_total / total))
    _pymerkle_proofs(tree, result, total, samples)
    tree.close()
    return result


def run_pymerkle_memory(total: int, batch: int, samples: int) -> Result:
    from pymerkle import InmemoryTree

    tree = InmemoryTree(algorithm="sha256")
    result = Result("pymerkle InmemoryTree (SHA-256)")
    for bodies in batches(total, batch):
        data = [b.encode() for b in bodies]
        start = time.perf_counter()
        tree.append_entries(data)
        result.seconds += time.perf_counter() - start
        result.appended += len(data)
    _pymerkle_proofs(tree, result, total, samples)
    return result


def _pymerkle_proofs(tree: object, result: Result, total: int, samples: int) -> None:
    rng = random.Random(7)
    prove_inclusion = tree.prove_inclusion  # type: ignore[attr-defined]
    prove_consistency = tree.prove_consistency  # type: ignore[attr-defined]
    result.cold_ms, _ = _time(prove_inclusion, rng.randrange(1, total + 1), total)
    result.root = tree.get_root(total)  # type: ignore[attr-defined]
    for _ in range(samples):
        index = rng.randrange(1, total + 1)  # pymerkle counts leaves from 1
        result.inclusion_ms.append(_time(prove_inclusion, index, total)[0])
    for _ in range(samples):
        first = rng.randrange(1, total)
        result.consistency_ms.append(_time(prove_consistency, first, total)[0])


def _stats(values: list[float]) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"{statistics.median(ordered):.3f} / {p99:.3f}"


def report(results: list[Result], total: int) -> None:
    print(f"\nLedger benchmark: {total:,} entries, batches as given, one transaction each")
    head = f"{'':34}{'appends/s':>12}{'inclusion ms':>18}{'consistency ms':>18}{'bytes/entry':>13}"
    print(head + "\n" + f"{'':34}{'':>12}{'median / p99':>18}{'median / p99':>18}")
    for r in results:
        per_entry = f"{r.bytes_total / total:.0f}" if r.bytes_total else "(RAM)"
        print(
            f"{r.name:34}{r.rate:>12,.0f}{_stats(r.inclusion_ms):>18}"
            f"{_stats(r.consistency_ms):>18}{per_entry:>13}"
        )
    by_name = {r.name: r for r in results}
    pairs = [
        ("cityhub (SHA-256, SQLite)", "pymerkle SqliteTree (SHA-256)"),
        ("cityhub MemoryTree (SHA-256, RAM)", "pymerkle InmemoryTree (SHA-256)"),
    ]
    floor, peer = by_name.get("entry bytes alone (SQLite floor)"), by_name.get(pairs[0][1])
    if floor and peer:
        print(f"the SQLite floor is {floor.rate / peer.rate:.2f}x pymerkle SqliteTree's rate")
    for mine, theirs in pairs:
        if mine in by_name and theirs in by_name:
            ours, peer = by_name[mine], by_name[theirs]
            same = "same root" if peer.root == ours.root else "ROOTS DIFFER"
            cold = f"; its first proof took {peer.cold_ms:.0f} ms" if peer.cold_ms else ""
            print(f"{mine} vs {theirs}: {ours.rate / peer.rate:.2f}x appends/s, {same}{cold}")
    for r in results:
        if len(r.growth) > 1:
            points = ", ".join(f"{n:,}: {b:.0f}" for n, b in r.growth)
            print(f"storage growth of {r.name} (entries: bytes/entry): {points}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--ten-million", action="store_true", help="--entries 10000000")
    parser.add_argument("--batch", type=int, default=10_000, help="entries per transaction")
    parser.add_argument("--samples", type=int, default=1000, help="proofs timed per kind")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the databases here")
    parser.add_argument(
        "--as-sequenced",
        action="store_true",
        help="fill cityhub's search columns (event id, resource, batch) as the sequencer does",
    )
    parser.add_argument(
        "--pymerkle-memory-limit",
        type=int,
        default=2_000_000,
        help="skip pymerkle's InmemoryTree above this many entries (it holds all in RAM)",
    )
    args = parser.parse_args()
    total = 10_000_000 if args.ten_million else args.entries
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        results = []
        for alg in ("sha256", "sm3"):
            print(f"cityhub {alg}: appending {total:,} entries ...", flush=True)
            results.append(
                run_cityhub(alg, workdir, total, args.batch, args.samples, args.as_sequenced)
            )
            gc.collect()
        print(f"pymerkle SqliteTree: appending {total:,} entries ...", flush=True)
        results.append(run_pymerkle_sqlite(workdir, total, args.batch, args.samples))
        print(f"the entries' bytes alone: writing {total:,} entries ...", flush=True)
        results.append(run_storage_floor(workdir, total, args.batch))
        if total <= args.pymerkle_memory_limit:
            print(f"in RAM: appending {total:,} entries to both ...", flush=True)
            results.append(run_cityhub_memory(total, args.batch, args.samples))
            results.append(run_pymerkle_memory(total, args.batch, args.samples))
        report(results, total)


if __name__ == "__main__":
    main()
