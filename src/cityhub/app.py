"""The application factory: `create_app(settings)` wires every part; nothing at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from cityhub import __version__
from cityhub.core import middleware, problems
from cityhub.core.db import check_connection, make_engine, session_factory
from cityhub.core.events import EventBus
from cityhub.core.health import router as health_router
from cityhub.core.logging import configure_logging
from cityhub.core.migrations import upgrade
from cityhub.directory.api import router as directory_router
from cityhub.security.api import router as security_router
from cityhub.security.audit import AuditMiddleware
from cityhub.settings import Settings, load_settings
from cityhub.web import STATIC_DIR
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
        yield
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
    app.state.bus = EventBus()

    problems.install(app)
    app.add_middleware(AuditMiddleware)
    app.add_middleware(middleware.RequestIdMiddleware)

    app.include_router(health_router)
    app.include_router(directory_router, prefix="/api/v1")
    app.include_router(security_router, prefix="/api/v1")
    app.include_router(web_api_router, prefix="/api/v1")
    app.include_router(pages_router)
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
