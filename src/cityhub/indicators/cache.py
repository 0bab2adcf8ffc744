"""Answers of the indicator and cockpit APIs, serialized once and kept briefly: they only
change when a recompute writes new values, which clears them in this process; other
processes' recomputes are seen within the time-to-live."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from fastapi.responses import Response
from pydantic import BaseModel

TTL_SECONDS = 2.0
MAX_ENTRIES = 512


class ReadCache:
    def __init__(self, ttl: float = TTL_SECONDS) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._items: dict[Hashable, tuple[float, bytes, str]] = {}

    def answer(self, key: Hashable, build: Callable[[], BaseModel]) -> Response:
        """The cached JSON of `build()`, built when absent or stale."""
        return self.raw(key, lambda: (build().model_dump_json().encode(), "application/json"))

    def raw(self, key: Hashable, build: Callable[[], tuple[bytes, str]]) -> Response:
        """The cached (body, media type) of `build()`, built when absent or stale."""
        now = time.monotonic()
        with self._lock:
            found = self._items.get(key)
        if found is None or found[0] < now:
            body, media = build()
            with self._lock:
                if len(self._items) >= MAX_ENTRIES:
                    self._items.clear()
                self._items[key] = (now + self.ttl, body, media)
        else:
            body, media = found[1], found[2]
        return Response(content=body, media_type=media)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def cache_of(app: Any) -> ReadCache:
    found: ReadCache | None = getattr(app.state, "indicator_cache", None)
    if found is None:
        found = ReadCache()
        app.state.indicator_cache = found
    return found
