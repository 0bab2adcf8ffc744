"""/metrics in the Prometheus text format, read back with prometheus_client's own parser."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from pydantic import SecretStr

from cityhub.app import create_app
from cityhub.ops import runner
from cityhub.ops.checks import CheckContext, CheckResult
from cityhub.ops.models import MonitoredSystem, Probe
from cityhub.ops.vocab import Outcome
from cityhub.security.models import Role
from cityhub.settings import Settings

MakeSystem = Callable[..., MonitoredSystem]
MakeProbe = Callable[..., Probe]


def scrape(client: TestClient, **headers: str) -> dict[str, list[Sample]]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        family.name: list(family.samples)
        for family in text_string_to_metric_families(response.text)
    }


def value(samples: list[Sample], name: str, **labels: str) -> float:
    found = [s.value for s in samples if s.name == name and labels.items() <= s.labels.items()]
    assert found, f"no sample {name} {labels}"
    return sum(found)


def test_requests_are_counted_by_route_template_and_status(
    client: TestClient, make_system: MakeSystem, auth: Callable[..., dict[str, str]]
) -> None:
    make_system("APP-JT")
    viewer = auth(Role.viewer)
    for _ in range(3):
        assert client.get("/api/v1/ops/systems/APP-JT", headers=viewer).status_code == 200
    assert client.get("/api/v1/ops/systems/NOPE", headers=viewer).status_code == 404
    assert client.get("/no/such/page/12345").status_code == 404
    families = scrape(client)
    requests = families["cityhub_http_requests"]
    route = "/api/v1/ops/systems/{code}"
    assert value(requests, "cityhub_http_requests_total", route=route, status="200") == 3
    assert value(requests, "cityhub_http_requests_total", route=route, status="404") == 1
    assert value(requests, "cityhub_http_requests_total", route="unmatched") == 1
    assert not [s for s in requests if "12345" in s.labels.get("route", "")]  # no raw paths
    latency = families["cityhub_http_request_duration_seconds"]
    assert value(latency, "cityhub_http_request_duration_seconds_count", route=route) == 4
    buckets = [s for s in latency if s.name.endswith("_bucket") and s.labels["route"] == route]
    assert buckets[-1].labels["le"] == "+Inf" and buckets[-1].value == 4


def test_operations_and_platform_figures_are_exported(
    client: TestClient,
    ctx: CheckContext,
    make_system: MakeSystem,
    make_probe: MakeProbe,
) -> None:
    up_system, down_system = make_system("APP-UP"), make_system("APP-DOWN")
    ok = make_probe(up_system, target="http://10.0.0.1/")
    bad = make_probe(down_system, target="http://10.0.0.2/", failure_threshold=1)
    runner.record(ctx, runner.spec_of(ok), CheckResult(Outcome.up, 21.5, "HTTP 200"))
    runner.record(ctx, runner.spec_of(bad), CheckResult(Outcome.down, 3.0, "refused"))
    families = scrape(client)
    systems = families["cityhub_ops_systems"]
    assert value(systems, "cityhub_ops_systems", status="up") == 1
    assert value(systems, "cityhub_ops_systems", status="down") == 1
    probe_up = families["cityhub_ops_probe_up"]
    assert value(probe_up, "cityhub_ops_probe_up", system="APP-UP") == 1
    assert value(probe_up, "cityhub_ops_probe_up", system="APP-DOWN") == 0
    latency = families["cityhub_ops_probe_latency_milliseconds"]
    assert value(latency, "cityhub_ops_probe_latency_milliseconds", system="APP-UP") == 21.5
    runs = families["cityhub_ops_probe_runs"]
    assert value(runs, "cityhub_ops_probe_runs_total", outcome="down") == 1
    assert value(families["cityhub_ops_incidents_open"], "cityhub_ops_incidents_open") == 1
    # Other packages' figures, read when they are installed.
    assert "cityhub_ledger_entries" in families
    assert "cityhub_sensing_devices" in families
    assert "cityhub_exchange_deliveries" in families
    assert "cityhub_exchange_quarantine_rows" in families
    assert value(families["cityhub_info"], "cityhub_info") == 1


def test_a_metrics_token_keeps_scrapes_private(settings: Settings) -> None:
    settings.ops_metrics_token = SecretStr("scrape-secret")
    with TestClient(create_app(settings)) as client:
        refused = client.get("/metrics")
        assert refused.status_code == 401
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        families = scrape(client, Authorization="Bearer scrape-secret")
        assert "cityhub_http_requests" in families
