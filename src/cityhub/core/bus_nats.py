"""The event bus over NATS JetStream (`CITYHUB_BUS_URL=nats://host:4222`): the same
`publish` / `subscribe` as `core.events.EventBus`, between processes.

- **publish** stores the event in a JetStream stream with `Nats-Msg-Id` = the outbox id:
  publishing the same event twice (a retry, two relays) stores it once.
- **subscribe** joins a durable pull consumer named after the group (by default the
  handler's qualified name): every process subscribing the same handler shares the one
  consumer, so each event goes to one of them (a queue group) and adding a worker adds
  throughput.
- A handler's event is acknowledged (double ack: the server confirms) only after the
  handler returned; a handler that raised, or a worker that died, leaves it
  unacknowledged and JetStream redelivers it (after `ack_wait`) to a worker of the
  group: nothing is lost, and a confirmed event is never delivered again.

nats-py is asyncio; the bus runs its own event loop in a daemon thread so callers stay
synchronous. Nothing connects before the first publish or subscribe.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import logging
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from cityhub.core.events import Event, Handler
from cityhub.errors import ServiceUnavailable

log = logging.getLogger("cityhub.bus")
T = TypeVar("T")
DEFAULT_STREAM = "CITYHUB_EVENTS"
DEFAULT_PREFIX = "cityhub.events"


def filter_subject(prefix: str, pattern: str) -> str:
    """The narrowest NATS subject covering a shell-style topic pattern.

    `exchange.batch.completed` is exact; anything from the first token holding a
    wildcard on becomes `>` (a shell `*` also crosses dots); the exact pattern is then
    matched on each event.
    """
    exact: list[str] = []
    for token in pattern.split("."):
        if any(ch in token for ch in "*?["):
            return ".".join([prefix, *exact, ">"])
        exact.append(token)
    return ".".join([prefix, *exact])


def _group_of(handler: Handler) -> str:
    name = getattr(handler, "__qualname__", None) or type(handler).__name__
    module = getattr(handler, "__module__", "") or ""
    raw = f"{module}.{name}" if module else name
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in raw)[:120]


@dataclass
class _Subscription:
    pattern: str
    handler: Handler
    group: str
    task: Any = None


class NatsEventBus:
    """publish/subscribe over JetStream; see the module docstring."""

    def __init__(
        self,
        url: str,
        *,
        stream: str = DEFAULT_STREAM,
        prefix: str = DEFAULT_PREFIX,
        ack_wait: float = 30.0,
        connect_timeout: float = 5.0,
        fetch_batch: int = 32,
    ) -> None:
        self.url = url
        self.stream = stream
        self.prefix = prefix
        self.ack_wait = ack_wait
        self.connect_timeout = connect_timeout
        self.fetch_batch = fetch_batch
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._nc: Any = None
        self._js: Any = None
        self._lock = threading.Lock()
        self._subs: list[_Subscription] = []
        self._closing = False

    # -- the loop thread -------------------------------------------------------------------

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="cityhub-nats", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self._ensure_loop())
        return future.result(timeout)

    async def _connect(self) -> Any:
        if self._js is not None:
            return self._js
        import nats
        from nats.js.api import StreamConfig
        from nats.js.errors import BadRequestError

        try:
            self._nc = await nats.connect(
                self.url,
                connect_timeout=self.connect_timeout,
                max_reconnect_attempts=-1,
                name="cityhub",
            )
        except Exception as exc:
            raise ServiceUnavailable(f"event bus {self.url} is unreachable: {exc}") from None
        js = self._nc.jetstream()
        config = StreamConfig(
            name=self.stream,
            subjects=[f"{self.prefix}.>"],
            duplicate_window=120.0,
            max_age=7 * 86400.0,
        )
        with contextlib.suppress(BadRequestError):  # it exists already: use it as it is
            await js.add_stream(config)
        self._js = js
        return js

    # -- the EventBus interface ----------------------------------------------------------------

    def subject(self, topic: str) -> str:
        return f"{self.prefix}.{topic}"

    def publish(self, evt: Event) -> None:
        """Store the event in the stream; a repeated outbox id is stored once.

        Called after a commit: a bus that is down is logged, never raised into the
        caller whose change already committed (the event stays in the outbox)."""
        try:
            self._call(self._publish(evt), timeout=self.connect_timeout + 10)
        except Exception:
            log.exception("event not published to the bus", extra={"topic": evt.topic})

    async def _publish(self, evt: Event) -> None:
        js = await self._connect()
        body = json.dumps(
            {
                "id": evt.id,
                "topic": evt.topic,
                "payload": evt.payload,
                "actor": evt.actor,
                "at": evt.at.isoformat(),
            },
            ensure_ascii=False,
            default=str,
        ).encode()
        await js.publish(self.subject(evt.topic), body, headers={"Nats-Msg-Id": str(evt.id)})

    def subscribe(self, pattern: str, handler: Handler, group: str | None = None) -> None:
        """Join the durable consumer of `group` (default: the handler's name)."""
        sub = _Subscription(pattern, handler, group or _group_of(handler))
        self._subs.append(sub)
        self._call(self._start(sub), timeout=self.connect_timeout + 10)

    async def _start(self, sub: _Subscription) -> None:
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

        js = await self._connect()
        config = ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self.ack_wait,
            max_ack_pending=10_000,
        )
        pull = await js.pull_subscribe(
            filter_subject(self.prefix, sub.pattern),
            durable=sub.group,
            stream=self.stream,
            config=config,
        )
        sub.task = asyncio.get_running_loop().create_task(self._consume(sub, pull))

    async def _consume(self, sub: _Subscription, pull: Any) -> None:
        import nats.errors

        loop = asyncio.get_running_loop()
        while not self._closing:
            try:
                messages = await pull.fetch(batch=self.fetch_batch, timeout=1.0)
            except (TimeoutError, nats.errors.TimeoutError):
                continue
            except Exception:  # reconnecting: try again shortly
                if self._closing:
                    return
                await asyncio.sleep(0.5)
                continue
            for msg in messages:
                await self._handle(sub, msg, loop)

    async def _handle(self, sub: _Subscription, msg: Any, loop: asyncio.AbstractEventLoop) -> None:
        try:
            data = json.loads(msg.data)
            evt = Event(
                int(data["id"]),
                str(data["topic"]),
                data.get("payload") or {},
                str(data.get("actor", "")),
                datetime.fromisoformat(data["at"]),
            )
        except (ValueError, KeyError, TypeError):
            log.error("dropping a malformed event", extra={"subject": msg.subject})
            await msg.term()
            return
        if not fnmatch.fnmatchcase(evt.topic, sub.pattern):
            await msg.ack()
            return
        try:
            await loop.run_in_executor(None, sub.handler, evt)
        except Exception:  # redelivered later, to this worker or another of the group
            log.exception("event handler failed; the event will be redelivered",
                          extra={"topic": evt.topic})  # fmt: skip
            await msg.nak(delay=1.0)
            return
        try:
            await msg.ack_sync(timeout=5.0)
        except Exception:  # the server did not confirm: it redelivers, the handler decides
            log.warning("ack not confirmed", extra={"topic": evt.topic})

    def close(self) -> None:
        """Stop consuming and disconnect (pending work stays in the stream)."""
        if self._loop is None:
            return
        self._closing = True

        async def shutdown() -> None:
            tasks = [sub.task for sub in self._subs if sub.task is not None]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self._nc is not None:
                with contextlib.suppress(Exception):  # already closed, or the server is gone
                    await asyncio.wait_for(self._nc.close(), 5.0)

        try:
            self._call(shutdown(), timeout=10)
        except Exception:
            log.warning("event bus did not close cleanly")
        loop = self._loop
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
        if not loop.is_running():
            loop.close()
        self._loop = None
        self._nc = self._js = None


def event_bus(bus_url: str) -> Any:
    """NATS JetStream when a bus URL is set, the in-process bus otherwise."""
    if bus_url:
        return NatsEventBus(bus_url)
    from cityhub.core.events import EventBus

    return EventBus()
