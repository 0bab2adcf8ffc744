"""Sensing ingestion: HTTP batch points/s and MQTT end-to-end messages/s stored, each beside
its raw limit measured in the same run.

    python benchmarks/bench_sensing.py [--database-url URL] [--points 1000000]
        [--mqtt-messages 50000] [--clients 4] [--publishers 2] [--window 2000]
        [--only http|mqtt]

- HTTP: cityhub served by uvicorn in its own process; `--clients` threads POST batches of
  `--batch` readings (one device each, device tokens) to /api/v1/telemetry. Peer: a bare
  bulk insert of the same rows into a table of the same shape in the same database (COPY on
  PostgreSQL, executemany on SQLite), with no HTTP, no checks.
- MQTT: a private Mosquitto on a free loopback port; `--publishers` processes send QoS 1
  messages (one reading set of 4 metrics each) over raw sockets, pre-encoded, with
  `--window` unacknowledged each: they cost almost no CPU, and their own rate (messages
  the broker acknowledged per second) is printed, so the publisher is never the hidden
  limit. Peer: a bare paho subscriber that only counts, with the ingester's own settings
  (MQTT 5, QoS 1, persistent session, receive maximum, shared subscription); then
  cityhub's ingester storing them. Both rates are messages from the first publish to the
  last one counted / stored, and every message must be in the database exactly once.
Default database: a fresh SQLite file; `--database-url postgresql+psycopg://...` runs on a
private schema of that database, dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import Engine, text

from cityhub.core.db import make_engine, session_factory, transaction
from cityhub.core.migrations import upgrade
from cityhub.directory.models import Organization, OrgKind
from cityhub.directory.regions import seed_regions
from cityhub.security import service
from cityhub.security.models import Role
from cityhub.sensing import devices
from cityhub.sensing.mqtt import (
    RECEIVE_MAXIMUM,
    SESSION_EXPIRY_S,
    MqttIngester,
    make_client,
    parse_url,
    topic,
)
from cityhub.sensing.profiles import create_profile
from cityhub.sensing.schemas import DeviceCreate, MetricSpecIn, ProfileCreate
from cityhub.settings import Settings

METRICS = ("a", "b", "c", "d")
ORG = "BENCH"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def prepare(url: str, data_dir: Path, n_devices: int) -> tuple[Settings, dict[str, str]]:
    """A migrated database with a bench profile and `n_devices` devices; their tokens."""
    settings = Settings(
        database_url=url,
        data_dir=data_dir,
        demo_mode=True,
        log_level="ERROR",
        sensing_maintenance_seconds=0,
        sensing_simulate=False,
        sensing_max_past_hours=48,
        sensing_max_batch_points=100_000,
    )
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    tokens = {}
    with transaction(session_factory(engine)) as session:
        seed_regions(session, settings)
        org = Organization(code=ORG, name_zh="基准测试", kind=OrgKind.operator)
        session.add(org)
        session.flush()
        service.create_user(
            session, username="bench", organization_id=org.id, roles={Role.operator}
        )
        profile = create_profile(
            session,
            ProfileCreate(
                code="bench-sensor",
                name_zh="基准传感器",
                kind="sensor",
                expected_interval_s=1,
                max_points_per_minute=10**9,
                metrics=[MetricSpecIn(name=m, min_value=-1e9, max_value=1e9) for m in METRICS],
            ),
            "bench",
        )
        for i in range(n_devices):
            data = DeviceCreate(
                code=f"B-{i:04d}", name=f"bench {i}", profile=profile.code, lon=118.35, lat=35.06
            )
            _, tokens[data.code] = devices.register(
                session, settings, data, org, actor="bench", profile=profile
            )
    engine.dispose()
    return settings, tokens


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM telemetry_points")).scalar_one())


def clear(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in (
            "telemetry_points",
            "telemetry_dirty",
            "telemetry_latest",
            "sensing_rate_windows",
        ):
            conn.execute(text(f"DELETE FROM {table}"))


# -- HTTP -----------------------------------------------------------------------------------


def _serve(settings_json: str, port: int) -> None:
    import uvicorn

    from cityhub.app import create_app

    settings = Settings.model_validate_json(settings_json)
    uvicorn.run(
        create_app(settings), host="127.0.0.1", port=port, log_config=None, log_level="error"
    )


def bodies(
    tokens: dict[str, str], total: int, batch: int, base_ms: int, columnar: bool = False
) -> list[tuple[str, bytes]]:
    """Pre-encoded requests: each one device, batch/len(METRICS) points of all metrics, as
    `{"points": [...]}` or as the columnar `{"ts": [...], "values": {metric: [...]}}`."""
    per_point = len(METRICS)
    points = batch // per_point
    out = []
    codes = list(tokens)
    rng = np.random.default_rng(1)
    for k in range(total // (points * per_point)):
        code = codes[k % len(codes)]
        start = base_ms + (k // len(codes)) * points * 10
        ts = start + np.arange(points) * 10
        values = rng.uniform(0, 500, (points, per_point)).round(3)
        doc: dict[str, Any]
        if columnar:
            doc = {
                "ts": ts.tolist(),
                "values": {m: values[:, j].tolist() for j, m in enumerate(METRICS)},
            }
        else:
            doc = {
                "points": [
                    {"ts": int(t), "values": dict(zip(METRICS, v.tolist(), strict=True))}
                    for t, v in zip(ts, values, strict=True)
                ]
            }
        out.append((tokens[code], json.dumps(doc, separators=(",", ":")).encode()))
    return out


def readings_of(body: bytes) -> list[tuple[int, int, float]]:
    """(metric index, ts, value) of every reading of a request, in either format."""
    doc = json.loads(body)
    if "points" in doc:
        return [(j, p["ts"], v) for p in doc["points"] for j, v in enumerate(p["values"].values())]
    return [
        (j, t, v)
        for j, column in enumerate(doc["values"].values())
        for t, v in zip(doc["ts"], column, strict=True)
    ]


def bench_http(
    settings: Settings,
    tokens: dict[str, str],
    total: int,
    batch: int,
    clients: int,
    columnar: bool,
) -> dict[str, float]:
    engine = make_engine(settings.effective_database_url)
    port = _free_port()
    ctx = mp.get_context("spawn")
    server = ctx.Process(target=_serve, args=(settings.model_dump_json(), port), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{port}/api/v1/telemetry"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    base = int(time.time() * 1000) - 20 * 3_600_000
    warm = bodies(tokens, batch * clients, batch, base - 3_600_000, columnar)
    work = bodies(tokens, total, batch, base, columnar)
    expected = sum(len(readings_of(b)) for _, b in work)

    def run(items: list[tuple[str, bytes]]) -> int:
        accepted = 0
        lock = threading.Lock()
        queue = list(items)

        def worker() -> None:
            nonlocal accepted
            with httpx.Client(timeout=120) as http:
                while True:
                    with lock:
                        if not queue:
                            return
                        token, body = queue.pop()
                    r = http.post(
                        url,
                        content=body,
                        headers={
                            "Authorization": f"Bearer {token}",
                            "Content-Type": "application/json",
                        },
                    )
                    r.raise_for_status()
                    with lock:
                        accepted += r.json()["accepted"]

        threads = [threading.Thread(target=worker) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return accepted

    run(warm)
    clear(engine)
    started = time.perf_counter()
    accepted = run(work)
    elapsed = time.perf_counter() - started
    server.terminate()
    server.join(10)
    stored = count(engine)
    assert accepted == expected == stored, (accepted, expected, stored)
    # The peer: the same rows, bare, into a table of the same shape in the same database.
    device_of = {token: i for i, token in enumerate(tokens.values())}
    rows = [(device_of[token], j, t, v) for token, body in work for j, t, v in readings_of(body)]
    bare = bare_insert(engine, rows)
    engine.dispose()
    return {
        "points": float(stored),
        "seconds": elapsed,
        "rate": stored / elapsed,
        "bare_rate": len(rows) / bare,
    }


def bare_insert(engine: Engine, rows: list[tuple[int, int, int, float]]) -> float:
    """Seconds to insert `rows` with the database's fastest bulk path and nothing else."""
    keyed = rows
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_bare"))
        conn.execute(
            text(
                "CREATE TABLE bench_bare (device_id INTEGER NOT NULL, "
                "metric_id INTEGER NOT NULL, ts_ms BIGINT NOT NULL, value FLOAT NOT NULL, "
                "PRIMARY KEY (device_id, metric_id, ts_ms))"
                # the shape of telemetry_points on SQLite
                + (" WITHOUT ROWID" if engine.dialect.name == "sqlite" else "")
            )
        )
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        started = time.perf_counter()
        if engine.dialect.name == "postgresql":
            with cur.copy(
                "COPY bench_bare (device_id, metric_id, ts_ms, value) FROM STDIN"
            ) as copy:
                for row in keyed:
                    copy.write_row(row)
        else:
            cur.executemany("INSERT INTO bench_bare VALUES (?, ?, ?, ?)", keyed)
        raw.commit()
        elapsed = time.perf_counter() - started
    finally:
        raw.close()
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE bench_bare"))
    return elapsed


