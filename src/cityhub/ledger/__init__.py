"""The ledger (区块链赋能, guideline 4.1.2.4): a verifiable Merkle log of every delivery,
grant, approval and version, with signed tree heads, witnesses and offline proofs.

Other packages need only `receipt_for_event(session, event_id)`: put its result into a
response so the consumer can later prove what it received.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["receipt_for_event"]


def receipt_for_event(session: Session, event_id: int) -> dict[str, Any]:
    """The receipt of outbox event `event_id`: `proven` (entry index, leaf hash, signed tree
    head, inclusion proof), or `pending`/`sequenced` with `proof_url` to fetch it later."""
    from cityhub.ledger.receipts import receipt_for_event as build

    return build(session, event_id)
