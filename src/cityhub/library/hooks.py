"""Who wants to hear, inside the merge's transaction, what a merge changed.

`on_merge(listener(session, resource_code, before, after))`: the rows whose values
changed, as item columns, as they were (`before`: changed and removed rows) and as they
are now (`after`: inserted and changed rows). `resource_code` is the resource whose table
changed (the library's, for a feed). Listeners run in the merge's transaction: what they
record commits or rolls back with it. The exchange's change feed and the derivations'
dirty keys are both recorded this way.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
from sqlalchemy.orm import Session

MergeListener = Callable[[Session, str, pl.DataFrame, pl.DataFrame], None]
_LISTENERS: list[MergeListener] = []


def on_merge(listener: MergeListener) -> MergeListener:
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)
    return listener


def merged(session: Session, resource_code: str, before: pl.DataFrame, after: pl.DataFrame) -> None:
    for listener in list(_LISTENERS):
        listener(session, resource_code, before, after)
