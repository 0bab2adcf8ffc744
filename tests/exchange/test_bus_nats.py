"""The NATS JetStream event bus against a real server (CITYHUB_TEST_BUS_URL): two
workers of one group share the load, nothing is lost, nothing is applied twice."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest

from cityhub.core.bus_nats import NatsEventBus, event_bus, filter_subject
from cityhub.core.events import Event, EventBus

URL = os.environ.get("CITYHUB_TEST_BUS_URL", "")
needs_nats = pytest.mark.skipif(
    not URL, reason="set CITYHUB_TEST_BUS_URL=nats://127.0.0.1:4222 (NATS with JetStream)"
)


def test_topic_patterns_become_subjects() -> None:
    assert filter_subject("p", "exchange.batch.completed") == "p.exchange.batch.completed"
    assert filter_subject("p", "exchange.*") == "p.exchange.>"
    assert filter_subject("p", "*") == "p.>"
    assert isinstance(event_bus(""), EventBus)
    assert isinstance(event_bus("nats://127.0.0.1:4222"), NatsEventBus)


@pytest.fixture
def buses() -> Iterator[list[NatsEventBus]]:
    tag = uuid.uuid4().hex[:10]
    made = [NatsEventBus(URL, stream=f"T_{tag}", prefix=f"t{tag}", ack_wait=2.0) for _ in range(3)]
    yield made
    for bus in made:
        bus.close()


def _wait(predicate: object, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)


@needs_nats
def test_two_workers_share_the_load_nothing_lost_nothing_twice(buses: list[NatsEventBus]) -> None:
    publisher, worker_a, worker_b = buses
    seen: Counter[int] = Counter()
    by_worker: Counter[str] = Counter()
    lock = threading.Lock()
    failed_once: set[int] = set()

    def handler_for(name: str):  # type: ignore[no-untyped-def]
        def handle(evt: Event) -> None:
            if evt.id % 50 == 0 and evt.id not in failed_once:
                failed_once.add(evt.id)
                raise RuntimeError("a transient failure: redelivered")
            time.sleep(0.002)
            with lock:
                seen[evt.id] += 1
                by_worker[name] += 1

        return handle

    worker_a.subscribe("exchange.batch.*", handler_for("a"), group="exchange-workers")
    worker_b.subscribe("exchange.batch.*", handler_for("b"), group="exchange-workers")
    total = 300
    for n in range(1, total + 1):
        publisher.publish(Event(n, "exchange.batch.completed", {"batch_id": n}))
    for n in range(1, 31):  # the same outbox events relayed again: stored once
        publisher.publish(Event(n, "exchange.batch.completed", {"batch_id": n}))
    publisher.publish(Event(10_000, "catalog.resource.published", {"code": "x"}))
    _wait(lambda: len(seen) >= total)
    time.sleep(0.5)
    assert sorted(seen) == list(range(1, total + 1))  # nothing lost (failures redelivered)
    assert max(seen.values()) == 1  # nothing applied twice
    assert by_worker["a"] > 0 and by_worker["b"] > 0  # the load was shared
    assert failed_once  # some events failed once and still arrived


@needs_nats
def test_a_worker_that_dies_without_acknowledging_loses_nothing(
    buses: list[NatsEventBus],
) -> None:
    publisher, doomed, survivor = buses
    got: list[int] = []
    stuck = threading.Event()

    def hang(evt: Event) -> None:
        stuck.set()
        time.sleep(4)  # outlives ack_wait: its event is never acknowledged in time

    doomed.subscribe("sensing.*", hang, group="g")
    publisher.publish(Event(1, "sensing.reading", {}))
    _wait(stuck.is_set, 10)
    doomed._closing = True  # the worker stops consuming, as if it had died
    survivor.subscribe("sensing.*", lambda evt: got.append(evt.id), group="g")
    publisher.publish(Event(2, "sensing.reading", {}))
    _wait(lambda: sorted(got) == [1, 2], 20)
    assert sorted(got) == [1, 2]
    time.sleep(2)  # let the hung handler return before the buses close
