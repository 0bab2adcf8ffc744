"""The answer cache of the indicator APIs: one build per key however many ask at once,
the previous answer while it is rebuilt, and a new one after new values are written."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from cityhub.indicators.cache import ReadCache


def _counting(
    value: list[int], delay: float = 0.0
) -> tuple[list[int], Callable[[], tuple[bytes, str]]]:
    calls: list[int] = []

    def build() -> tuple[bytes, str]:
        calls.append(1)
        time.sleep(delay)
        return str(value[0]).encode(), "text/plain"

    return calls, build


def test_concurrent_misses_build_once() -> None:
    cache = ReadCache()
    calls, build = _counting([1], delay=0.2)
    with ThreadPoolExecutor(20) as pool:
        bodies = list(pool.map(lambda _: cache.raw("k", build).body, range(20)))
    assert bodies == [b"1"] * 20
    assert len(calls) == 1


def test_after_clear_the_next_request_rebuilds() -> None:
    cache = ReadCache()
    value = [1]
    calls, build = _counting(value)
    assert cache.raw("k", build).body == b"1"
    assert cache.raw("k", build).body == b"1"
    assert len(calls) == 1
    value[0] = 2
    cache.clear()
    assert cache.raw("k", build).body == b"2"
    assert len(calls) == 2


def test_others_get_the_stale_answer_while_one_rebuilds() -> None:
    cache = ReadCache()
    value = [1]
    calls, build = _counting(value, delay=0.3)
    cache.raw("k", build)
    value[0] = 2
    cache.clear()
    rebuilding = threading.Thread(target=cache.raw, args=("k", build))
    rebuilding.start()
    time.sleep(0.05)
    started = time.perf_counter()
    assert cache.raw("k", build).body == b"1"
    assert time.perf_counter() - started < 0.1  # not held up by the rebuild
    rebuilding.join()
    assert cache.raw("k", build).body == b"2"
    assert len(calls) == 2


def test_expired_answers_are_rebuilt() -> None:
    cache = ReadCache(ttl=0.05)
    value = [1]
    calls, build = _counting(value)
    cache.raw("k", build)
    value[0] = 3
    time.sleep(0.06)
    assert cache.raw("k", build).body == b"3"
    assert len(calls) == 2


def test_a_failed_build_lets_the_waiters_try_themselves() -> None:
    cache = ReadCache()
    attempts: list[int] = []
    gate = threading.Event()

    def build() -> tuple[bytes, str]:
        attempts.append(1)
        if len(attempts) == 1:
            gate.wait(1)
            raise RuntimeError("database went away")
        return b"ok", "text/plain"

    failing = ThreadPoolExecutor(1).submit(cache.raw, "k", build)
    time.sleep(0.05)
    waiter = ThreadPoolExecutor(1).submit(cache.raw, "k", build)
    time.sleep(0.05)
    gate.set()
    with pytest.raises(RuntimeError):
        failing.result()
    assert waiter.result().body == b"ok"
    assert cache.raw("k", build).body == b"ok"
