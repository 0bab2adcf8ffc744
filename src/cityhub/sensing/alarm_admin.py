"""Managing alarm rules, alarms and webhooks (the API's service layer)."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhub.core.db import utcnow
from cityhub.core.events import emit
from cityhub.directory.models import Organization
from cityhub.errors import Conflict, Forbidden, NotFound, ValidationFailed
from cityhub.security.models import Role, User
from cityhub.sensing import alarms, webhooks
from cityhub.sensing.devices import ANY_ORG, check_manage, get_device
from cityhub.sensing.models import (
    Alarm,
    AlarmRule,
    AlarmState,
    Device,
    DeviceProfile,
    RuleKind,
    Severity,
    Webhook,
    WebhookDelivery,
)
from cityhub.sensing.profiles import get_profile
from cityhub.sensing.schemas import (
    AlarmPublic,
    AlarmRuleCreate,
    AlarmRulePublic,
    AlarmRuleUpdate,
    WebhookCreate,
    WebhookPublic,
)
from cityhub.settings import Settings

# -- rules ----------------------------------------------------------------------------------


def create_rule(session: Session, data: AlarmRuleCreate, user: User) -> AlarmRule:
    profile_id = device_id = None
    metrics: set[str]
    if data.profile is not None:
        if not user.roles & ANY_ORG:
            raise Forbidden("profile-wide rules need platform_admin or operator")
        profile = get_profile(session, data.profile)
        profile_id, metrics = profile.id, {m.name for m in profile.metrics}
    else:
        device = get_device(session, data.device or "")
        check_manage(user, device.organization_id, f"add rules to device {device.code}")
        device_id, metrics = device.id, {m.name for m in device.profile.metrics}
    if data.metric is not None and data.metric not in metrics:
        raise ValidationFailed(f"metric {data.metric!r} is not reported by that profile")
    rule = AlarmRule(
        name=data.name,
        profile_id=profile_id,
        device_id=device_id,
        kind=data.kind.value,
        metric=data.metric,
        op=data.op,
        value=data.value,
        clear_value=data.clear_value,
        window_s=data.window_s,
        severity=data.severity.value,
        created_by=user.username,
    )
    session.add(rule)
    session.flush()
    alarms.rules_changed()
    emit(session, "sensing.rule.created", {"rule": rule.id, "name": rule.name}, actor=user.username)
    return rule


def get_rule(session: Session, rule_id: int) -> AlarmRule:
    rule = session.get(AlarmRule, rule_id)
    if rule is None:
        raise NotFound(f"no alarm rule with id {rule_id}")
    return rule


def _check_rule_owner(session: Session, rule: AlarmRule, user: User) -> None:
    if rule.device_id is None:
        if not user.roles & ANY_ORG:
            raise Forbidden("profile-wide rules need platform_admin or operator")
        return
    device = session.get(Device, rule.device_id)
    assert device is not None
    check_manage(user, device.organization_id, f"change rules of device {device.code}")


def update_rule(session: Session, rule: AlarmRule, data: AlarmRuleUpdate, user: User) -> AlarmRule:
    _check_rule_owner(session, rule, user)
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None and name in ("name", "severity", "enabled"):
            raise ValidationFailed(f"{name} cannot be empty")
        setattr(rule, name, value.value if hasattr(value, "value") else value)
    if rule.kind == RuleKind.threshold and (rule.op is None or rule.value is None):
        raise ValidationFailed("a threshold rule needs op and value")
    if rule.kind == RuleKind.no_data and rule.window_s is None:
        raise ValidationFailed("a no_data rule needs window_s")
    session.flush()
    alarms.rules_changed()
    emit(session, "sensing.rule.updated", {"rule": rule.id, **changes}, actor=user.username)
    return rule


def list_rules(
    session: Session, *, profile: str | None = None, device: str | None = None
) -> list[AlarmRule]:
    stmt = select(AlarmRule).order_by(AlarmRule.id)
    if profile is not None:
        stmt = stmt.where(AlarmRule.profile_id == get_profile(session, profile).id)
    if device is not None:
        stmt = stmt.where(AlarmRule.device_id == get_device(session, device).id)
    return list(session.scalars(stmt))


def rule_public(session: Session, rule: AlarmRule) -> AlarmRulePublic:
    profile = session.get(DeviceProfile, rule.profile_id) if rule.profile_id else None
    device = session.get(Device, rule.device_id) if rule.device_id else None
    return AlarmRulePublic(
        id=rule.id,
        name=rule.name,
        profile=profile.code if profile else None,
        device=device.code if device else None,
        kind=RuleKind(rule.kind),
        metric=rule.metric,
        op=rule.op,
        value=rule.value,
        clear_value=rule.clear_value,
        window_s=rule.window_s,
        severity=Severity(rule.severity),
        enabled=rule.enabled,
        created_by=rule.created_by,
        created_at=rule.created_at,
    )


# -- alarms ---------------------------------------------------------------------------------


def list_alarms(
    session: Session,
    *,
    limit: int,
    before_id: int | None = None,
    state: str | None = None,
    open_only: bool = False,
    device: str | None = None,
    severity: str | None = None,
    region: str | None = None,
    organization: str | None = None,
) -> list[Alarm]:
    """Newest first."""
    stmt = select(Alarm).order_by(Alarm.id.desc()).limit(limit)
    if before_id is not None:
        stmt = stmt.where(Alarm.id < before_id)
    if state is not None:
        stmt = stmt.where(Alarm.state == state)
    if open_only:
        stmt = stmt.where(Alarm.open_key.is_not(None))
    if severity is not None:
        stmt = stmt.where(Alarm.severity == severity)
    if device is not None:
        stmt = stmt.where(Alarm.device_id == get_device(session, device).id)
    if region is not None or organization is not None:
        devices = select(Device.id)
        if region is not None:
            devices = devices.where(Device.region_code == region)
        if organization is not None:
            org = session.scalar(select(Organization.id).where(Organization.code == organization))
            if org is None:
                raise NotFound(f"no organization with code {organization!r}")
            devices = devices.where(Device.organization_id == org)
        stmt = stmt.where(Alarm.device_id.in_(devices))
    return list(session.scalars(stmt))


def get_alarm(session: Session, alarm_id: int) -> Alarm:
    alarm = session.get(Alarm, alarm_id)
    if alarm is None:
        raise NotFound(f"no alarm with id {alarm_id}")
    return alarm


def alarm_public(session: Session, alarm: Alarm) -> AlarmPublic:
    return AlarmPublic.model_validate(alarms.payload(session, alarm))


def _check_alarm_owner(alarm: Alarm, user: User, what: str) -> None:
    check_manage(user, alarm.device.organization_id, f"{what} alarm {alarm.id}")


def acknowledge(session: Session, alarm: Alarm, user: User) -> Alarm:
    _check_alarm_owner(alarm, user, "acknowledge")
    if alarm.state == AlarmState.cleared.value:
        raise Conflict(f"alarm {alarm.id} is already cleared")
    return alarms.acknowledge(session, alarm, user.username)


def clear_by_hand(session: Session, alarm: Alarm, user: User, now: datetime | None = None) -> Alarm:
    _check_alarm_owner(alarm, user, "clear")
    if alarm.state == AlarmState.cleared.value:
        raise Conflict(f"alarm {alarm.id} is already cleared")
    return alarms.clear(session, alarm, now or utcnow(), reason="cleared by hand", by=user.username)


# -- webhooks -------------------------------------------------------------------------------


def create_webhook(
    session: Session, settings: Settings, data: WebhookCreate, user: User
) -> tuple[Webhook, str]:
    org: Organization | None
    if data.organization:
        org = session.scalar(select(Organization).where(Organization.code == data.organization))
        if org is None:
            raise ValidationFailed(f"organization {data.organization!r} does not exist")
    else:
        org = None if user.roles & ANY_ORG else user.organization
    if org is None and not user.roles & ANY_ORG:
        raise Forbidden("city-wide webhooks need platform_admin or operator")
    if org is not None:
        check_manage(user, org.id, f"add webhooks for organization {org.code}")
    secret = secrets.token_urlsafe(32)
    hook = Webhook(
        name=data.name,
        url=data.url,
        secret=webhooks.seal(settings, secret),
        events=data.events,
        organization_id=org.id if org else None,
        created_by=user.username,
    )
    session.add(hook)
    session.flush()
    emit(
        session,
        "sensing.webhook.created",
        {"webhook": hook.id, "url": hook.url},
        actor=user.username,
    )
    return hook, secret


def list_webhooks(session: Session, user: User) -> list[Webhook]:
    stmt = select(Webhook).order_by(Webhook.id)
    if not user.roles & ANY_ORG:
        stmt = stmt.where(Webhook.organization_id == user.organization_id)
    return list(session.scalars(stmt))


def get_webhook(session: Session, hook_id: int, user: User) -> Webhook:
    hook = session.get(Webhook, hook_id)
    if hook is None or not (
        user.roles & ANY_ORG
        or (hook.organization_id == user.organization_id and Role.auditor not in user.roles)
    ):
        raise NotFound(f"no webhook with id {hook_id}")
    return hook


def deactivate_webhook(session: Session, hook: Webhook, user: User) -> Webhook:
    if hook.organization_id is None and not user.roles & ANY_ORG:
        raise Forbidden("city-wide webhooks need platform_admin or operator")
    if hook.organization_id is not None:
        check_manage(user, hook.organization_id, f"change webhook {hook.id}")
    hook.active = False
    session.flush()
    emit(session, "sensing.webhook.deactivated", {"webhook": hook.id}, actor=user.username)
    return hook


def webhook_public(session: Session, hook: Webhook) -> WebhookPublic:
    org = session.get(Organization, hook.organization_id) if hook.organization_id else None
    return WebhookPublic(
        id=hook.id,
        name=hook.name,
        url=hook.url,
        events=hook.events,
        organization=org.code if org else None,
        active=hook.active,
        created_by=hook.created_by,
        created_at=hook.created_at,
    )


def deliveries(session: Session, hook: Webhook, limit: int) -> list[WebhookDelivery]:
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == hook.id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
    )
