"""The permission matrix: every role against every gateway action, allowed and refused.

The acting user sits in the organization the action concerns: the applicant's (LYJT) for
applications and requests, the provider's (LYGA) for decisions, grants and rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest

from cityhub.security.models import Role

from .conftest import Gw
from .helpers import PEOPLE, PEOPLE_ITEMS, problem

APPLICANT, PROVIDER = "LYJT", "LYGA"


@dataclass
class Stage:
    gw: Gw
    app_id: int
    pending_id: int  # decided by "approve"
    other_pending_id: int  # decided by "reject"
    grant_id: int


Action = Callable[[Stage, dict[str, str]], httpx.Response]


def _stage(gw: Gw) -> Stage:
    gw.publish(PEOPLE, share_type="conditional", condition="仅限政务用途", items=PEOPLE_ITEMS)
    gw.fill(PEOPLE, 5)
    dev = gw.person(Role.developer, org=APPLICANT)
    app_id = gw.app(dev)
    granted = gw.request(dev, app_id, PEOPLE).json()
    gw.client.post(f"/api/v1/requests/{granted['id']}/approve", headers=gw.officer(PROVIDER))
    pending = gw.request(dev, gw.app(dev, name="第二个应用"), PEOPLE).json()
    other = gw.request(dev, gw.app(dev, name="第三个应用"), PEOPLE).json()
    grant_id = gw.client.get(f"/api/v1/requests/{granted['id']}", headers=dev).json()["grant"]["id"]
    return Stage(gw, app_id, pending["id"], other["id"], grant_id)


ACTIONS: dict[str, tuple[str, frozenset[Role], Action]] = {
    "register an application": (
        APPLICANT,
        frozenset({Role.developer}),
        lambda s, h: s.gw.client.post(
            "/api/v1/applications", json={"name": "新应用", "purpose": "测试"}, headers=h
        ),
    ),
    "issue a key": (
        APPLICANT,
        frozenset({Role.developer}),
        lambda s, h: s.gw.client.post(f"/api/v1/applications/{s.app_id}/keys", headers=h),
    ),
    "set limits": (
        APPLICANT,
        frozenset({Role.platform_admin, Role.operator}),
        lambda s, h: s.gw.client.put(
            f"/api/v1/applications/{s.app_id}/limits", json={"rate_limit": 9}, headers=h
        ),
    ),
    "request a resource": (
        APPLICANT,
        frozenset({Role.developer}),
        lambda s, h: s.gw.request(h, s.app_id, PEOPLE, items=["xm"]),
    ),
    "approve a request": (
        PROVIDER,
        frozenset({Role.data_officer}),
        lambda s, h: s.gw.client.post(f"/api/v1/requests/{s.pending_id}/approve", headers=h),
    ),
    "reject a request": (
        PROVIDER,
        frozenset({Role.data_officer}),
        lambda s, h: s.gw.client.post(
            f"/api/v1/requests/{s.other_pending_id}/reject", json={"reason": "不符合"}, headers=h
        ),
    ),
    "revoke a grant": (
        PROVIDER,
        frozenset({Role.data_officer, Role.platform_admin}),
        lambda s, h: s.gw.client.post(
            f"/api/v1/grants/{s.grant_id}/revoke", json={"reason": "检查"}, headers=h
        ),
    ),
    "read usage": (
        PROVIDER,
        frozenset(set(Role) - {Role.viewer}),
        lambda s, h: s.gw.client.get("/api/v1/usage", headers=h),
    ),
    "read rows without an application": (
        PROVIDER,
        frozenset({Role.data_officer, Role.dept_admin}),
        lambda s, h: s.gw.client.get(f"/api/v1/resources/{PEOPLE}/rows", headers=h),
    ),
}


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_permission_matrix(gw: Gw, role: Role) -> None:
    """One role against every action; each action has its own untouched target."""
    stage = _stage(gw)
    wrong = []
    for action, (org, allowed, act) in ACTIONS.items():
        answer = act(stage, gw.person(role, org=org))
        expected = "allowed" if role in allowed else "refused"
        ok = answer.status_code in (200, 201) if role in allowed else answer.status_code == 403
        if role not in allowed:
            ok = ok and answer.headers["content-type"].startswith("application/problem+json")
        if not ok:
            wrong.append(f"{action}: should be {expected}, got {answer.status_code} {answer.text}")
    assert not wrong, f"{role.value}:\n" + "\n".join(wrong)


def test_a_data_officer_of_another_department_cannot_decide(gw: Gw) -> None:
    stage = _stage(gw)
    other = gw.person(Role.data_officer, org="LYMZ")
    for verb in ("approve", "reject"):
        answer = gw.client.post(
            f"/api/v1/requests/{stage.pending_id}/{verb}", json={"reason": "越权"}, headers=other
        )
        problem(answer, 403, "asks for a resource of 测试单位 LYGA (LYGA); only its data officers")
    admin = gw.person(Role.platform_admin, org="LYZHYY")
    pending = gw.client.get(f"/api/v1/requests/{stage.pending_id}", headers=admin).json()
    assert pending["status"] == "pending"
