"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from cityhub import __version__
from cityhub.core.db import check_connection
from cityhub.core.migrations import pending
from cityhub.errors import CityHubError

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get("/readyz", summary="Readiness: the database answers and its schema is current")
def readyz(request: Request) -> JSONResponse:
    engine = request.app.state.engine
    checks: dict[str, str] = {}
    try:
        check_connection(engine)
        checks["database"] = "ok"
        missing = pending(engine)
        checks["migrations"] = "ok" if not missing else f"pending: {', '.join(sorted(missing))}"
    except CityHubError as exc:
        checks["database"] = exc.detail
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )
