"""Quality reports of batches and resources."""

from __future__ import annotations

from datetime import timedelta

from cityhub.core.db import utcnow
from cityhub.exchange import quality

from .conftest import HEADER, PEOPLE, World, people_csv, person_row


def test_batch_and_resource_quality_reports(world: World) -> None:
    rows = [person_row(1), person_row(2, lxdh=""), person_row(3, csrq="bad"), person_row(1)]
    batch = world.deliver(HEADER + "\n" + "\n".join(rows) + "\n").json()
    report = world.client.get(
        f"/api/v1/deliveries/{batch['id']}/quality", headers=world.officer()
    ).json()
    assert report["validity"] == 0.75  # one row with a bad value
    assert report["uniqueness"] == 0.5  # two rows share a key
    assert report["completeness"] < 1  # an empty phone
    assert report["timeliness"] == 1.0
    assert report["consistency"] is None  # one source: not rated
    assert 0 < report["score"] < 100
    world.deliver(people_csv(3, start=10))
    resource = world.client.get(
        f"/api/v1/resources/{PEOPLE}/quality", headers=world.officer()
    ).json()
    assert resource["batches"] == 2 and resource["rows"] == 7
    assert resource["timeliness"] == 1.0
    assert resource["sources"][0]["source"] == "upload"
    factory = world.client.app.state.sessions  # type: ignore[attr-defined]
    with factory() as session:
        late = quality.resource_report(session, PEOPLE, now=utcnow() + timedelta(days=4))
    assert 0.2 < late["timeliness"] < 0.3  # a daily resource four days after delivery
    assert late["score"] < resource["score"]
