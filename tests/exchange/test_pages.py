"""Console pages: batches, one batch with its quarantine (download, correct, resubmit),
quality; Chinese first, English on request."""

from __future__ import annotations

import re

from cityhub.security.models import Role

from .conftest import HEADER, World, person_row

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _login(world: World, username: str) -> None:
    token = CSRF.search(world.client.get("/login").text)
    assert token is not None
    answer = world.client.post(
        "/login",
        data={"username": username, "password": "Passw0rd!x", "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert answer.status_code in (302, 303), answer.text


def test_console_pages_show_batches_quarantine_and_quality(world: World) -> None:
    world.auth(Role.data_officer, org_code="LYGA", username="gaj_officer")
    rows = [person_row(1), person_row(2, lxdh="12345")]
    batch = world.deliver(HEADER + "\n" + "\n".join(rows) + "\n").json()
    assert world.client.get("/exchange", follow_redirects=False).status_code == 303
    _login(world, "gaj_officer")
    listing = world.client.get("/exchange")
    assert listing.status_code == 200
    assert "交换批次" in listing.text and "已完成" in listing.text
    assert f'href="/exchange/batches/{batch["id"]}"' in listing.text
    english = world.client.get("/exchange?lang=en")
    assert "Delivery batches" in english.text and "Completed" in english.text
    page = world.client.get(f"/exchange/batches/{batch['id']}?lang=zh-CN")
    assert page.status_code == 200
    assert "mobile number" in page.text  # the reason of row 2
    assert f"/api/v1/deliveries/{batch['id']}/quarantine.csv" in page.text
    token = CSRF.search(page.text)
    assert token is not None
    corrected = HEADER + "\n" + person_row(2) + "\n"
    answer = world.client.post(
        f"/exchange/batches/{batch['id']}/resubmit",
        data={"csrf_token": token.group(1)},
        files={"file": ("fixed.csv", corrected.encode())},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    new_page = world.client.get(answer.headers["location"])
    assert "更正自批次" in new_page.text
    assert len(world.rows()) == 2
    quality = world.client.get("/exchange/quality")
    assert quality.status_code == 200
    assert "完整性" in quality.text and "301501-LYGA-000001" in quality.text
    bad = world.client.post(
        f"/exchange/batches/{batch['id']}/resubmit",
        data={"csrf_token": "forged"},
        files={"file": ("fixed.csv", corrected.encode())},
        follow_redirects=False,
    )
    assert "error=csrf" in bad.headers["location"]
