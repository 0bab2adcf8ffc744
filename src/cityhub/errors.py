"""One error tree: the API turns it into RFC 9457 problem+json, the CLI into one line."""

from __future__ import annotations

from typing import Any


class CityHubError(Exception):
    """Base of every error a user can cause or fix."""

    status: int = 500
    type: str = "about:blank"
    title: str = "Internal error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        body.update(self.extra)
        return body


def _type(slug: str) -> str:
    return f"https://cityhub.dev/problems/{slug}"


class ConfigError(CityHubError):
    status, type, title = 500, _type("config"), "Configuration error"


class BadRequest(CityHubError):
    status, type, title = 400, _type("bad-request"), "Bad request"


class ValidationFailed(CityHubError):
    status, type, title = 422, _type("validation"), "Validation failed"


class Unauthorized(CityHubError):
    status, type, title = 401, _type("unauthorized"), "Authentication required"


class Forbidden(CityHubError):
    status, type, title = 403, _type("forbidden"), "Forbidden"


class NotFound(CityHubError):
    status, type, title = 404, _type("not-found"), "Not found"


class Conflict(CityHubError):
    status, type, title = 409, _type("conflict"), "Conflict"


class TooManyRequests(CityHubError):
    status, type, title = 429, _type("too-many-requests"), "Too many requests"


class ServiceUnavailable(CityHubError):
    status, type, title = 503, _type("unavailable"), "Service unavailable"
