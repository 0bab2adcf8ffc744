"""The application factory: `create_app(settings)` wires every part; nothing at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from cityhub import __version__
from cityhub.catalog.api import router as catalog_router
from cityhub.catalog.ckan import router as ckan_router
from cityhub.catalog.portal import router as catalog_pages_router
from cityhub.core import middleware, problems
from cityhub.core.bus_nats import event_bus
from cityhub.core.db import check_connection, make_engine, session_factory
from cityhub.core.health import router as health_router
from cityhub.core.logging import configure_logging
from cityhub.core.migrations import upgrade
from cityhub.core.scheduler import start_scheduler, stop_scheduler
from cityhub.demo.ops import router as demo_ops_router
from cityhub.directory.api import router as directory_router
from cityhub.exchange.api import router as exchange_router
from cityhub.exchange.pages import router as exchange_pages_router
from cityhub.gateway.api import router as gateway_router
from cityhub.gateway.ckan_datastore import router as gateway_ckan_router
from cityhub.gateway.portal import router as gateway_pages_router
from cityhub.indicators.api import router as indicators_router
from cityhub.indicators.cockpit import api_router as cockpit_router
from cityhub.indicators.cockpit import pages_router as cockpit_pages_router
from cityhub.ledger import runtime as ledger_runtime
from cityhub.ledger.api import router as ledger_router
from cityhub.ledger.pages import router as ledger_pages_router
from cityhub.library.api import router as library_router
from cityhub.library.pages import router as library_pages_router
from cityhub.ops import runtime as ops_runtime
from cityhub.ops.api import router as ops_router
from cityhub.ops.metrics import MetricsMiddleware, metrics_router
from cityhub.ops.pages import router as ops_pages_router
from cityhub.security import audit
from cityhub.security.api import router as security_router
from cityhub.security.audit import AuditMiddleware
from cityhub.sensing.api import router as sensing_router
from cityhub.sensing.pages import router as sensing_pages_router
from cityhub.settings import Settings, load_settings
from cityhub.web import STATIC_DIR
from cityhub.web import deps as web_deps
from cityhub.web.api import router as web_api_router
from cityhub.web.pages import router as pages_router


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    settings = settings or load_settings()
    settings.check_secrets()
    configure_logging(settings.log_level)
    engine = make_engine(settings.effective_database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        check_connection(engine)
        if migrate:
            upgrade(engine)
        scheduler = start_scheduler(app)  # periodic jobs of every package (CITYHUB_SCHEDULER_*)
        audit_writer = audit.writer_of(app)
        audit_writer.start()
        yield
        stop_scheduler(scheduler)
        audit_writer.close()
        engine.dispose()

    app = FastAPI(
        title="cityhub",
        version=__version__,
        description="城市大脑公共信息平台 API · public information platform API",
        openapi_url="/api/openapi.json",
        docs_url=None,  # served below from local assets: no CDN
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.bus = event_bus(settings.bus_url)  # NATS JetStream when CITYHUB_BUS_URL is set

    problems.install(app)
    web_deps.install(app)  # pages: anonymous visitors go to the login form
    app.add_middleware(AuditMiddleware)
    app.add_middleware(middleware.RequestIdMiddleware)
    app.add_middleware(MetricsMiddleware)  # request counts and latencies for /metrics
    ops_runtime.install(app)  # probe dispatcher and upkeep on the scheduler
    ledger_runtime.install(app)  # sequencer, signed heads, tamper audit on the scheduler

    app.include_router(health_router)
    # Routers are matched in turn, each costing every request that passes it: the APIs
    # that dashboards poll come first (their paths are theirs alone).
    app.include_router(indicators_router, prefix="/api/v1")  # recomputed on events, schedule
    app.include_router(cockpit_router, prefix="/api/v1")  # cockpit JSON twin, SSE stream
    app.include_router(directory_router, prefix="/api/v1")
    app.include_router(security_router, prefix="/api/v1")
    app.include_router(web_api_router, prefix="/api/v1")
    app.include_router(catalog_router, prefix="/api/v1")
    app.include_router(gateway_ckan_router)  # before the CKAN catch-all: datastore_search
    app.include_router(ckan_router)
    app.include_router(catalog_pages_router)
    app.include_router(pages_router)
    app.include_router(gateway_router, prefix="/api/v1")
    app.include_router(gateway_pages_router)
    app.include_router(ledger_router, prefix="/api/v1")
    app.include_router(ledger_pages_router)
    app.include_router(sensing_router, prefix="/api/v1")
    app.include_router(exchange_router, prefix="/api/v1")  # deliveries, feeds, webhooks
    app.include_router(exchange_pages_router)
    app.include_router(library_router, prefix="/api/v1")  # public databases, lineage
    app.include_router(library_pages_router)
    app.include_router(sensing_pages_router)
    app.include_router(ops_router, prefix="/api/v1")
    app.include_router(ops_pages_router)
    app.include_router(cockpit_pages_router)  # /cockpit
    app.include_router(metrics_router)  # /metrics, Prometheus text format
    app.include_router(demo_ops_router)  # /demo/endpoints/...: answers in demo mode only
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json",
            title="cityhub API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    return app
