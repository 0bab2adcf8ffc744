"""Keyset pagination: `limit` and an opaque `cursor`, answers `{"items": [...], "next": ...}`."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from cityhub.errors import BadRequest

T = TypeVar("T")

LimitParam = Annotated[int, Query(ge=1, le=1000, description="Page size (1-1000).")]
CursorParam = Annotated[
    str | None, Query(description="Opaque cursor from the previous page's `next`.")
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next: str | None = None


def encode_cursor(key: Sequence[Any]) -> str:
    raw = json.dumps(list(key), separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, json.JSONDecodeError):
        raise BadRequest("cursor is not one this server issued") from None
    if not isinstance(value, list):
        raise BadRequest("cursor is not one this server issued")
    return value


R = TypeVar("R")


def page_of(
    rows: Sequence[R],
    limit: int,
    to_item: Callable[[R], T],
    key: Callable[[T], Sequence[Any]],
) -> Page[T]:
    """A page from `limit + 1` fetched rows: the extra row only says whether more follow."""
    items = [to_item(row) for row in rows[:limit]]
    more = len(rows) > limit and items
    return Page(items=items, next=encode_cursor(key(items[-1])) if more else None)
