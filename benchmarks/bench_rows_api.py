"""The rows API against Datasette on the same 1,000,000-row SQLite file.

    python benchmarks/bench_rows_api.py [--rows 1000000] [--duration 15] [--connections 16]
                                        [--rounds 2] [--data-dir DIR] [--loader wrk|httpx]

Both servers run as separate processes with one worker each (uvicorn for cityhub,
`datasette serve` for Datasette) and answer the same query: rows of one county
(`xzqh = 371302`, ~83,000 rows), 100 per page, keyset-paginated from a random position.

- cityhub: `GET /api/v1/resources/{code}/rows?xzqh=371302&limit=100&cursor=...` with an
  application key: authentication, the token bucket and daily quota (upserted in the
  database on every call), grants, masking (name, ID number, phone) and metering on;
  the audit log also writes its row per call.
- Datasette: `GET /bench/{table}.json?xzqh=371302&_size=100&_next=...&_shape=objects`,
  with `_nocount=1&_nofacet=1` so that it does no more work than cityhub (no total, no
  facets), selecting the same seven columns.

Load comes from a separate process on loopback: `wrk` when installed (with a Lua script
that picks one of 1,000 pre-computed paths per request), else an asyncio httpx loop.
Rounds alternate the servers so that both see the same machine. Prints requests/s and
p50/p99 latency per server, and the database cost of a rate-limit check.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx

COUNTY = "371302"
CODE = "101001-LYGA-000001"
ITEMS = [
    {"name": "姓名", "code": "xm", "data_type": "string", "length": 32, "masking": "name"},
    {
        "name": "公民身份号码",
        "code": "gmsfhm",
        "data_type": "string",
        "length": 18,
        "sensitivity": "sensitive",
        "masking": "keep:first6,last4",
    },
    {"name": "性别", "code": "xb", "data_type": "string", "length": 1},
    {"name": "出生日期", "code": "csrq", "data_type": "date"},
    {"name": "行政区划", "code": "xzqh", "data_type": "string", "length": 6},
    {"name": "联系电话", "code": "lxdh", "data_type": "string", "length": 11, "masking": "phone"},
    {"name": "年龄", "code": "nl", "data_type": "integer"},
]
COLUMNS = [i["code"] for i in ITEMS]


@dataclass
class Fixture:
    db_path: Path
    table: str
    key: str
    row_ids: list[int]  # _row_id values of the filtered rows, for random page starts


# -- the data -----------------------------------------------------------------------------


def _env(db_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "CITYHUB_DATABASE_URL": f"sqlite:///{db_path}",
        "CITYHUB_DEMO_MODE": "true",
        "CITYHUB_LOG_LEVEL": "WARNING",
        "CITYHUB_DATA_DIR": str(db_path.parent),
    }


def build(db_path: Path, rows: int) -> Fixture:
    """The platform database with one published resource, its rows, and a granted key."""
    from sqlalchemy import select, text

    from cityhub.catalog import service as catalog
    from cityhub.catalog import workflow
    from cityhub.catalog.schemas import ResourceCreate
    from cityhub.core.db import make_engine, session_factory, transaction
    from cityhub.core.migrations import upgrade
    from cityhub.demo.gateway_rows import ItemShape, generate
    from cityhub.directory.models import Organization, OrgKind
    from cityhub.directory.regions import seed_regions
    from cityhub.gateway import apps, grants, resources
    from cityhub.gateway import requests as sharing
    from cityhub.gateway.schemas import ApplicationCreate, Approve, RequestCreate
    from cityhub.library import datastore as ds
    from cityhub.security import service as security
    from cityhub.security.models import Role
    from cityhub.settings import Settings

    settings = Settings(database_url=f"sqlite:///{db_path}", demo_mode=True)
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        seed_regions(session, settings)
        orgs = {}
        for code in ("LYGA", "LYJT"):
            org = Organization(code=code, name_zh=code, kind=OrgKind.government)
            session.add(org)
            session.flush()
            orgs[code] = org
        officer = security.create_user(
            session, username="ga_data", organization_id=orgs["LYGA"].id, roles={Role.data_officer}
        )
        dev = security.create_user(
            session, username="jt_dev", organization_id=orgs["LYJT"].id, roles={Role.developer}
        )
        editor = catalog.Actor.of(officer)
        admin = catalog.Actor("bench", None, frozenset({Role.platform_admin}))
        data = ResourceCreate.model_validate(
            {
                "code": CODE,
                "provider": "LYGA",
                "name": "人口基础信息",
                "category": "basic",
                "format": "table",
                "share_type": "conditional",
                "share_condition": "政务用途",
                "sharing_method": "api",
                "open_type": "closed",
                "update_cycle": "daily",
                "items": ITEMS,
            }
        )
        resource = catalog.create_resource(session, data, editor)
        workflow.submit(session, resource, editor)
        workflow.approve(session, resource, admin, "bench")
        app = apps.create(
            session, dev, ApplicationCreate(name="bench", purpose="benchmark"), settings
        )
        app.rate_limit, app.burst = 1_000_000, 1_000_000
        app.daily_calls, app.daily_rows = 10**12, 10**15
        req = sharing.create(
            session,
            dev,
            RequestCreate(
                application_id=app.id,
                resource_code=CODE,
                purpose="benchmark",
                period_end=date.today() + timedelta(days=30),
            ),
            settings,
        )
        sharing.approve(session, officer, req, Approve(), settings)
        issued = apps.issue_key(session, dev, app)
        info = resources.load(session, CODE)
        shapes = [ItemShape(i.code, i.name, i.kind.value, i.length) for i in info.items]
        conn = session.connection()
        ds.ensure_table(conn, info.table_spec)
        started = time.perf_counter()
        for offset in range(0, rows, 200_000):
            frame = generate(shapes, min(200_000, rows - offset), seed=offset + 1)
            ds.insert(conn, info.table_spec, frame)
        table = info.table_spec.name
        # The filter column is indexed, for both servers alike.
        conn.execute(text(f'CREATE INDEX "ix_{table}_xzqh" ON "{table}" (xzqh)'))
        print(f"  loaded {rows:,} rows in {time.perf_counter() - started:.1f} s")
        row_ids = list(
            session.scalars(
                select(ds.table(info.table_spec).c[ds.ROW_ID]).where(
                    ds.table(info.table_spec).c.xzqh == COUNTY
                )
            )
        )
        del grants
    engine.dispose()
    with open(db_path.with_suffix(".key"), "w") as fh:
        fh.write(f"{issued.key}\n{table}\n")
    return Fixture(db_path, table, issued.key, row_ids)


def load_fixture(db_path: Path) -> Fixture:
    import sqlite3

    key, table = db_path.with_suffix(".key").read_text().split()
    with sqlite3.connect(db_path) as conn:
        ids = [
            r[0] for r in conn.execute(f'SELECT _row_id FROM "{table}" WHERE xzqh = ?', (COUNTY,))
        ]
    return Fixture(db_path, table, key, ids)


# -- servers --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Target:
    name: str
    command: list[str]
    env: dict[str, str]
    paths: list[str]
    headers: dict[str, str]
    port: int


def cityhub_target(fx: Fixture, rng: random.Random) -> Target:
    from cityhub.core.pagination import encode_cursor

    port = _free_port()
    paths = []
    for start in rng.sample(fx.row_ids[:-200], 1000):
        cursor = encode_cursor(["", start])
        paths.append(f"/api/v1/resources/{CODE}/rows?xzqh={COUNTY}&limit=100&cursor={cursor}")
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "cityhub.app:create_app",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    return Target(
        "cityhub", command, _env(fx.db_path), paths, {"Authorization": f"Bearer {fx.key}"}, port
    )


def datasette_target(fx: Fixture, rng: random.Random) -> Target:
    port = _free_port()
    cols = "&".join(f"_col={c}" for c in COLUMNS)
    paths = [
        f"/bench/{fx.table}.json?xzqh={COUNTY}&_size=100&_next={start}&_shape=objects"
        f"&_nocount=1&_nofacet=1&{cols}"
        for start in rng.sample(fx.row_ids[:-200], 1000)
    ]
    bench_db = fx.db_path.parent / "bench.db"
    if not bench_db.exists():
        bench_db.symlink_to(fx.db_path.name)
    command = [
        sys.executable, "-m", "datasette", "serve", str(bench_db), "-h", "127.0.0.1",
        "-p", str(port), "--setting", "default_page_size", "100",
    ]  # fmt: skip
    return Target("datasette", command, dict(os.environ), paths, {}, port)


def start(target: Target) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        target.command, env=target.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.time() + 60
    url = f"http://127.0.0.1:{target.port}{target.paths[0]}"
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{target.name} exited: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            answer = httpx.get(url, headers=target.headers, timeout=5)
            if answer.status_code == 200:
                return proc
            raise SystemExit(f"{target.name} answered {answer.status_code}: {answer.text[:500]}")
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"{target.name} did not start within 60 s")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)  # a clean shutdown: cityhub flushes its meter
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


# -- load -----------------------------------------------------------------------------------


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float = 0.0  # server CPU time per request (user + system), robust to neighbours

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


WRK_SCRIPT = """
paths = {%s}
math.randomseed(%d)
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%d %%.3f %%.3f\\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout, summary.duration,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def run_wrk(target: Target, duration: int, connections: int, workdir: Path) -> Result:
    script = workdir / f"{target.name}.lua"
    quoted = ",".join(f'"{p}"' for p in target.paths)
    script.write_text(WRK_SCRIPT % (quoted, 7))
    command = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{duration}s", "-s", str(script)]
    for name, value in target.headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://127.0.0.1:{target.port}")
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    match = re.search(r"RESULT (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+)", output)
    if match is None:
        raise SystemExit(f"could not read wrk's output:\n{output}")
    n, errors, micros, p50, p99 = match.groups()
    return Result(int(n), int(errors), int(micros) / 1e6, float(p50), float(p99))


