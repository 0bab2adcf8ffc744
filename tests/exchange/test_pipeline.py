"""Validation, standardization, quarantine (with correction and resubmission), modes."""

from __future__ import annotations

import csv
import io
from datetime import date

from .conftest import HEADER, World, id_number, people_csv, person_row


def _quarantine(world: World, batch_id: int) -> dict[int, list[str]]:
    items = world.client.get(
        f"/api/v1/deliveries/{batch_id}/quarantine", headers=world.officer()
    ).json()["items"]
    return {r["row_number"]: r["reasons"] for r in items}


def test_rejected_rows_are_quarantined_with_a_reason_each(world: World) -> None:
    bad_id = id_number(2)[:-1] + ("0" if id_number(2)[-1] != "0" else "1")
    rows = [
        person_row(1),
        person_row(2, sfzh=bad_id),
        person_row(3, lxdh="12345"),
        person_row(4, csrq="1990-02-30"),
        person_row(5, xb="9"),
        person_row(6, xm=""),
        person_row(7, hjqh="110101"),
        person_row(8, nl="200"),
        person_row(9),
    ]
    body = world.deliver(HEADER + "\n" + "\n".join(rows) + "\n").json()
    assert (body["rows_in"], body["accepted"], body["rejected"]) == (9, 2, 7), body
    reasons = _quarantine(world, body["id"])
    assert "citizen ID number" in reasons[2][0]
    assert "mobile number" in reasons[3][0]
    assert "csrq 出生日期: '1990-02-30' is not a valid date" in reasons[4][0]
    assert "not in the code list" in reasons[5][0]
    assert "xm 姓名: a value is required" in reasons[6][0]
    assert "outside region 371300" in reasons[7][0]
    assert "above the maximum 150" in reasons[8][0]
    assert sorted(r["sfzh"] for r in world.rows()) == sorted([id_number(1), id_number(9)])
    quality = body["quality"]
    assert quality["validity"] == round(2 / 9, 4)
    assert quality["items"]["lxdh"]["invalid"] == 1


def test_quarantine_download_correct_and_resubmit(world: World) -> None:
    rows = [person_row(1), person_row(2, lxdh="138-0000-000"), person_row(3, csrq="1990-13-01")]
    first = world.deliver(HEADER + "\n" + "\n".join(rows) + "\n").json()
    download = world.client.get(
        f"/api/v1/deliveries/{first['id']}/quarantine.csv", headers=world.officer()
    )
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    text = download.content.decode("utf-8-sig")
    table = list(csv.DictReader(io.StringIO(text)))
    assert [r["_row"] for r in table] == ["2", "3"]
    assert "mobile number" in table[0]["_reasons"]
    table[0]["lxdh"] = "13800000002"
    table[1]["csrq"] = "1990-12-01"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(table[0]))
    writer.writeheader()
    writer.writerows(table)
    again = world.client.post(
        f"/api/v1/deliveries/{first['id']}/resubmit",
        files={"file": ("corrected.csv", out.getvalue().encode())},
        headers=world.officer(),
    )
    assert again.status_code == 201, again.text
    second = again.json()
    assert second["parent_id"] == first["id"]
    assert second["source_kind"] == "resubmit"
    assert (second["accepted"], second["rejected"]) == (2, 0)
    assert len(world.rows()) == 3
    left = world.client.get(
        f"/api/v1/deliveries/{first['id']}/quarantine", headers=world.officer()
    ).json()["items"]
    assert {r["status"] for r in left} == {"resubmitted"}
    assert {r["resubmitted_batch_id"] for r in left} == {second["id"]}
    done = world.client.post(
        f"/api/v1/deliveries/{first['id']}/resubmit",
        files={"file": ("corrected.csv", out.getvalue().encode())},
        headers=world.officer(),
    )
    assert done.status_code == 409


def test_values_are_standardized_before_they_are_checked(world: World) -> None:
    full_width_id = id_number(1).translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    rows = [
        person_row(1, sfzh=full_width_id, csrq="1990年1月2日", lxdh="+86 138-0000-0001"),
        person_row(2, csrq="1990/3/4", hjqh="罗庄区", nl=" 40 "),
        person_row(3, csrq="19900506", hjqh="", hjdz="临沂市河东区九曲街道1号"),
        person_row(4, sfzh=id_number(4).lower().replace("x", "x"), xm="  王五  "),
    ]
    body = world.deliver(HEADER + "\n" + "\n".join(rows) + "\n").json()
    assert body["accepted"] == 4, body
    stored = {r["sfzh"]: r for r in world.rows()}
    one = stored[id_number(1)]
    assert one["lxdh"] == "13800000001"
    assert str(one["csrq"]) == str(date(1990, 1, 2))
    assert stored[id_number(2)]["hjqh"] == "371311"
    assert stored[id_number(2)]["nl"] == 40
    assert stored[id_number(3)]["hjqh"] == "371312"  # from the address
    assert stored[id_number(4)]["xm"] == "王五"


def test_fifteen_digit_id_numbers_are_upgraded(world: World) -> None:
    old = "371302900101123"  # 15 digits: born 1990-01-01
    body = world.deliver(HEADER + "\n" + person_row(1, sfzh=old) + "\n").json()
    assert body["accepted"] == 1, body
    stored = world.rows()[0]["sfzh"]
    assert len(stored) == 18 and stored.startswith("37130219900101123")


def test_incremental_deletions_by_op_column_and_by_list(world: World) -> None:
    world.deliver(people_csv(4))
    with_op = (
        "_op," + HEADER + "\n" + "delete," + person_row(1) + "\nupsert," + person_row(5) + "\n"
    )
    body = world.deliver(with_op, filename="ops.csv").json()
    assert (body["deleted"], body["inserted"]) == (1, 1), body
    listed = world.client.post(
        "/api/v1/deliveries",
        data={"resource": "301501-LYGA-000001", "mode": "incremental"},
        files={
            "file": ("empty.csv", (HEADER + "\n" + person_row(6) + "\n").encode()),
            "deletions": ("gone.csv", ("sfzh\n" + id_number(2) + "\n").encode()),
        },
        headers=world.officer(),
    ).json()
    assert (listed["deleted"], listed["inserted"]) == (1, 1), listed
    keys = sorted(r["sfzh"] for r in world.rows())
    assert keys == sorted(id_number(i) for i in (3, 4, 5, 6))
    bad_op = world.deliver("_op," + HEADER + "\nmaybe," + person_row(7) + "\n", filename="b.csv")
    assert "neither upsert nor delete" in _quarantine(world, bad_op.json()["id"])[1][0]


def test_a_full_delivery_removes_what_it_no_longer_carries(world: World) -> None:
    world.deliver(people_csv(5), mode="full")
    body = world.deliver(people_csv(3), mode="full").json()
    assert body["deleted"] == 2, body
    assert body["unchanged"] == 3
    assert sorted(r["sfzh"] for r in world.rows()) == sorted(id_number(i) for i in (1, 2, 3))
    refused = world.deliver("_op," + HEADER + "\nupsert," + person_row(1) + "\n", mode="full")
    assert refused.status_code == 422
    assert "a full delivery has no _op column" in refused.json()["detail"]


def test_a_multi_chunk_batch_finds_duplicates_across_chunks(world: World) -> None:
    world.settings.exchange_chunk_rows = 100
    world.client.app.state.settings.exchange_chunk_rows = 100  # type: ignore[attr-defined]
    body = world.deliver(people_csv(450, extra=[person_row(7, xm="后来")])).json()
    assert body["rows_in"] == 451
    assert body["rejected"] == 2
    assert body["accepted"] == 449
    assert len(world.rows()) == 449
