"""The demo city's ledger: notarized, signed and cosigned; a re-run adds nothing."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction
from cityhub.directory.models import Organization
from cityhub.ledger import demo, heads, store
from cityhub.ledger.models import LedgerHead
from cityhub.ledger.verify import parse_keys, verify_head
from cityhub.settings import Settings

from .conftest import Emitter


def test_demo_ledger_is_built_once_and_cosigned(
    db: sessionmaker[Session],
    settings: Settings,
    org: Callable[..., Organization],
    emit_events: Emitter,
) -> None:
    org("LYDSJ", "临沂市大数据局")
    emit_events(4)
    for _ in range(2):
        with transaction(db) as session:
            demo.build(session, settings, 1)
    with db() as session:
        ledger = store.require_ledger(session)
        assert ledger.size == 5  # the four events and the witness's registration
        assert session.scalar(select(func.count()).select_from(LedgerHead)) == 1
        head = heads.latest_head(session, ledger)
        assert head is not None
        [doc] = heads.documents(session, ledger, [head])
        keys = parse_keys(heads.key_documents(session), "keys")
        witnesses = parse_keys(heads.witness_key_documents(session), "witnesses")
    assert verify_head(doc, keys, witnesses)[1] == ["LYDSJ-witness"]
