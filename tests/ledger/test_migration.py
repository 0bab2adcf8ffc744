"""ledger_0002: the nodes stored per entry move to tiles unchanged, and back on downgrade."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, text

from cityhub.core.db import make_engine, session_factory
from cityhub.core.migrations import alembic_config, upgrade
from cityhub.ledger import store
from cityhub.ledger.audit import run_audit
from cityhub.ledger.verify import TreeHasher, verify_inclusion
from cityhub.settings import Settings

N = 600  # two full tiles and a partial one at level 0


def _old_rows(hasher: TreeHasher, bodies: list[bytes]) -> list[bytes]:
    """ledger_0001's layout: row i = leaf i, then the roots of the subtrees it closed."""
    levels = [[hasher.leaf(b) for b in bodies]]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([hasher.node(below[j], below[j + 1]) for j in range(0, len(below) - 1, 2)])
    rows = []
    for i in range(len(bodies)):
        closes = ((i + 1) & -(i + 1)).bit_length()
        rows.append(b"".join(levels[lv][((i + 1) >> lv) - 1] for lv in range(closes)))
    return rows


def _migrate(engine: Engine, target: str) -> None:
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, target)


def test_stored_nodes_move_to_tiles_and_back(settings: Settings) -> None:
    engine = make_engine(settings.effective_database_url)
    hasher = TreeHasher("sm3")
    bodies = [f'{{"n":{i}}}'.encode() for i in range(N)]
    rows = _old_rows(hasher, bodies)
    try:
        _migrate(engine, "ledger_0001")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO ledgers (name, origin, hash_alg, size, scan_floor, created_at, "
                    "updated_at) VALUES ('main', 'o', 'sm3', :n, 0, :t, :t)"
                ),
                {"n": N, "t": "2026-01-01 00:00:00"},
            )
            lid = conn.execute(text("SELECT id FROM ledgers")).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO ledger_entries (ledger_id, idx, topic, body, hashes, created_at) "
                    "VALUES (:l, :i, 'test.entry', :b, :h, :t)"
                ),
                [
                    {"l": lid, "i": i, "b": b.decode(), "h": h, "t": "2026-01-01 00:00:00"}
                    for i, (b, h) in enumerate(zip(bodies, rows, strict=True))
                ],
            )
        upgrade(engine)
        factory = session_factory(engine)
        root = hasher.root_of_leaves([hasher.leaf(b) for b in bodies])
        with factory() as session:
            ledger = store.require_ledger(session)
            prover = store.prover(session, ledger)
            assert prover.root(N) == root
            for index in (0, 255, 256, 599):
                leaf = store.leaf_hash(session, ledger, index)
                verify_inclusion(hasher, index, N, leaf, prover.inclusion(index, N), root)
        assert run_audit(factory).ok
        with factory() as session, session.begin():  # the log goes on from the moved edge
            ledger = store.open_for_write(session, "main", "sm3", "o")
            store.append(session, ledger, [store.NewEntry(body='{"n":600}', topic="test.entry")])
        _migrate(engine, "ledger_0001")
        with engine.connect() as conn:
            back = conn.execute(text("SELECT hashes FROM ledger_entries ORDER BY idx")).all()
        assert [bytes(h) for (h,) in back[:N]] == rows
        assert bytes(back[N][0]) == hasher.leaf(b'{"n":600}')  # closes no subtree
    finally:
        upgrade(engine)
        engine.dispose()
