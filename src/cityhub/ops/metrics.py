"""Prometheus metrics at `/metrics`, so the city's Prometheus and Grafana can scrape them.

- `MetricsMiddleware` counts every HTTP request and times it, labelled by method, route
  template (`/api/v1/ops/systems/{code}`, never the raw path: bounded cardinality) and status.
- `PlatformCollector` reads counts from the database when scraped (cached a few seconds):
  monitored systems, probe results, incidents, scheduler jobs, and from the other packages
  when they are installed — ledger size, sensing devices and points per second, exchange
  deliveries, rows, ingest rate and quarantine. A package that is absent (or fails) is
  left out.

Each app has its own registry (several apps may live in one process, e.g. in tests).
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cityhub import __version__
from cityhub.core.db import utcnow
from cityhub.core.scheduler import Scheduler
from cityhub.errors import Unauthorized
from cityhub.ops import integrations
from cityhub.ops.models import DailyCount, Incident, MonitoredSystem, Probe
from cityhub.ops.vocab import OPEN_STATUSES, Outcome

log = logging.getLogger("cityhub.ops.metrics")
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
Source = Callable[[Session], Iterable[Metric]]


class AppMetrics:
    """One app's registry: request counters, latency histogram, the database collector."""

    def __init__(self, app: Any) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Counter(
            "cityhub_http_requests",
            "HTTP requests answered, by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "cityhub_http_request_duration_seconds",
            "Time to answer HTTP requests, by method and route template",
            ["method", "route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.registry.register(PlatformCollector(app))


_create_lock = threading.Lock()


def metrics_of(app: Any) -> AppMetrics:
    found: AppMetrics | None = getattr(app.state, "metrics", None)
    if found is None:
        with _create_lock:
            found = getattr(app.state, "metrics", None)
            if found is None:
                found = AppMetrics(app)
                app.state.metrics = found
    return found


def route_label(scope: Scope) -> str:
    """The matched route's template (`/api/v1/ops/systems/{code}`), never the raw path,
    which anyone can vary: unmatched requests share one label."""
    effective = scope.get("fastapi", {}).get("effective_route_context")
    template = getattr(effective, "path_format", None)  # with every router prefix
    if isinstance(template, str) and template:
        return template
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(template, str) and template:
        return template
    mounted = scope.get("root_path", "")
    if mounted and scope.get("app_root_path", "") != mounted:
        return f"{mounted}/{{path}}"  # a mounted app, e.g. /static/{path}
    return "unmatched"


class MetricsMiddleware:
    """Pure ASGI, so streaming responses stay streaming."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            metrics = metrics_of(scope["app"])
            route, method = route_label(scope), scope["method"]
            metrics.requests.labels(method, route, str(status)).inc()
            metrics.latency.labels(method, route).observe(time.perf_counter() - started)


# -- the database collector --------------------------------------------------------------------


def _gauge(name: str, doc: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=labels)


def ops_metrics(session: Session) -> Iterator[Metric]:
    systems = _gauge("cityhub_ops_systems", "Monitored systems by status", ["status"])
    for status, count in session.execute(
        select(MonitoredSystem.status, func.count()).group_by(MonitoredSystem.status)
    ):
        systems.add_metric([status], count)
    yield systems
    up = _gauge(
        "cityhub_ops_probe_up",
        "Last result of each enabled probe: 1 up or degraded, 0 down",
        ["system", "probe", "kind"],
    )
    latency = _gauge(
        "cityhub_ops_probe_latency_milliseconds",
        "Latency of each probe's last run",
        ["system", "probe", "kind"],
    )
    failures = _gauge(
        "cityhub_ops_probe_consecutive_failures",
        "Failed runs in a row, per probe",
        ["system", "probe", "kind"],
    )
    rows = session.execute(
        select(
            MonitoredSystem.code,
            Probe.id,
            Probe.kind,
            Probe.last_outcome,
            Probe.last_latency_ms,
            Probe.consecutive_failures,
        )
        .join(MonitoredSystem, MonitoredSystem.id == Probe.system_id)
        .where(Probe.enabled.is_(True))
    )
    for code, probe_id, kind, outcome, ms, failing in rows:
        labels = [code, str(probe_id), kind]
        if outcome in (Outcome.up, Outcome.degraded, Outcome.down):
            up.add_metric(labels, 0.0 if outcome == Outcome.down else 1.0)
        if ms is not None:
            latency.add_metric(labels, ms)
        failures.add_metric(labels, failing)
    yield from (up, latency, failures)
    runs = CounterMetricFamily(
        "cityhub_ops_probe_runs", "Probe runs by outcome", labels=["outcome"]
    )
    totals = session.execute(
        select(
            func.coalesce(func.sum(DailyCount.up), 0),
            func.coalesce(func.sum(DailyCount.degraded), 0),
            func.coalesce(func.sum(DailyCount.down), 0),
            func.coalesce(func.sum(DailyCount.skipped), 0),
        )
    ).one()
    for outcome, value in zip(("up", "degraded", "down", "skipped"), totals, strict=True):
        runs.add_metric([outcome], int(value))
    yield runs
    open_ = _gauge("cityhub_ops_incidents_open", "Open incidents by criticality", ["criticality"])
    for level, count in session.execute(
        select(Incident.criticality, func.count())
        .where(Incident.status.in_([s.value for s in OPEN_STATUSES]))
        .group_by(Incident.criticality)
    ):
        open_.add_metric([level], count)
    yield open_
    total = CounterMetricFamily("cityhub_ops_incidents", "Incidents ever opened")
    total.add_metric([], session.scalar(select(func.count()).select_from(Incident)) or 0)
    yield total


def ledger_metrics(session: Session) -> Iterator[Metric]:
    size = integrations.ledger_size(session)
    if size is not None:
        gauge = _gauge("cityhub_ledger_entries", "Entries notarized in the ledger")
        gauge.add_metric([], size)
        yield gauge


def sensing_metrics(session: Session) -> Iterator[Metric]:
    models = integrations.module("sensing.models")
    if models is None or not hasattr(models, "Device"):
        return
    device = models.Device
    now = utcnow()
    devices = _gauge("cityhub_sensing_devices", "Registered devices by status", ["status"])
    maintenance = device.mode == "maintenance"
    fault = device.fault_code.is_not(None)
    online = device.offline_after > now
    counts = {
        "maintenance": select(func.count()).where(maintenance),
        "fault": select(func.count()).where(~maintenance, fault),
        "online": select(func.count()).where(~maintenance, ~fault, online),
    }
    total = session.scalar(select(func.count()).select_from(device)) or 0
    seen = 0
    for status, stmt in counts.items():
        n = session.scalar(stmt.select_from(device)) or 0
        devices.add_metric([status], n)
        seen += n
    devices.add_metric(["offline"], max(0, total - seen))
    yield devices
    if hasattr(models, "RateWindow"):
        window = models.RateWindow
        minute_ms = 60_000
        last_full = (int(time.time() * 1000) // minute_ms - 1) * minute_ms
        points = session.scalar(
            select(func.coalesce(func.sum(window.points), 0)).where(window.window_ms == last_full)
        )
        rate = _gauge(
            "cityhub_sensing_ingest_points_per_second",
            "Telemetry points accepted per second over the last full minute",
        )
        rate.add_metric([], float(points or 0) / 60.0)
        yield rate


_ROW_COLUMNS = ("rows_in", "accepted", "rejected", "inserted", "updated", "unchanged", "deleted")


def exchange_metrics(session: Session) -> Iterator[Metric]:
    models = integrations.module("exchange.models")
    if models is None or not hasattr(models, "Batch"):
        return
    batch = models.Batch
    deliveries = CounterMetricFamily(
        "cityhub_exchange_deliveries", "Deliveries (交换批次) by status", labels=["status"]
    )
    for status, count in session.execute(select(batch.status, func.count()).group_by(batch.status)):
        deliveries.add_metric([str(getattr(status, "value", status))], count)
    yield deliveries
    columns = [getattr(batch, c) for c in _ROW_COLUMNS if hasattr(batch, c)]
    if columns:
        rows = CounterMetricFamily(
            "cityhub_exchange_rows", "Rows delivered, by what became of them", labels=["kind"]
        )
        sums = session.execute(select(*(func.coalesce(func.sum(c), 0) for c in columns))).one()
        for column, value in zip(columns, sums, strict=True):
            rows.add_metric([column.key], int(value))
        yield rows
    if hasattr(batch, "finished_at") and hasattr(batch, "accepted"):
        window = 300
        since = utcnow() - timedelta(seconds=window)
        accepted = session.scalar(
            select(func.coalesce(func.sum(batch.accepted), 0)).where(batch.finished_at >= since)
        )
        rate = _gauge(
            "cityhub_exchange_ingest_rows_per_second",
            "Rows accepted per second by deliveries finished in the last 5 minutes",
        )
        rate.add_metric([], float(accepted or 0) / window)
        yield rate
    if hasattr(models, "QuarantineRow"):
        row = models.QuarantineRow
        held = select(func.count()).select_from(row)
        if hasattr(row, "status"):
            held = held.where(row.status == "open")
        gauge = _gauge("cityhub_exchange_quarantine_rows", "Rejected rows waiting in quarantine")
        gauge.add_metric([], session.scalar(held) or 0)
        yield gauge


SOURCES: tuple[Source, ...] = (ops_metrics, ledger_metrics, sensing_metrics, exchange_metrics)


def scheduler_metrics(scheduler: Scheduler | None) -> Iterator[Metric]:
    if scheduler is None:
        return
    runs = CounterMetricFamily(
        "cityhub_scheduler_job_runs", "Runs of scheduled jobs", labels=["job", "result"]
    )
    for job in scheduler.status():
        runs.add_metric([job.name, "ok"], max(0, job.runs - job.failures - job.timeouts))
        runs.add_metric([job.name, "failed"], job.failures)
        runs.add_metric([job.name, "timeout"], job.timeouts)
    yield runs
    abandoned = _gauge(
        "cityhub_scheduler_abandoned_threads", "Worker threads stuck in timed-out runs"
    )
    abandoned.add_metric([], scheduler.pool.abandoned)
    yield abandoned


class PlatformCollector(Collector):
    """Reads the database when scraped; cached for CITYHUB_OPS_METRICS_CACHE_SECONDS."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._cache: tuple[float, list[Metric]] | None = None
        self._lock = threading.Lock()

    def collect(self) -> Iterable[Metric]:
        info = _gauge("cityhub_info", "cityhub version", ["version"])
        info.add_metric([__version__], 1)
        yield info
        yield from scheduler_metrics(getattr(self.app.state, "scheduler", None))
        yield from self._database()

    def _database(self) -> list[Metric]:
        ttl = self.app.state.settings.ops_metrics_cache_seconds
        with self._lock:
            if self._cache and time.monotonic() - self._cache[0] < ttl:
                return self._cache[1]
            found: list[Metric] = []
            with self.app.state.sessions() as session:
                for source in SOURCES:
                    try:
                        with session.begin():
                            found.extend(source(session))
                    except SQLAlchemyError:  # one package's trouble hides only its figures
                        log.exception("metrics source failed", extra={"source": source.__name__})
            self._cache = (time.monotonic(), found)
            return found


# -- the endpoint ---------------------------------------------------------------------------------

metrics_router = APIRouter(include_in_schema=False)


@metrics_router.get("/metrics")
def metrics(request: Request) -> Response:
    token = request.app.state.settings.ops_metrics_token
    if token is not None:
        scheme, _, sent = request.headers.get("authorization", "").partition(" ")
        expected = token.get_secret_value()
        if scheme.lower() != "bearer" or not hmac.compare_digest(sent.strip(), expected):
            raise Unauthorized("/metrics needs `Authorization: Bearer <CITYHUB_OPS_METRICS_TOKEN>`")
    body = generate_latest(metrics_of(request.app).registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