async def _httpx_load(target: Target, duration: int, connections: int) -> Result:
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + duration
    rng = random.Random(7)
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    base = f"http://127.0.0.1:{target.port}"
    async with httpx.AsyncClient(base_url=base, headers=target.headers, limits=limits) as client:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < stop_at:
                began = time.perf_counter()
                answer = await client.get(rng.choice(target.paths))
                latencies.append(time.perf_counter() - began)
                errors += answer.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        seconds = time.perf_counter() - started
    latencies.sort()
    return Result(
        len(latencies),
        errors,
        seconds,
        statistics.median(latencies) * 1000,
        latencies[int(len(latencies) * 0.99)] * 1000,
    )


def run_load(target: Target, args: argparse.Namespace, workdir: Path) -> Result:
    if args.loader == "wrk":
        return run_wrk(target, args.duration, args.connections, workdir)
    # A separate process, as wrk would be.
    code = (
        "import asyncio, json, sys, pickle; sys.path[:0] = " + repr(sys.path) + "\n"
        "from benchmarks.bench_rows_api import _httpx_load, Target\n"
        "t = pickle.loads(bytes.fromhex(sys.argv[1]))\n"
        "r = asyncio.run(_httpx_load(t, int(sys.argv[2]), int(sys.argv[3])))\n"
        "print(json.dumps(r.__dict__))\n"
    )
    import json
    import pickle

    output = subprocess.run(
        [sys.executable, "-c", code, pickle.dumps(target).hex(), str(args.duration),
         str(args.connections)],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1],
    ).stdout  # fmt: skip
    return Result(**json.loads(output.strip().splitlines()[-1]))


