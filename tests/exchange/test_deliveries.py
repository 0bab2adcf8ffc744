"""Deliveries by upload: formats, encodings, bad files, permissions, duplicates."""

from __future__ import annotations

import hashlib
import io
import json

import polars as pl

from cityhub.security.models import Role

from .conftest import HEADER, PEOPLE, World, id_number, people_csv, person_row
from .helpers import problem


def test_a_csv_delivery_lands_with_its_counts_and_sm3_digest(world: World) -> None:
    content = people_csv(5)
    response = world.deliver(content)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "completed"
    assert (body["rows_in"], body["accepted"], body["rejected"]) == (5, 5, 0)
    assert (body["inserted"], body["updated"], body["unchanged"]) == (5, 0, 0)
    assert body["digest"] == hashlib.new("sm3", content.encode()).hexdigest()
    assert body["bytes"] == len(content.encode())
    assert body["encoding"] == "utf-8"
    assert body["format"] == "csv"
    assert body["duration_ms"] is not None
    rows = world.rows()
    assert sorted(r["sfzh"] for r in rows) == sorted(id_number(i) for i in range(1, 6))
    fetched = world.client.get(f"/api/v1/deliveries/{body['id']}", headers=world.officer())
    assert fetched.json()["quality"]["score"] > 90


def test_the_same_file_twice_changes_nothing_the_second_time(world: World) -> None:
    content = people_csv(4)
    first = world.deliver(content).json()
    again = world.deliver(content)
    assert again.status_code == 200, again.text
    body = again.json()
    assert body["status"] == "duplicate"
    assert body["duplicate_of"] == first["id"] == body["id"]
    assert len(world.rows()) == 4
    listed = world.client.get("/api/v1/deliveries", headers=world.officer()).json()["items"]
    assert [b["id"] for b in listed] == [first["id"]]


def test_a_second_delivery_counts_updates_and_unchanged_rows(world: World) -> None:
    world.deliver(people_csv(3))
    changed = people_csv(2) + person_row(3, xm="李四") + "\n" + person_row(4) + "\n"
    body = world.deliver(changed).json()
    assert (body["inserted"], body["updated"], body["unchanged"]) == (1, 1, 2), body
    names = {r["sfzh"]: r["xm"] for r in world.rows()}
    assert names[id_number(3)] == "李四"


def test_gbk_and_gb18030_files_with_chinese_text_are_detected(world: World) -> None:
    gbk = world.deliver(people_csv(2).replace("张", "欧阳").encode("gbk"))
    assert gbk.status_code == 201, gbk.text
    assert gbk.json()["encoding"] == "gbk"
    # 𠀾 (U+2003E) exists in GB18030 only
    text = people_csv(2, start=10).replace("张", "𠀾")
    wide = world.deliver(text.encode("gb18030"), filename="wide.csv")
    assert wide.status_code == 201, wide.text
    assert wide.json()["encoding"] == "gb18030"
    names = {r["xm"] for r in world.rows()}
    assert any(n.startswith("欧阳") for n in names)
    assert any(n.startswith("𠀾") for n in names)


def test_a_declared_encoding_is_used_and_checked(world: World) -> None:
    content = people_csv(2).encode("gbk")
    ok = world.deliver(content, encoding="GBK")
    assert ok.status_code == 201, ok.text
    wrong = world.deliver(people_csv(2, start=20).encode("gbk"), encoding="utf-8")
    body = problem(wrong, 422, "not valid UTF-8")
    assert "line 2" in body["detail"]
    assert body["batch_id"]
    unknown = world.deliver(people_csv(1, start=30), encoding="latin-9")
    problem(unknown, 422, "encoding 'latin-9' is not supported")


def test_a_file_mixing_utf8_and_gbk_is_refused_with_the_line(world: World) -> None:
    utf8_part = people_csv(3).encode("utf-8")
    gbk_line = (person_row(7, xm="王五") + "\n").encode("gbk")
    response = world.deliver(utf8_part + gbk_line)
    body = problem(response, 422, "mixed encodings")
    assert "line 5" in body["detail"]
    gbk_first = people_csv(3).encode("gbk") + (person_row(8, xm="赵六") + "\n").encode("utf-8")
    problem(world.deliver(gbk_first, filename="b.csv"), 422, "line 5 is UTF-8")
    assert world.rows() == []


def test_bytes_that_are_no_known_encoding_are_refused(world: World) -> None:
    garbage = HEADER.encode() + b"\n\xff\xfe\xff\xfe,\x81\x20\n"
    problem(world.deliver(garbage), 422, "neither UTF-8, GBK nor GB18030")


def test_a_truncated_file_is_refused_and_nothing_lands(world: World) -> None:
    content = people_csv(5)
    cut = content[: content.rfind(",", 0, len(content) - 20)]
    body = problem(world.deliver(cut), 422, "truncated")
    failed = world.client.get(f"/api/v1/deliveries/{body['batch_id']}", headers=world.officer())
    assert failed.json()["status"] == "failed"
    assert world.rows() == []
    cut_char = people_csv(2).encode("utf-8") + "张".encode()[:2]
    problem(world.deliver(cut_char, filename="c.csv"), 422, "")
    cut_json = json.dumps([{"sfzh": id_number(1), "xm": "张三"}] * 2, ensure_ascii=False)[:-15]
    problem(world.deliver(cut_json, filename="p.json"), 422, "truncated")


