"""Every error leaves the API as RFC 9457 `application/problem+json`."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from cityhub.core.logging import request_id_var
from cityhub.errors import CityHubError

PROBLEM = "application/problem+json"
log = logging.getLogger("cityhub.api")


def problem_response(
    status: int, title: str, detail: str, type_: str = "about:blank", **extra: Any
) -> JSONResponse:
    body = {"type": type_, "title": title, "status": status, "detail": detail, **extra}
    body["request_id"] = request_id_var.get()
    headers = {"Retry-After": str(extra["retry_after"])} if "retry_after" in extra else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":  # loc holds a character offset, not a field
            reason = (err.get("ctx") or {}).get("error", "malformed")
            at = err["loc"][-1] if err.get("loc") else "?"
            message = f"the body is not valid JSON: {reason} (at character {at})"
            out.append({"field": "", "message": message})
            continue
        loc = [str(p) for p in err.get("loc", ()) if p != "body"]
        out.append({"field": ".".join(loc), "message": err.get("msg", "")})
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(CityHubError)
    async def _domain(_: Request, exc: CityHubError) -> JSONResponse:
        body = exc.problem()
        return problem_response(
            body.pop("status"), body.pop("title"), body.pop("detail"), body.pop("type"), **body
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        first = errors[0] if errors else {"field": "", "message": "invalid request"}
        where = f"{first['field']}: " if first["field"] else ""
        return problem_response(
            422,
            "Validation failed",
            f"{where}{first['message']}",
            "https://cityhub.dev/problems/validation",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {404: "Not found", 405: "Method not allowed", 401: "Authentication required"}
        title = titles.get(exc.status_code, "HTTP error")
        detail = exc.detail if isinstance(exc.detail, str) else title
        return problem_response(exc.status_code, title, detail)

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "constraint violated"
        return problem_response(
            409,
            "Conflict",
            f"the change conflicts with existing data: {reason}",
            "https://cityhub.dev/problems/conflict",
        )

    @app.exception_handler(Exception)
    async def _internal(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem_response(
            500,
            "Internal error",
            "an unexpected error occurred; quote the request id to the operator",
        )
