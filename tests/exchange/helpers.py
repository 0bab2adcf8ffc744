"""Assertions shared by the exchange tests."""

from __future__ import annotations

from typing import Any

import httpx

from cityhub.catalog.vocab import DataType
from cityhub.gateway.resources import ItemInfo
from cityhub.library import datastore as ds


def problem(response: httpx.Response, status: int, detail: str) -> dict[str, Any]:
    """The answer is an RFC 9457 problem with this status whose detail says `detail`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert detail in body["detail"], body["detail"]
    assert "Traceback" not in response.text
    return body


def text_item(code: str, kind: ds.ColumnKind, length: int | None = None) -> ItemInfo:
    """A delivered item of text type, as the checks see it."""
    return ItemInfo(code, code, code, kind, DataType.string, length, "", "")
