from __future__ import annotations

from .conftest import World, people_csv


def test_a_csv_delivery_lands(world: World) -> None:
    response = world.deliver(people_csv(5))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "completed", body
    assert body["rows_in"] == 5
    assert body["accepted"] == 5
    assert body["inserted"] == 5
    rows = world.rows()
    assert len(rows) == 5
