"""Routes of /alarms, /alarm-rules and /alarm-webhooks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cityhub.core.deps import SessionDep, SettingsDep
from cityhub.core.pagination import CursorParam, LimitParam, Page, decode_cursor, encode_cursor
from cityhub.errors import BadRequest
from cityhub.security.deps import CurrentUser
from cityhub.sensing import alarm_admin
from cityhub.sensing.models import AlarmState, Severity
from cityhub.sensing.schemas import (
    AlarmPublic,
    AlarmRuleCreate,
    AlarmRulePublic,
    AlarmRuleUpdate,
    DeliveryPublic,
    WebhookCreate,
    WebhookCreated,
    WebhookPublic,
)

router = APIRouter(tags=["sensing: alarms"])


@router.get("/alarms", response_model=Page[AlarmPublic], summary="Alarms, newest first")
def list_alarms(
    db: SessionDep,
    _user: CurrentUser,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
    state: AlarmState | None = None,
    open: Annotated[bool, Query(description="Only raised or acknowledged alarms")] = False,
    device: str | None = None,
    severity: Severity | None = None,
    region: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    organization: str | None = None,
) -> Page[AlarmPublic]:
    key = decode_cursor(cursor)
    if key is not None and not (len(key) == 1 and isinstance(key[0], int)):
        raise BadRequest("cursor is not one this server issued")
    rows = alarm_admin.list_alarms(
        db,
        limit=limit + 1,
        before_id=key[0] if key else None,
        state=state.value if state else None,
        open_only=open,
        device=device,
        severity=severity.value if severity else None,
        region=region,
        organization=organization,
    )
    items = [alarm_admin.alarm_public(db, a) for a in rows[:limit]]
    nxt = encode_cursor([items[-1].id]) if len(rows) > limit else None
    return Page(items=items, next=nxt)


@router.get("/alarms/{alarm_id}", response_model=AlarmPublic, summary="One alarm")
def get_alarm(alarm_id: int, db: SessionDep, _user: CurrentUser) -> AlarmPublic:
    return alarm_admin.alarm_public(db, alarm_admin.get_alarm(db, alarm_id))


@router.post("/alarms/{alarm_id}/acknowledge", response_model=AlarmPublic, summary="Acknowledge")
def acknowledge(alarm_id: int, db: SessionDep, user: CurrentUser) -> AlarmPublic:
    """Someone is on it: raised → acknowledged (again: no change). It clears by itself when
    the condition ends."""
    alarm = alarm_admin.acknowledge(db, alarm_admin.get_alarm(db, alarm_id), user)
    return alarm_admin.alarm_public(db, alarm)


@router.post("/alarms/{alarm_id}/clear", response_model=AlarmPublic, summary="Clear by hand")
def clear(alarm_id: int, db: SessionDep, user: CurrentUser) -> AlarmPublic:
    alarm = alarm_admin.clear_by_hand(db, alarm_admin.get_alarm(db, alarm_id), user)
    return alarm_admin.alarm_public(db, alarm)


# -- rules ----------------------------------------------------------------------------------


@router.get("/alarm-rules", response_model=list[AlarmRulePublic], summary="Alarm rules")
def list_rules(
    db: SessionDep, _user: CurrentUser, profile: str | None = None, device: str | None = None
) -> list[AlarmRulePublic]:
    return [
        alarm_admin.rule_public(db, r)
        for r in alarm_admin.list_rules(db, profile=profile, device=device)
    ]


@router.post("/alarm-rules", response_model=AlarmRulePublic, status_code=201, summary="Add a rule")
def create_rule(data: AlarmRuleCreate, db: SessionDep, user: CurrentUser) -> AlarmRulePublic:
    """A threshold (`op`, `value`, optional `clear_value`), a rate of change (`value` per
    minute) or no data for `window_s` seconds, on a profile's devices or on one device (a
    device rule replaces the profile's rule of the same kind and metric)."""
    return alarm_admin.rule_public(db, alarm_admin.create_rule(db, data, user))


@router.patch("/alarm-rules/{rule_id}", response_model=AlarmRulePublic, summary="Change a rule")
def update_rule(
    rule_id: int, data: AlarmRuleUpdate, db: SessionDep, user: CurrentUser
) -> AlarmRulePublic:
    rule = alarm_admin.update_rule(db, alarm_admin.get_rule(db, rule_id), data, user)
    return alarm_admin.rule_public(db, rule)


# -- webhooks -------------------------------------------------------------------------------


@router.get("/alarm-webhooks", response_model=list[WebhookPublic], summary="Alarm webhooks")
def list_webhooks(db: SessionDep, user: CurrentUser) -> list[WebhookPublic]:
    return [alarm_admin.webhook_public(db, h) for h in alarm_admin.list_webhooks(db, user)]


@router.post(
    "/alarm-webhooks", response_model=WebhookCreated, status_code=201, summary="Add a webhook"
)
def create_webhook(
    data: WebhookCreate, db: SessionDep, user: CurrentUser, settings: SettingsDep
) -> WebhookCreated:
    """Alarm changes are POSTed to `url`, signed: `X-CityHub-Signature: sha256=<HMAC-SHA256
    of "<X-CityHub-Timestamp>.<body>">` with the secret returned here once. Failed
    deliveries are retried with exponential backoff."""
    hook, secret = alarm_admin.create_webhook(db, settings, data, user)
    return WebhookCreated(**alarm_admin.webhook_public(db, hook).model_dump(), secret=secret)


@router.delete("/alarm-webhooks/{hook_id}", response_model=WebhookPublic, summary="Deactivate")
def deactivate_webhook(hook_id: int, db: SessionDep, user: CurrentUser) -> WebhookPublic:
    hook = alarm_admin.deactivate_webhook(db, alarm_admin.get_webhook(db, hook_id, user), user)
    return alarm_admin.webhook_public(db, hook)


@router.get(
    "/alarm-webhooks/{hook_id}/deliveries",
    response_model=list[DeliveryPublic],
    summary="Recent deliveries of a webhook",
)
def webhook_deliveries(
    hook_id: int, db: SessionDep, user: CurrentUser, limit: LimitParam = 100
) -> list[DeliveryPublic]:
    hook = alarm_admin.get_webhook(db, hook_id, user)
    return [DeliveryPublic.model_validate(d) for d in alarm_admin.deliveries(db, hook, limit)]
