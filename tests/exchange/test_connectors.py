"""Pull connectors: an HTTP JSON endpoint with paging and a SQL table with an incremental
column, against local sources; a source that is down fails its batch, nothing is lost."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from cityhub.exchange import connectors
from cityhub.exchange.models import Connector

from .conftest import PEOPLE, World, id_number


class _Source:
    """A department's paged JSON API: /people?page=N&size=M&since=S."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.down = False
        self.requests: list[dict[str, list[str]]] = []
        source = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlparse(self.path).query)
                source.requests.append(query)
                if source.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                page, size = int(query["page"][0]), int(query["size"][0])
                since = query.get("since", [""])[0]
                fresh = [r for r in source.records if r["updated"] > since]
                body = {"data": {"items": fresh[(page - 1) * size : page * size]}}
                raw = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/people"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, n: int, updated: str) -> None:
        for i in range(len(self.records) + 1, len(self.records) + n + 1):
            self.records.append({"sfzh": id_number(i), "xm": f"人{i}", "updated": updated})


@pytest.fixture
def source() -> Iterator[_Source]:
    made = _Source()
    yield made
    made.server.shutdown()
    made.server.server_close()


def _mapping(world: World, name: str) -> None:
    response = world.client.put(
        f"/api/v1/resources/{PEOPLE}/mappings/{name}",
        json={"columns": {"sfzh": "sfzh", "xm": "xm", "updated": "xb"}},
        headers=world.officer(),
    )
    assert response.status_code == 200, response.text


def _create(world: World, body: dict[str, Any]) -> dict[str, Any]:
    response = world.client.post("/api/v1/connectors", json=body, headers=world.officer())
    assert response.status_code == 201, response.text
    return response.json()


def test_http_connector_pages_and_remembers_its_high_water_mark(
    world: World, source: _Source
) -> None:
    # `updated` is carried into xb only to keep the fixture small: declare no code list
    world.client.put(
        f"/api/v1/resources/{PEOPLE}/exchange-rules", json={"items": {}}, headers=world.officer()
    )
    world.client.put(
        f"/api/v1/resources/{PEOPLE}/mappings/gaj-api",
        json={"columns": {"sfzh": "sfzh", "xm": "xm", "updated": "hjdz"}},
        headers=world.officer(),
    )
    source.add(5, "2026-01-01")
    made = _create(
        world,
        {
            "name": "gaj-api",
            "resource_code": PEOPLE,
            "kind": "http",
            "config": {
                "url": source.url,
                "items_path": "data.items",
                "paging": "page",
                "page_size": 2,
                "since_param": "since",
                "since_field": "updated",
            },
            "interval_seconds": 60,
        },
    )
    run = world.client.post(f"/api/v1/connectors/{made['id']}/run", headers=world.officer())
    assert run.status_code == 200, run.text
    assert run.json()["status"] == "completed"
    assert run.json()["connector"]["high_water"] == "2026-01-01"
    assert len(world.rows()) == 5
    assert len(source.requests) == 3  # pages of 2, 2, 1
    source.add(2, "2026-02-01")
    again = world.client.post(f"/api/v1/connectors/{made['id']}/run", headers=world.officer())
    assert again.json()["status"] == "completed"
    assert source.requests[-1]["since"] == ["2026-01-01"]
    batch = world.client.get(
        f"/api/v1/deliveries/{again.json()['batch_id']}", headers=world.officer()
    ).json()
    assert (batch["rows_in"], batch["inserted"]) == (2, 2)
    assert batch["source_kind"] == "http" and batch["source"] == "gaj-api"
    assert len(world.rows()) == 7


def test_a_source_that_is_down_fails_the_batch_and_loses_nothing(
    world: World, source: _Source
) -> None:
    world.client.put(
        f"/api/v1/resources/{PEOPLE}/mappings/down-api",
        json={"columns": {"sfzh": "sfzh", "xm": "xm", "updated": "hjdz"}},
        headers=world.officer(),
    )
    source.add(3, "2026-01-01")
    source.down = True
    made = _create(
        world,
        {
            "name": "down-api",
            "resource_code": PEOPLE,
            "kind": "http",
            "config": {
                "url": source.url,
                "items_path": "data.items",
                "paging": "page",
                "page_size": 10,
                "since_param": "since",
                "since_field": "updated",
            },
        },
    )
    run = world.client.post(f"/api/v1/connectors/{made['id']}/run", headers=world.officer()).json()
    assert run["status"] == "failed"
    batch = world.client.get(f"/api/v1/deliveries/{run['batch_id']}", headers=world.officer())
    assert "answered HTTP 503; retried later" in batch.json()["error"]
    assert run["connector"]["failures"] == 1
    assert run["connector"]["high_water"] is None
    assert world.rows() == []
    source.down = False
    factory = world.client.app.state.sessions  # type: ignore[attr-defined]
    with factory() as session:
        session.query(Connector).update({"next_run_at": Connector.created_at})
        session.commit()
    assert connectors.run_due(factory, world.settings) == 1
    assert len(world.rows()) == 3  # the same rows, fetched again: nothing lost
    unreachable = _create(
        world,
        {"name": "nowhere", "resource_code": PEOPLE, "kind": "http",
         "config": {"url": "http://127.0.0.1:9/none"}},
    )  # fmt: skip
    gone = world.client.post(f"/api/v1/connectors/{unreachable['id']}/run", headers=world.officer())
    assert gone.json()["status"] == "failed"
    assert "unreachable" in gone.json()["connector"]["last_error"]


def test_sql_connector_reads_only_rows_past_its_incremental_column(
    world: World, tmp_path: Path
) -> None:
    db = tmp_path / "dept.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE hukou (sfzh TEXT, xm TEXT, seq INTEGER)")
    conn.executemany(
        "INSERT INTO hukou VALUES (?, ?, ?)", [(id_number(i), f"人{i}", i) for i in range(1, 5)]
    )
    conn.commit()
    made = _create(
        world,
        {
            "name": "hukou-db",
            "resource_code": PEOPLE,
            "kind": "sql",
            "config": {
                "url": f"sqlite:///{db}",
                "table": "hukou",
                "columns": ["sfzh", "xm"],
                "incremental_column": "seq",
            },
        },
    )
    assert "hukou" in made["config"]["table"]
    first = world.client.post(f"/api/v1/connectors/{made['id']}/run", headers=world.officer())
    assert first.json()["status"] == "completed", first.text
    assert first.json()["connector"]["high_water"] == "4"
    conn.executemany("INSERT INTO hukou VALUES (?, ?, ?)", [(id_number(9), "人9", 5)])
    conn.commit()
    second = world.client.post(f"/api/v1/connectors/{made['id']}/run", headers=world.officer())
    batch = world.client.get(
        f"/api/v1/deliveries/{second.json()['batch_id']}", headers=world.officer()
    ).json()
    assert batch["rows_in"] == 1
    assert second.json()["connector"]["high_water"] == "5"
    assert len(world.rows()) == 5
    nothing = world.client.post(f"/api/v1/connectors/{made['id']}/run", headers=world.officer())
    assert nothing.json()["status"] == "nothing new"
    conn.close()
    bad = world.client.post(
        "/api/v1/connectors",
        json={"name": "bad", "resource_code": PEOPLE, "kind": "sql",
              "config": {"url": "sqlite:///x.db", "tabel": "x"}},
        headers=world.officer(),
    )  # fmt: skip
    assert bad.status_code == 422
    assert "unknown sql connector setting(s) tabel" in bad.json()["detail"]
