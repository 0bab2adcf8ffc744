"""HTTP ingestion: single and batch, device tokens, and every kind of bad input refused with
a reason, counted per device, while the good readings still land."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.sensing.models import TelemetryPoint

from .helpers import bearer, now_ms, problem, register, send


def _stored(db: sessionmaker[Session]) -> int:
    with db() as session:
        return session.scalar(select(func.count()).select_from(TelemetryPoint)) or 0


def _counts(client: TestClient, headers: dict[str, str], device: str) -> dict[str, int]:
    rows = client.get("/api/v1/telemetry/rejections", params={"device": device}, headers=headers)
    return {r["reason"]: r["count"] for r in rows.json()}


def test_single_and_batch(
    client: TestClient, operator: dict[str, str], db: sessionmaker[Session]
) -> None:
    token = register(client, operator, "AQ-1")
    one = send(client, token, {"ts": "2026-01-01T08:00:00+08:00", "values": {"pm25": 35.2}})
    problem(one, 422, "older than 72 h")  # a fixed date long past: refused as stale
    t = now_ms()
    one = send(client, token, {"ts": datetime.now(UTC).isoformat(), "values": {"pm25": 35.2}})
    assert one.json() == {"accepted": 1, "rejected": 0, "reasons": {}, "errors": []}
    batch = {
        "points": [
            {"ts": t - k * 60_000, "values": {"pm25": k, "pm10": 2 * k}} for k in range(1, 51)
        ]
    }
    answer = send(client, token, batch)
    assert answer.status_code == 200 and answer.json()["accepted"] == 100
    assert _stored(db) == 101
    detail = client.get("/api/v1/devices/AQ-1", headers=operator).json()
    latest = {r["metric"]: r["value"] for r in detail["latest"]}
    assert latest["pm25"] == 35.2 and latest["pm10"] == 2.0
    no_ts = send(client, token, {"values": {"no2": 40, "o3": True}})
    assert no_ts.json()["accepted"] == 2


def test_authentication(client: TestClient, operator: dict[str, str]) -> None:
    register(client, operator, "AQ-2")
    problem(client.post("/api/v1/telemetry", json={"values": {"pm25": 1}}), 401, "device token")
    problem(send(client, "cdt_nope", {"values": {"pm25": 1}}), 401, "malformed")
    problem(send(client, "cdt_aaaa_bbbb", {"values": {"pm25": 1}}), 401, "unknown device token")
    key = operator["Authorization"].removeprefix("Bearer ")
    problem(send(client, key, {"values": {"pm25": 1}}), 401, "malformed")  # a user's key


def test_bad_input_is_refused_with_reasons_counted_and_good_readings_kept(
    client: TestClient, operator: dict[str, str], db: sessionmaker[Session]
) -> None:
    token = register(client, operator, "AQ-3")
    t = now_ms()
    batch = {
        "points": [
            {"ts": t, "values": {"pm25": 10, "pm10": "high", "co": 1}},
            {"ts": t - 1000, "values": {"pm25": -3, "pm10": 99999}},
            {"ts": t + 3_600_000, "values": {"pm25": 10}},
            {"ts": t - 100 * 3_600_000, "values": {"pm25": 10}},
            {"ts": "2026-03-01 08:00:00", "values": {"pm25": 10}},
            {"ts": "yesterday", "values": {"pm25": 10}},
            {"ts": t - 2000, "values": {"o3": 50, "no2": 30}},
            {"ts": t - 2000, "values": {"o3": 51}},
            "not a point",
            {"ts": t - 3000},
        ]
    }
    answer = send(client, token, batch)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["accepted"] == 3  # pm25@t, o3 and no2 @t-2000
    assert body["reasons"] == {
        "wrong_type": 1,
        "unknown_metric": 1,
        "out_of_range": 2,
        "future_timestamp": 1,
        "stale_timestamp": 1,
        "bad_timestamp": 2,
        "duplicate": 1,
        "malformed": 2,
    }
    details = {(e["index"], e["metric"]): e["detail"] for e in body["errors"]}
    assert details[(0, "pm10")] == 'pm10="high" is not a number'
    assert details[(1, "pm25")] == "pm25=-3 is outside the valid range [0, 1000]"
    assert "no UTC offset" in details[(4, "pm25")]
    assert _stored(db) == 3
    assert _counts(client, operator, "AQ-3") == body["reasons"]
    samples = client.get("/api/v1/devices/AQ-3/rejected-messages", headers=operator).json()
    assert {s["reason"] for s in samples} == set(body["reasons"]) and samples[0][
        "channel"
    ] == "http"


def test_whole_message_refusals(client: TestClient, operator: dict[str, str]) -> None:
    token = register(client, operator, "AQ-4")
    for raw, detail in [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"value": 3}', "expected"),
        (b'{"points": {}}', "`points` must be a list"),
        (b'{"ts": NaN, "values": {"pm25": 1}}', "not valid JSON"),
    ]:
        answer = client.post("/api/v1/telemetry", content=raw, headers=bearer(token))
        body = problem(answer, 400, detail)
        assert body["reason"] == "malformed"
    all_bad = send(client, token, {"values": {"pm25": 5000}})
    assert problem(all_bad, 422, "no reading was accepted")["reasons"] == {"out_of_range": 1}
    assert _counts(client, operator, "AQ-4") == {"malformed": 5, "out_of_range": 1}


def test_too_many_readings_in_one_message(
    client: TestClient, operator: dict[str, str], settings_limit: None
) -> None:
    token = register(client, operator, "AQ-5")
    points = [{"values": {"pm25": 1, "pm10": 1}} for _ in range(6)]
    problem(send(client, token, {"points": points}), 413, "12 readings in one message; at most 10")


def test_replays_are_counted_as_duplicates_and_stored_once(
    client: TestClient, operator: dict[str, str], db: sessionmaker[Session]
) -> None:
    token = register(client, operator, "AQ-6")
    t = now_ms()
    batch = {"points": [{"ts": t - k * 1000, "values": {"pm25": k}} for k in range(20)]}
    assert send(client, token, batch).json()["accepted"] == 20
    replay = send(client, token, batch)
    assert replay.status_code == 200  # a client retrying: nothing new, nothing lost
    assert replay.json()["accepted"] == 0 and replay.json()["reasons"] == {"duplicate": 20}
    assert _stored(db) == 20
    assert _counts(client, operator, "AQ-6") == {"duplicate": 20}


def test_a_flood_from_one_device_is_rate_limited(
    client: TestClient, operator: dict[str, str], db: sessionmaker[Session]
) -> None:
    profile = {
        "code": "tiny-sensor",
        "name_zh": "小传感器",
        "kind": "sensor",
        "expected_interval_s": 60,
        "max_points_per_minute": 30,
        "metrics": [{"name": "t", "unit": "°C", "min_value": -50, "max_value": 80}],
    }
    assert client.post("/api/v1/device-profiles", json=profile, headers=operator).status_code == 201
    flood = register(client, operator, "TS-1", profile="tiny-sensor")
    calm = register(client, operator, "TS-2", profile="tiny-sensor")
    t = now_ms()
    first = send(client, flood, {"points": [{"ts": t - k, "values": {"t": 20}} for k in range(25)]})
    assert first.json()["accepted"] == 25
    second = send(
        client, flood, {"points": [{"ts": t - 100 - k, "values": {"t": 20}} for k in range(10)]}
    )
    assert second.json()["accepted"] == 5 and second.json()["reasons"] == {"rate_limited": 5}
    third = send(client, flood, {"values": {"t": 21}})
    body = problem(third, 429, "more readings per minute")
    assert 0 < int(third.headers["retry-after"]) <= 60 and body["reasons"] == {"rate_limited": 1}
    assert send(client, calm, {"values": {"t": 19}}).json()["accepted"] == 1  # per device
    assert _counts(client, operator, "TS-1") == {"rate_limited": 6}
    assert _stored(db) == 31


def test_gnss_positions_move_the_device(client: TestClient, operator: dict[str, str]) -> None:
    token = register(client, operator, "BUS-1", profile="bus-gnss")
    t = now_ms()
    fixes = [
        {"ts": t - 20_000, "values": {"lon": 118.35, "lat": 35.06, "speed_kmh": 20}},
        {"ts": t - 10_000, "values": {"lon": 118.402, "lat": 35.089, "speed_kmh": 25}},
    ]
    assert send(client, token, {"points": fixes}).json()["accepted"] == 6
    device = client.get("/api/v1/devices/BUS-1", headers=operator).json()
    assert (device["lon"], device["lat"]) == (118.402, 35.089)
    assert device["region_code"] == "371312"  # Hedong, from the newest fix
    assert device["map_lon"] > device["lon"]  # shown in GCJ-02


def test_status_reports_are_validated(client: TestClient, operator: dict[str, str]) -> None:
    token = register(client, operator, "AQ-7")
    bad = client.post("/api/v1/telemetry/status", json={"state": "sleepy"}, headers=bearer(token))
    problem(bad, 400, "state must be one of")
    assert _counts(client, operator, "AQ-7") == {"malformed": 1}
    reasons = client.get("/api/v1/telemetry/reasons", headers=operator).json()
    assert set(reasons) >= {"unknown_device", "out_of_range", "duplicate", "rate_limited"}
    assert json.dumps(reasons)


def test_columnar_batches(
    client: TestClient, operator: dict[str, str], db: sessionmaker[Session]
) -> None:
    token = register(client, operator, "AQ-8")
    t = now_ms()
    body = {
        "ts": [t - 2000, t - 1000, t, "not a time"],
        "values": {"pm25": [10, None, 12.5, 3], "pm10": [20, 21, "x", 4]},
    }
    answer = send(client, token, body).json()
    assert answer["accepted"] == 4  # pm25 at t-2000 and t, pm10 at t-2000 and t-1000
    assert answer["reasons"] == {"wrong_type": 1, "bad_timestamp": 2}
    details = {(e["index"], e["metric"]): e["reason"] for e in answer["errors"]}
    assert details == {
        (2, "pm10"): "wrong_type",
        (3, "pm25"): "bad_timestamp",
        (3, "pm10"): "bad_timestamp",
    }
    assert _stored(db) == 4
    ragged = {"ts": [t], "values": {"pm25": [1, 2]}}
    problem(send(client, token, ragged), 400, "must be a list as long as ts (1)")
