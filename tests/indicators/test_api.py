"""`/api/v1/indicators` and the cockpit's JSON twin and live stream."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction, utcnow
from cityhub.core.events import emit
from cityhub.indicators import service
from cityhub.indicators.numbers import human
from cityhub.indicators.stream import feed_of
from cityhub.security.models import Role
from cityhub.settings import Settings

from .helpers import pm25_rule, reading, register

Auth = Callable[..., dict[str, str]]


def test_list_one_and_values(
    client: TestClient,
    auth: Auth,
    settings: Settings,
    db: sessionmaker[Session],
    residents: Callable[..., None],
) -> None:
    viewer = auth(Role.viewer)
    residents({"371302": 4})
    service.recompute(db, settings)
    first = client.get("/api/v1/indicators", params={"limit": 5}, headers=viewer)
    assert first.status_code == 200, first.text
    page = first.json()
    assert [i["code"] for i in page["items"]][:2] == [
        "library.residents",
        "library.market_entities",
    ]
    assert page["next"]
    codes = [i["code"] for i in page["items"]]
    cursor = page["next"]
    while cursor:
        more = client.get(
            "/api/v1/indicators", params={"limit": 5, "cursor": cursor}, headers=viewer
        )
        codes += [i["code"] for i in more.json()["items"]]
        cursor = more.json()["next"]
    assert len(codes) == len(set(codes)) >= 16
    assert {"sensing.online_rate", "ledger.signed_head", "ops.open_incidents"} <= set(codes)

    one = client.get("/api/v1/indicators/library.residents", headers=viewer).json()
    assert one["latest"]["371300"]["value"] == 4 and one["granularity"] == "district"
    assert one["refresh"]["topics"] == ["library.merged"] and one["link"] == "/library/population"
    in_lanshan = client.get(
        "/api/v1/indicators", params={"region": "371302", "limit": 1}, headers=viewer
    ).json()
    assert list(in_lanshan["items"][0]["latest"]) == ["371302"]

    values = client.get(
        "/api/v1/indicators/library.residents/values", params={"region": "371302"}, headers=viewer
    ).json()
    assert values["region"] == "371302" and [p["value"] for p in values["points"]] == [4]
    later = (utcnow() + timedelta(hours=2)).isoformat()
    empty = client.get(
        "/api/v1/indicators/library.residents/values",
        params={"from": later, "every": "day"},
        headers=viewer,
    ).json()
    assert empty["points"] == [] and empty["every"] == "day"


def test_errors_are_problems(client: TestClient, auth: Auth) -> None:
    viewer = auth(Role.viewer)
    assert client.get("/api/v1/indicators").status_code == 401
    missing = client.get("/api/v1/indicators/nope.nothing", headers=viewer)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/indicators?cursor=abc", headers=viewer).status_code == 400
    backwards = client.get(
        "/api/v1/indicators/library.residents/values",
        params={"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
        headers=viewer,
    )
    assert backwards.status_code == 400
    assert (
        client.get("/cockpit", follow_redirects=False).headers["location"]
        == "/login?next=%2Fcockpit"
    )


def test_cockpit_twin_drills_down(
    client: TestClient,
    settings: Settings,
    db: sessionmaker[Session],
    operator: dict[str, str],
    residents: Callable[..., None],
) -> None:
    residents({"371302": 30_000, "371311": 2})
    pm25_rule(client, operator)
    register(client, operator, "AQ-YN", lonlat=(118.60, 35.55))  # 沂南县
    reading(client, register(client, operator, "AQ-LS"), 400)  # 兰山区: an alarm
    service.recompute(db, settings)
    city = client.get("/api/v1/cockpit", headers=operator).json()
    assert city["region"] is None and len(city["districts"]) == 12
    figures = {f["code"]: f for f in city["figures"]}
    assert figures["library.residents"]["display"] == "3万人"
    assert figures["sensing.open_alarms"]["value"] == 1
    assert city["choropleth"]["371302"] == 30_000 and city["map_indicator"] == "library.residents"
    assert {d["code"] for d in city["devices"]} == {"AQ-YN", "AQ-LS"}
    assert [len(t["values"]) for t in city["trends"]] == [30, 30, 30, 30]

    yinan = client.get(
        "/api/v1/cockpit", params={"region": "371321", "map": "sensing.open_alarms"},
        headers=operator | {"Cookie": "cityhub_lang=en"},
    ).json()  # fmt: skip
    assert yinan["region"]["code"] == "371321" and yinan["map_indicator"] == "sensing.open_alarms"
    assert [d["code"] for d in yinan["devices"]] == ["AQ-YN"]
    assert all(t["kind"] != "alarm" for t in yinan["ticker"])  # the alarm is in 兰山区
    figs = {f["code"]: f for f in yinan["figures"]}
    assert (
        figs["library.residents"]["value"] == 0 and figs["library.residents"]["scope"] == "371321"
    )
    assert figs["catalog.published"]["scope"] == "371300"  # a city-wide figure stays the city's
    assert figs["sensing.online_rate"]["link"] == "/sensing/devices?region=371321"


def test_numbers_in_chinese_units() -> None:
    assert human(11_034_521, "zh-CN", "人") == "1,103.45万人"
    assert human(1.2e9, "zh-CN") == "12亿"
    assert human(11_034_521, "en", "people") == "11.03M people"
    assert human(96.456, "en", "%") == "96.5%"
    assert human(None, "zh-CN") == "—"
    assert human(812, "zh-CN", "条") == "812条"
    assert human(1, "en", "alarms") == "1 alarm" and human(2, "en", "alarms") == "2 alarms"


def test_stream_sends_new_events_and_resumes(
    client: TestClient, auth: Auth, db: sessionmaker[Session]
) -> None:
    viewer = auth(Role.viewer)

    def raise_alarm(alarm_id: int) -> None:
        with transaction(db) as session:
            body = {"id": alarm_id, "state": "raised", "region": "371302", "message": "水位超限"}
            emit(session, "sensing.alarm.raised", body)
            emit(session, "catalog.resource.created", {"code": "x"})  # not for the cockpit

    feed = feed_of(client.app)

    def when_listening() -> None:
        deadline = time.monotonic() + 10
        while not feed.listeners and time.monotonic() < deadline:
            time.sleep(0.05)
        raise_alarm(7)

    timer = threading.Thread(target=when_listening)
    timer.start()
    answer = client.get("/api/v1/cockpit/stream", params={"lifetime": 3}, headers=viewer)
    timer.join()
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    text = answer.text
    assert text.startswith("retry: 1000")
    assert "event: alarm" in text and "水位超限" in text and "catalog.resource" not in text
    event_id = int(text.split("id: ")[1].split("\n")[0])
    raise_alarm(8)
    resumed = client.get(
        "/api/v1/cockpit/stream",
        params={"lifetime": 1},
        headers=viewer | {"Last-Event-ID": str(event_id)},
    ).text
    assert '"id": 8' in resumed and '"id": 7' not in resumed


def test_district_boundaries_for_the_map(client: TestClient) -> None:
    answer = client.get("/api/v1/cockpit/districts.geojson")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/geo+json")
    features = answer.json()["features"]
    assert [f["id"] for f in features][:2] == ["371302", "371311"] and len(features) == 12
    assert features[0]["properties"]["name_zh"] == "兰山区"
    assert features[0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
