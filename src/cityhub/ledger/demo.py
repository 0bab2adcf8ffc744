"""The ledger of the demo city: everything the demo built is notarized, a head is signed,
and the Big Data Bureau's witness cosigns it. Idempotent: a re-run adds only what is new.
"""

from __future__ import annotations

import base64

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhub.directory.models import Organization
from cityhub.ledger import heads, store
from cityhub.ledger.keys import KEY_FILE, Signer, create_key_file, platform_signer
from cityhub.ledger.models import LedgerWitness
from cityhub.ledger.sequencer import sequence_once
from cityhub.ledger.verify import cosign_message, head_message
from cityhub.settings import Settings

WITNESS_ORG = "LYDSJ"
WITNESS_NAME = "LYDSJ-witness"


def build(session: Session, settings: Settings, seed: int) -> None:
    del seed  # nothing random here
    witness_key = Signer(create_key_file(settings.data_dir / KEY_FILE.parent / "demo-witness.pem"))
    witness = session.scalar(select(LedgerWitness).where(LedgerWitness.name == WITNESS_NAME))
    org = session.scalar(select(Organization).where(Organization.code == WITNESS_ORG))
    if witness is None and org is not None:  # registered first: its event is notarized too
        public = base64.b64encode(witness_key.public_key).decode()
        heads.register_witness(
            session, None, name=WITNESS_NAME, public_key=public, org_code=WITNESS_ORG
        )
    while sequence_once(session, settings).appended:
        pass  # in the demo's own transaction: it already holds the write lock
    ledger = store.get_ledger(session)
    if ledger is None or org is None:
        return
    latest = heads.latest_head(session, ledger)
    if latest is not None and latest.size == ledger.size:
        return
    head = heads.publish_head(session, ledger, platform_signer(settings))
    stamp = heads.now_ms()
    message = head_message(ledger.origin, ledger.hash_alg, head.size, head.root, head.timestamp_ms)
    heads.add_cosignature(
        session,
        ledger,
        size=head.size,
        root=bytes(head.root).hex(),
        key=witness_key.key_id,
        timestamp=stamp,
        signature=base64.b64encode(witness_key.sign(cosign_message(message, stamp))).decode(),
    )
