"""The MQTT ingester: `cityhub/{org}/{device}/telemetry` and `.../status` in, time series out.

Delivery guarantees, and how they are kept:
- QoS 1 and a persistent session (MQTT 5, clean start off, a long session expiry, a fixed
  client id): while the ingester is away the broker keeps its messages.
- Manual acknowledgement: a message is acknowledged (PUBACK) only after the transaction
  holding its readings has committed. If the ingester dies first, the broker sends it
  again; the readings' primary key makes the second copy a counted duplicate, never a
  second row. If the database fails, the batch is retried until it is stored.
- Shared subscription `$share/cityhub/...`: several ingesters split the devices' messages.
  A broker keeps queueing an absent ingester's share for its session (Mosquitto does), so
  give each ingester a stable client id and retire one with `end_session()`.
Bad messages are refused with a reason and acknowledged: they never stop the ingester.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.events import EventBus, attach
from cityhub.errors import ConfigError
from cityhub.sensing.ingest import Message, ingest, now_ms
from cityhub.settings import Settings

log = logging.getLogger("cityhub.sensing.mqtt")

TOPIC_ROOT = "cityhub"
SHARE_GROUP = "cityhub"
SESSION_EXPIRY_S = 7 * 24 * 3600
RECEIVE_MAXIMUM = 4000  # unacknowledged messages the broker may send us at once
BATCH_MAX = 2000  # messages stored in one transaction
BATCH_WAIT_S = 0.1  # how long a batch waits to fill: latency traded for throughput


Received = tuple[str, bytes | bytearray, int, int]  # topic, payload, message id, QoS


def topic(org: str, device: str, kind: str = "telemetry") -> str:
    return f"{TOPIC_ROOT}/{org}/{device}/{kind}"


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None


def parse_url(url: str) -> Broker:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ConfigError(f"CITYHUB_MQTT_URL {url!r} is not an mqtt:// or mqtts:// URL")
    try:
        port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
    except ValueError:
        raise ConfigError(f"CITYHUB_MQTT_URL {url!r} has an invalid port") from None
    return Broker(
        parts.hostname,
        port,
        parts.scheme == "mqtts",
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
    )


def make_client(broker: Broker, client_id: str, **kwargs: Any) -> mqtt.Client:
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, **kwargs
    )
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    if broker.tls:
        client.tls_set()
    client.reconnect_delay_set(min_delay=1, max_delay=10)
    return client


def read_topic(name: str) -> tuple[str, str, str] | None:
    """(org, device, kind) of `cityhub/{org}/{device}/{telemetry|status}`."""
    parts = name.split("/")
    if len(parts) != 4 or parts[0] != TOPIC_ROOT or parts[3] not in ("telemetry", "status"):
        return None
    return parts[1], parts[2], parts[3]


class MqttIngester:
    """Subscribes, stores in batches, acknowledges after commit. start() / stop()."""

    def __init__(
        self,
        settings: Settings,
        factory: sessionmaker[Session],
        *,
        bus: EventBus | None = None,
        client_id: str | None = None,
        url: str | None = None,
        shared: bool = True,
        group: str = SHARE_GROUP,
    ) -> None:
        self.settings = settings
        self.factory = factory
        self.bus = bus
        self.broker = parse_url(url or settings.mqtt_url)
        self.client_id = client_id or settings.mqtt_client_id
        prefix = f"$share/{group}/" if shared else ""
        self.filters = [f"{prefix}{TOPIC_ROOT}/+/+/telemetry", f"{prefix}{TOPIC_ROOT}/+/+/status"]
        # (topic, payload, mid, qos): not paho's message objects, whose ~50 containers each
        # (MQTT 5 properties, a Condition) would survive in the queue into the old GC
        # generations and make every collection walk them.
        self._inbox: queue.Queue[Received] = queue.Queue()
        self._stop = threading.Event()
        self._abort = threading.Event()
        self._worker: threading.Thread | None = None
        self.connected = threading.Event()
        self.received = 0
        self.stored_messages = 0
        self.failures = 0
        self.client = make_client(self.broker, self.client_id, manual_ack=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe

    # -- paho callbacks (its network thread) --------------------------------------------

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.error("MQTT connection refused", extra={"reason": str(reason)})
            return
        client.subscribe([(f, 1) for f in self.filters])
        log.info("MQTT ingester connected", extra={"client_id": self.client_id})

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, reasons: Any, _p: Any) -> None:
        if any(r.is_failure for r in reasons):
            log.error("MQTT subscription refused", extra={"reasons": [str(r) for r in reasons]})
            return
        self.connected.set()  # connected and subscribed: messages now reach us

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.connected.clear()
        if not self._stop.is_set():
            log.warning("MQTT ingester disconnected; reconnecting", extra={"reason": str(reason)})

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        self.received += 1
        self._inbox.put((message.topic, message.payload, message.mid, message.qos))

    # -- lifecycle ----------------------------------------------------------------------

    def start(self, wait: float = 10.0) -> None:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        props.ReceiveMaximum = RECEIVE_MAXIMUM
        self._worker = threading.Thread(
            target=self._run, name=f"mqtt-{self.client_id}", daemon=True
        )
        self._worker.start()
        try:
            self.client.connect(
                self.broker.host,
                self.broker.port,
                keepalive=30,
                clean_start=False,
                properties=props,
            )
        except OSError as exc:
            # Keep trying in the background: the broker may come up later.
            log.warning("MQTT broker unreachable; will retry", extra={"error": str(exc)})
            self.client.connect_async(
                self.broker.host,
                self.broker.port,
                keepalive=30,
                clean_start=False,
                properties=props,
            )
        self.client.loop_start()
        if wait:
            self.connected.wait(wait)

    def stop(self, timeout: float = 10.0) -> None:
        """Store what was received, then leave; the broker keeps the session for us."""
        self._stop.set()
        if self._worker is not None:
            self._worker.join(timeout)
        self.client.disconnect()
        self.client.loop_stop()

    def end_session(self) -> None:
        """Leave for good: the broker forgets this ingester's session and its queue (use when
        retiring an ingester, or its share of the messages waits for it until it expires)."""
        self.stop()
        client = make_client(self.broker, self.client_id)
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 0
        client.connect(self.broker.host, self.broker.port, clean_start=True, properties=props)
        client.loop_start()
        client.disconnect()
        client.loop_stop()

    def kill(self) -> None:
        """Vanish without storing or acknowledging anything (tests of crash recovery)."""
        self._abort.set()
        self._stop.set()
        self.client.loop_stop()
        sock = self.client.socket()
        if sock is not None:
            sock.close()
        if self._worker is not None:
            self._worker.join(5)

    # -- the worker -----------------------------------------------------------------------

    def _next_batch(self) -> list[Received]:
        try:
            first = self._inbox.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + BATCH_WAIT_S
        while len(batch) < BATCH_MAX:
            remaining = deadline - time.monotonic()
            try:
                if remaining > 0:
                    batch.append(self._inbox.get(timeout=remaining))
                else:
                    batch.append(self._inbox.get_nowait())
            except queue.Empty:
                break
        return batch

    def _run(self) -> None:
        pending: list[Received] = []
        while not self._abort.is_set():
            if not pending:
                if self._stop.is_set() and self._inbox.empty():
                    return
                pending = self._next_batch()
                if not pending:
                    continue
            if self._abort.is_set():
                return
            if self._store(pending):
                if self._abort.is_set():
                    return
                for _topic, _payload, mid, qos in pending:
                    self.client.ack(mid, qos)
                self.stored_messages += len(pending)
                pending = []
            elif self._stop.wait(1.0):  # the database is down: keep the batch, try again
                return

    def _store(self, batch: list[Received]) -> bool:
        received = now_ms()
        messages = []
        for name, payload, _mid, _qos in batch:
            where = read_topic(name)
            if where is None:  # outside our subscriptions: cannot happen, never stored
                continue
            org, device, kind = where
            messages.append(
                Message(device, payload, "mqtt", kind, org, received)  # type: ignore[arg-type]
            )
        try:
            with self.factory() as session, session.begin():
                if self.bus is not None:
                    attach(session, self.bus)
                ingest(session, self.settings, messages, now=received)
        except Exception:
            self.failures += 1
            log.exception("storing an MQTT batch failed; it will be retried")
            return False
        return True
