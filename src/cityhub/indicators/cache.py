"""Answers of the indicator and cockpit APIs, serialized once and kept briefly: they only
change when a recompute writes new values, which marks them stale in this process; other
processes' recomputes are seen within the time-to-live.

One request rebuilds a missing or stale answer while the others are served the previous
one (or, when there is none yet, wait for that build): twenty clients arriving just after
a recompute cost one build, not twenty.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from fastapi.responses import Response
from pydantic import BaseModel

TTL_SECONDS = 2.0
MAX_ENTRIES = 512
WAIT_SECONDS = 30.0  # a waiter builds itself when the first build takes longer than this


@dataclass(frozen=True)
class _Answer:
    body: bytes
    media: str
    expires: float  # monotonic
    generation: int  # of the cache when its build began


class ReadCache:
    def __init__(self, ttl: float = TTL_SECONDS) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._items: dict[Hashable, _Answer] = {}
        self._building: dict[Hashable, threading.Event] = {}
        self._generation = 0

    def answer(self, key: Hashable, build: Callable[[], BaseModel]) -> Response:
        """The cached JSON of `build()`, built when absent or stale."""
        return self.raw(key, lambda: (build().model_dump_json().encode(), "application/json"))

    def raw(self, key: Hashable, build: Callable[[], tuple[bytes, str]]) -> Response:
        """The cached (body, media type) of `build()`, built when absent or stale."""
        with self._lock:
            found = self._items.get(key)
            if found is not None and self._fresh(found):
                return _response(found)
            flight = self._building.get(key)
            mine = flight is None
            if flight is None:
                flight = self._building[key] = threading.Event()
            generation = self._generation
        if not mine:
            if found is not None:
                return _response(found)  # stale for the few ms another request rebuilds it
            flight.wait(WAIT_SECONDS)
            with self._lock:
                found = self._items.get(key)
            if found is not None:
                return _response(found)
            body, media = build()  # the first build failed: this request tries on its own
            return Response(content=body, media_type=media)
        try:
            body, media = build()
            with self._lock:
                if len(self._items) >= MAX_ENTRIES:
                    self._items.clear()
                # Cleared while building: kept for waiters, stale for the next request.
                self._items[key] = _Answer(body, media, time.monotonic() + self.ttl, generation)
        finally:
            with self._lock:
                del self._building[key]
            flight.set()
        return Response(content=body, media_type=media)

    def clear(self) -> None:
        """New values were written: every answer is stale from now on."""
        with self._lock:
            self._generation += 1

    def _fresh(self, found: _Answer) -> bool:
        return found.generation == self._generation and found.expires > time.monotonic()


def _response(found: _Answer) -> Response:
    return Response(content=found.body, media_type=found.media)


def cache_of(app: Any) -> ReadCache:
    found: ReadCache | None = getattr(app.state, "indicator_cache", None)
    if found is None:
        found = ReadCache()
        app.state.indicator_cache = found
    return found