# -- the cost of a rate-limit check ------------------------------------------------------------


def _limiter_loop(url: str, calls: int) -> float:
    """Microseconds per admitted call against a fresh application on `url`."""
    from cityhub.core.db import make_engine, session_factory, transaction
    from cityhub.core.migrations import upgrade
    from cityhub.directory.models import Organization, OrgKind
    from cityhub.gateway.limits import Limits, admit
    from cityhub.gateway.models import Application
    from cityhub.gateway.workdays import Calendar
    from cityhub.security import service as security
    from cityhub.security.models import Role

    engine = make_engine(url)
    upgrade(engine)
    with transaction(session_factory(engine)) as session:
        org = Organization(code=f"B{random.randrange(10**8)}", name_zh="b", kind=OrgKind.enterprise)
        session.add(org)
        session.flush()
        user = security.create_user(
            session, username=org.code.lower(), organization_id=org.id, roles={Role.developer}
        )
        app = Application(
            name="limiter", organization_id=org.id, owner_id=user.id, rate_limit=10**6,
            burst=10**6, daily_calls=10**12, daily_rows=10**15,
        )  # fmt: skip
        session.add(app)
        session.flush()
        limits = Limits(app.id, 10**6, 10**6, 10**12, 10**15)
    calendar = Calendar()
    for _ in range(100):
        admit(engine, limits, calendar)
    began = time.perf_counter()
    for _ in range(calls):
        admit(engine, limits, calendar)
    cost = (time.perf_counter() - began) / calls * 1e6
    engine.dispose()
    return cost