# -- MQTT -----------------------------------------------------------------------------------


class Broker:
    def __init__(self, folder: Path) -> None:
        self.port = _free_port()
        conf = folder / "mosquitto.conf"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n"
            "max_inflight_messages 0\nuser root\n"
        )
        self.proc = subprocess.Popen(
            ["/usr/sbin/mosquitto", "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        n, digit = n >> 7, n & 0x7F
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _packet(kind: int, body: bytes) -> bytes:
    return bytes([kind]) + _varint(len(body)) + body


def _utf8(text: str) -> bytes:
    raw = text.encode()
    return len(raw).to_bytes(2, "big") + raw


def _publish(
    url: str,
    codes: list[str],
    first: int,
    n: int,
    base_ms: int,
    go: Any,
    ready: Any,
    window: int,
    done_at: Any,
) -> None:
    """Publish messages first..first+n-1 at QoS 1 over a raw MQTT 3.1.1 socket: the packets
    are encoded before the clock starts and written in bulk, with up to `window` waiting for
    the broker's PUBACK, so the publisher costs almost no CPU and is never the bottleneck."""
    broker = parse_url(url)
    packets = []
    for k in range(n):
        i = first + k
        body = json.dumps({"ts": base_ms + i, "values": {m: float(i % 997) for m in METRICS}})
        pid = k % 65535 + 1
        head = _utf8(topic(ORG, codes[i % len(codes)])) + pid.to_bytes(2, "big")
        packets.append(_packet(0x32, head + body.encode()))
    sock = socket.create_connection((broker.host, broker.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client_id = f"bench-pub-{uuid.uuid4().hex[:6]}"
    sock.sendall(_packet(0x10, _utf8("MQTT") + bytes([4, 0x02, 0, 0]) + _utf8(client_id)))
    if sock.recv(4)[:1] != b"\x20":
        raise RuntimeError("the broker refused the publisher")
    acked = 0
    received = b""
    ready.release()
    go.wait()
    sent = 0
    while acked < n:
        room = min(n - sent, window - (sent - acked))
        if room > 0:
            sock.sendall(b"".join(packets[sent : sent + room]))
            sent += room
        received += sock.recv(65536)
        acked += len(received) // 4  # nothing but 4-byte PUBACKs come back
        received = received[len(received) - len(received) % 4 :]
    done_at.value = time.time()  # the broker has taken every message
    sock.sendall(b"\xe0\x00")
    sock.close()


def _publishers(
    url: str, codes: list[str], n: int, base_ms: int, connections: int, window: int
) -> Publishing:
    """`connections` publisher processes splitting the n messages, all connected and with
    their packets encoded before they start together; the processes and the start time."""
    ctx = mp.get_context("spawn")
    go, ready = ctx.Event(), ctx.Semaphore(0)
    procs: list[Any] = []
    finished: list[Any] = []
    share = -(-n // connections)
    for c in range(connections):
        first, count = c * share, min(share, n - c * share)
        done_at = ctx.Value("d", 0.0)
        finished.append(done_at)
        args = (url, codes, first, count, base_ms, go, ready, window, done_at)
        proc = ctx.Process(target=_publish, args=args)
        proc.start()
        procs.append(proc)
    for _ in procs:
        ready.acquire()
    started = time.time()
    go.set()
    return Publishing(procs, started, finished, n)


@dataclass
class Publishing:
    procs: list[Any]
    started: float
    finished: list[Any]  # per publisher: when the broker had acknowledged all its messages
    n: int

    def join(self) -> float:
        """Wait for the publishers; their own rate (messages/s the broker acknowledged)."""
        for proc in self.procs:
            proc.join(120)
        last = max(float(f.value) for f in self.finished)
        return self.n / (last - self.started)


def _session_props() -> Properties:
    """The ingester's own session settings: persistent, the same receive maximum."""
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = SESSION_EXPIRY_S
    props.ReceiveMaximum = RECEIVE_MAXIMUM
    return props


def bare_subscriber(
    url: str, codes: list[str], n: int, base: int, args: Any
) -> tuple[float, float]:
    """Messages/s of a paho subscriber that only counts: the same library, MQTT 5, QoS 1,
    persistent session, receive maximum and shared subscription as the ingester."""
    got = 0
    done = threading.Event()
    last = [0.0]
    subscribed = threading.Event()

    def on_message(*_a: Any) -> None:
        nonlocal got
        got += 1
        if got == n:
            last[0] = time.time()
            done.set()

    b = parse_url(url)
    bare = make_client(b, "bench-bare")
    bare.on_message = on_message
    bare.on_subscribe = lambda *_a: subscribed.set()
    bare.connect(b.host, b.port, clean_start=False, properties=_session_props())
    bare.subscribe([(f"$share/bench/cityhub/{ORG}/+/telemetry", 1)])
    bare.loop_start()
    subscribed.wait(10)
    publishing = _publishers(url, codes, n, base, args.publishers, args.window)
    done.wait(600)
    publishers_rate = publishing.join()
    bare.disconnect()
    bare.loop_stop()
    return n / (last[0] - publishing.started), publishers_rate


def bench_mqtt(
    settings: Settings, codes: list[str], n: int, folder: Path, args: Any
) -> dict[str, float]:
    if not Path("/usr/sbin/mosquitto").exists():
        return {}
    broker = Broker(folder)
    engine = make_engine(settings.effective_database_url)
    try:
        base = int(time.time() * 1000) - 3_600_000
        bare_rate, publishers_rate = bare_subscriber(broker.url, codes, n, base, args)
        clear(engine)
        ingester = MqttIngester(
            settings, session_factory(engine), client_id="bench-ingester", url=broker.url
        )
        ingester.start()
        publishing = _publishers(broker.url, codes, n, base + n, args.publishers, args.window)
        while ingester.stored_messages < n:
            time.sleep(0.01)
        finished = time.time()
        publishing.join()
        ingester.stop()
        stored = count(engine)
        assert stored == n * len(METRICS), (stored, n * len(METRICS))
        with engine.connect() as conn:
            refused = conn.execute(
                text("SELECT coalesce(sum(count), 0) FROM sensing_rejections")
            ).scalar_one()
        return {
            "messages": float(n),
            "bare_rate": bare_rate,
            "rate": n / (finished - publishing.started),
            "publishers_rate": publishers_rate,
            "stored_rows": float(stored),
            "refused": float(refused),
        }
    finally:
        broker.stop()
        engine.dispose()


def report_http(settings: Settings, tokens: dict[str, str], args: Any) -> None:
    print("\nHTTP batch ingestion (POST /api/v1/telemetry, device tokens, every check)")
    print(f"  {args.clients} clients, {args.batch:,} readings a request, {args.points:,} readings")
    for columnar, label in ((False, "points format"), (True, "columnar format")):
        http = bench_http(settings, tokens, args.points, args.batch, args.clients, columnar)
        met = "met" if http["rate"] >= 100_000 else "NOT met"
        rate, bare = http["rate"], http["bare_rate"]
        print(f"  cityhub, {label:<16} {rate:>10,.0f} points/s   target 100,000: {met}")
        print(
            f"  bare bulk insert         {bare:>10,.0f} points/s   same rows, no checks "
            f"(cityhub at {rate / bare:.0%} of it)"
        )


def report(settings: Settings, tokens: dict[str, str], args: Any, folder: Path) -> None:
    if args.only != "mqtt":
        report_http(settings, tokens, args)
    if args.only == "http":
        return
    mqtt = bench_mqtt(settings, list(tokens), args.mqtt_messages, folder, args)
    if not mqtt:
        print("\nMQTT: skipped (/usr/sbin/mosquitto is not installed)")
        return
    share = mqtt["rate"] / mqtt["bare_rate"]
    print("\nMQTT end to end (publisher -> Mosquitto -> cityhub -> database, QoS 1)")
    print(f"  {args.publishers} publisher connections, {args.window:,} messages in flight each")
    pub = mqtt["publishers_rate"]
    print(f"  publishers               {pub:>10,.0f} messages/s acknowledged by the broker")
    print(f"  bare subscriber          {mqtt['bare_rate']:>10,.0f} messages/s (counts only)")
    rate = mqtt["rate"]
    print(f"  cityhub, stored          {rate:>10,.0f} messages/s ({share:.0%} of the bare one)")
    print(
        f"  in the database          {mqtt['stored_rows']:>10,.0f} readings = "
        f"{mqtt['messages']:,.0f} messages x {len(METRICS)}, {mqtt['refused']:.0f} refused"
    )
    verdict = "met" if share >= 0.5 else "NOT met"
    print(f"  target >= 50% of the bare subscriber, nothing lost: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description="sensing ingestion benchmark")
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    parser.add_argument("--points", type=int, default=1_000_000, help="HTTP readings")
    parser.add_argument("--batch", type=int, default=10_000, help="readings per HTTP request")
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients")
    parser.add_argument("--mqtt-messages", type=int, default=50_000)
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--publishers", type=int, default=2, help="MQTT publisher connections")
    parser.add_argument("--window", type=int, default=2000, help="QoS 1 messages in flight each")
    parser.add_argument("--only", choices=("http", "mqtt"), default=None, help="one part only")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="cityhub-bench-"))
    os.chmod(folder, 0o755)
    url, schema = args.database_url, None
    if url.startswith("postgresql"):
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = make_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    elif not url:
        url = f"sqlite:///{folder / 'bench.db'}"
    try:
        settings, tokens = prepare(url, folder, args.devices)
        db = make_engine(settings.effective_database_url).dialect.name
        print(f"database: {db} · machine: {os.cpu_count()} cores")
        report(settings, tokens, args, folder)
    finally:
        if schema:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