def test_a_header_that_does_not_match_names_the_columns(world: World) -> None:
    bad = "sfzh,xm,xingbie,csrq\n" + id_number(1) + ",张三,1,1990-01-01\n"
    body = problem(world.deliver(bad), 422, "unknown column(s) xingbie")
    assert body["unknown"] == ["xingbie"]
    no_key = "xm,xb\n张三,1\n"
    body = problem(world.deliver(no_key, filename="k.csv"), 422, "missing column(s)")
    assert body["missing"] == ["sfzh"]
    mapping = {"columns": {"身份证号": "sfzh", "名字": "xm", "性别代码": "xb"}}
    saved = world.client.put(
        f"/api/v1/resources/{PEOPLE}/mappings/gaj", json=mapping, headers=world.officer()
    )
    assert saved.status_code == 200, saved.text
    mapped = world.deliver(
        "身份证号,名字,性别代码\n" + id_number(2) + ",李四,2\n", filename="m.csv", source="gaj"
    )
    assert mapped.status_code == 201, mapped.text
    mismatch = world.deliver("身份证号,姓名\n" + id_number(3) + ",王五\n", source="gaj")
    body = problem(mismatch, 422, "does not match the mapping of source 'gaj'")
    assert body["missing"] == ["名字", "性别代码"]
    assert body["unknown"] == ["姓名"]


def test_chinese_item_names_are_accepted_as_headers(world: World) -> None:
    content = "公民身份号码,姓名,性别\n" + id_number(5) + ",张三,1\n"
    response = world.deliver(content)
    assert response.status_code == 201, response.text
    assert world.rows()[0]["xm"] == "张三"


def test_duplicate_keys_inside_a_batch_are_rejected_with_the_rows(world: World) -> None:
    extra = [person_row(2, xm="重复"), person_row(9)]
    response = world.deliver(people_csv(3, extra=extra))
    body = response.json()
    assert response.status_code == 201, response.text
    assert (body["rows_in"], body["accepted"], body["rejected"]) == (5, 3, 2), body
    rows = world.client.get(
        f"/api/v1/deliveries/{body['id']}/quarantine", headers=world.officer()
    ).json()["items"]
    assert sorted(r["row_number"] for r in rows) == [2, 4]
    assert all("appears 2 times in this batch (rows 2, 4)" in r["reasons"][0] for r in rows)
    assert id_number(2) not in {r["sfzh"] for r in world.rows()}
    assert body["quality"]["uniqueness"] < 1


def test_a_department_cannot_deliver_for_a_resource_it_does_not_own(world: World) -> None:
    other = world.auth(Role.data_officer, org_code="LYWJ")
    problem(world.deliver(people_csv(2), headers=other), 403, "only data officers of")
    viewer = world.auth(Role.viewer, org_code="LYGA")
    problem(world.deliver(people_csv(2), headers=viewer), 403, "only data officers of")
    problem(world.deliver(people_csv(2), headers={}), 401, "")
    assert world.rows() == []


def test_every_format_is_read(world: World) -> None:
    frame = pl.DataFrame(
        {
            "sfzh": [id_number(i) for i in range(40, 43)],
            "xm": ["甲", "乙", "丙"],
            "xb": ["1", "2", "1"],
            "nl": [30, 40, 50],
        }
    )
    parquet = io.BytesIO()
    frame.write_parquet(parquet)
    xlsx = io.BytesIO()
    frame.with_columns(pl.col("sfzh").str.replace(r"^(\d{6})", "$1")).write_excel(xlsx)
    cases = {
        "p.parquet": parquet.getvalue(),
        "p.xlsx": xlsx.getvalue(),
        "p.json": frame.write_json().encode(),
        "p.ndjson": frame.write_ndjson().encode(),
    }
    for n, (name, content) in enumerate(cases.items()):
        if n:  # same rows again: a different file, all unchanged
            content = content
        response = world.deliver(content, filename=name)
        assert response.status_code == 201, (name, response.text)
        body = response.json()
        assert body["format"] == name.split(".")[1], name
        assert body["accepted"] == 3, (name, body)
        expected = (3, 0) if n == 0 else (0, 3)
        assert (body["inserted"], body["unchanged"]) == expected, (name, body)
    ages = sorted(r["nl"] for r in world.rows())
    assert ages == [30, 40, 50]


def test_a_large_file_is_queued_and_processed_in_the_background(world: World) -> None:
    response = world.deliver(people_csv(3), wait="false")
    assert response.status_code == 202, response.text
    batch_id = response.json()["id"]
    assert response.headers["location"] == f"/api/v1/deliveries/{batch_id}"
    import time

    for _ in range(100):
        status = world.client.get(response.headers["location"], headers=world.officer()).json()
        if status["status"] == "completed":
            break
        time.sleep(0.05)
    assert status["status"] == "completed", status
    assert len(world.rows()) == 3
