from __future__ import annotations

from fastapi import APIRouter
from fastapi.testclient import TestClient

from cityhub.app import create_app
from cityhub.settings import Settings

PROBLEM = "application/problem+json"


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "migrations": "ok"}


def test_readiness_reports_an_unreachable_database(settings: Settings) -> None:
    app = create_app(settings)
    with TestClient(app) as client:
        app.state.engine.dispose()
        from cityhub.core.db import make_engine

        app.state.engine = make_engine("postgresql+psycopg://127.0.0.1:1/nowhere")
        answer = client.get("/readyz")
    assert answer.status_code == 503
    assert "unreachable" in answer.json()["checks"]["database"]


def test_openapi_and_docs(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    assert spec["info"]["title"] == "cityhub"
    assert "/api/v1/organizations" in spec["paths"]
    assert client.get("/api/docs").status_code == 200


def test_every_response_carries_a_request_id(client: TestClient) -> None:
    generated = client.get("/healthz").headers["x-request-id"]
    assert len(generated) == 32
    echoed = client.get("/healthz", headers={"X-Request-ID": "trace-12345678"})
    assert echoed.headers["x-request-id"] == "trace-12345678"
    forged = client.get("/healthz", headers={"X-Request-ID": "bad id\nwith newline"})
    assert forged.headers["x-request-id"] != "bad id\nwith newline"


def test_not_found_is_problem_json(client: TestClient) -> None:
    answer = client.get("/api/v1/nothing-here")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == PROBLEM
    body = answer.json()
    assert body["status"] == 404 and body["title"] == "Not found"
    assert body["request_id"] == answer.headers["x-request-id"]


def test_method_not_allowed_is_problem_json(client: TestClient) -> None:
    answer = client.delete("/healthz")
    assert answer.status_code == 405
    assert answer.headers["content-type"] == PROBLEM


def test_internal_error_is_problem_json_without_a_traceback(settings: Settings) -> None:
    app = create_app(settings)
    boom = APIRouter()

    @boom.get("/api/v1/boom")
    def _boom() -> None:
        raise RuntimeError("secret internals")

    app.include_router(boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/api/v1/boom")
    assert answer.status_code == 500
    assert answer.headers["content-type"] == PROBLEM
    assert "secret internals" not in answer.text and "Traceback" not in answer.text


def test_api_docs_use_only_local_assets(client: TestClient) -> None:
    page = client.get("/api/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page
    assert "cdn." not in page and "https://" not in page.replace("https://cityhub.dev", "")
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_malformed_json_body_says_why(client: TestClient) -> None:
    answer = client.post(
        "/api/v1/auth/login",
        content=b'{"username": "a",',
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM
    assert answer.json()["detail"].startswith("the body is not valid JSON: ")