def limiter_cost(db_path: Path, calls: int = 2000) -> tuple[float, float | None]:
    """The rate limit + quota transaction alone: SQLite (a copy of the bench file) and
    PostgreSQL (a throw-away schema) when CITYHUB_BENCH_PG_URL is set."""
    copy = db_path.with_name("limiter.db")
    shutil.copyfile(db_path, copy)
    sqlite_us = _limiter_loop(f"sqlite:///{copy}", calls)
    copy.unlink()
    pg_url = os.environ.get("CITYHUB_BENCH_PG_URL")
    if not pg_url:
        return sqlite_us, None
    from sqlalchemy import create_engine, text

    schema = f"bench_{random.randrange(16**8):08x}"
    admin = create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        sep = "&" if "?" in pg_url else "?"
        pg_us = _limiter_loop(f"{pg_url}{sep}options=-csearch_path%3D{schema}", calls)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return sqlite_us, pg_us


# -- main -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description="rows API vs Datasette")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=15, help="seconds of load per run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2, help="alternating runs per server")
    parser.add_argument("--data-dir", type=Path, default=None, help="keep and reuse the data")
    parser.add_argument(
        "--loader", choices=("wrk", "httpx"), default="wrk" if shutil.which("wrk") else "httpx"
    )
    args = parser.parse_args()

    workdir = args.data_dir or Path(tempfile.mkdtemp(prefix="cityhub-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    db_path = workdir / "cityhub.db"
    print(f"rows API benchmark: {args.rows:,} rows, {args.connections} connections, "
          f"{args.duration} s per run, {args.rounds} rounds, loader {args.loader}")  # fmt: skip
    if db_path.exists() and db_path.with_suffix(".key").exists():
        print(f"  reusing {db_path}")
        fx = load_fixture(db_path)
    else:
        fx = build(db_path, args.rows)
    print(f"  filtered rows (xzqh={COUNTY}): {len(fx.row_ids):,}")
    rng = random.Random(2020)
    targets = [cityhub_target(fx, rng), datasette_target(fx, rng)]
    results: dict[str, list[Result]] = {t.name: [] for t in targets}
    for round_no in range(args.rounds):
        for target in targets if round_no % 2 == 0 else targets[::-1]:
            proc = start(target)
            try:
                run_load(target, argparse.Namespace(**{**vars(args), "duration": 2}), workdir)
                before = _cpu_seconds(proc.pid)
                result = run_load(target, args, workdir)
                result.cpu_ms = (_cpu_seconds(proc.pid) - before) / max(result.requests, 1) * 1000
            finally:
                stop(proc)
            results[target.name].append(result)
            print(
                f"  round {round_no + 1} {target.name:<10} {result.rps:8.0f} req/s  "
                f"p50 {result.p50_ms:6.1f} ms  p99 {result.p99_ms:6.1f} ms  "
                f"cpu {result.cpu_ms:5.2f} ms/req  errors {result.errors}"
            )
    sqlite_us, pg_us = limiter_cost(db_path)
    print()
    print(
        f"{'server':<12}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'cpu ms/req':>12}"
        "  (best round; cpu: median of rounds)"
    )
    best = {}
    for name, runs in results.items():
        top = max(runs, key=lambda r: r.rps)
        best[name] = top
        cpu = statistics.median(r.cpu_ms for r in runs)
        print(f"{name:<12}{top.rps:>10.0f}{top.p50_ms:>10.1f}{top.p99_ms:>10.1f}{cpu:>12.2f}")
    ratio = best["cityhub"].rps / best["datasette"].rps
    print(f"\ncityhub / datasette throughput: {ratio:.2f}x")
    pg = f"{pg_us:.0f} µs on PostgreSQL" if pg_us is not None else "(set CITYHUB_BENCH_PG_URL)"
    print(f"rate limit + daily quota upsert: {sqlite_us:.0f} µs per call on SQLite; {pg}")
    if args.data_dir is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
