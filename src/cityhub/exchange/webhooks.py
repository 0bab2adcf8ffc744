"""Signed webhooks: an application's subscription to the changes of a resource it is
granted, delivered page by page (a range of change numbers) with HMAC-SHA256 signatures,
retried with exponential backoff, and parked in a dead-letter list after the last attempt
(from where it can be redelivered).

Each request carries `X-CityHub-Signature: sha256=<hex HMAC-SHA256 of the body, keyed
with the subscription's secret>`, `X-CityHub-Delivery` (the delivery id, the same on every
retry) and `X-CityHub-Event: exchange.changes`. The body is rebuilt at every attempt
through the application's grants of that moment: a revoked grant sends nothing more.
One page per subscription is in flight at a time, so pages arrive in order.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction, utcnow
from cityhub.core.times import as_utc
from cityhub.errors import CityHubError, Conflict, Forbidden, NotFound, ValidationFailed
from cityhub.exchange import changes
from cityhub.exchange.models import Subscription, WebhookDelivery
from cityhub.exchange.service import Actor
from cityhub.exchange.vocab import WebhookStatus
from cityhub.gateway import access, limits, resources
from cityhub.gateway.models import Application, AppStatus
from cityhub.security.models import Role
from cityhub.settings import Settings

log = logging.getLogger("cityhub.exchange.webhooks")
PAGE = 500
MAX_BACKOFF = 3600.0
SIGNATURE_HEADER = "X-CityHub-Signature"
TIMEOUT = 10.0


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does: compare in constant time."""
    return hmac.compare_digest(sign(secret, body), header)


def app_view(session: Session, app: Application, code: str) -> access.View:
    """What `app` may read of resource `code` now (Forbidden without an active grant)."""
    if app.status is not AppStatus.active:
        raise Forbidden(f"application {app.id} is suspended")
    caller = access.Caller(
        user_id=0,
        username=f"webhook:{app.id}",
        organization_id=app.organization_id,
        roles=frozenset(),
        credential="webhook",
        application=access.AppRef(
            app.id,
            app.name,
            app.organization_id,
            limits.Limits(app.id, app.rate_limit, app.burst, app.daily_calls, app.daily_rows),
        ),
    )
    return access.view(session, caller, resources.load_published_table(session, code))


def _application(session: Session, actor: Actor, application_id: int) -> Application:
    app = session.get(Application, application_id)
    if app is None:
        raise NotFound(f"no application with id {application_id}")
    if Role.platform_admin not in actor.roles and actor.organization_id != app.organization_id:
        raise Forbidden(f"application {app.id} belongs to another organization")
    return app


def create(
    session: Session, actor: Actor, *, application_id: int, resource_code: str, url: str,
    from_start: bool = False,
) -> tuple[Subscription, str]:  # fmt: skip
    if not url.startswith(("http://", "https://")):
        raise ValidationFailed("url must be http:// or https://")
    app = _application(session, actor, application_id)
    app_view(session, app, resource_code)  # refuses without a grant
    secret = secrets.token_urlsafe(32)
    sub = Subscription(
        application_id=app.id,
        resource_code=resource_code,
        url=url,
        secret=secret,
        active=True,
        cursor=0 if from_start else changes.last_seq(session, resource_code),
        created_by=actor.username,
    )
    session.add(sub)
    session.flush()
    return sub, secret


def get(session: Session, actor: Actor, subscription_id: int) -> Subscription:
    sub = session.get(Subscription, subscription_id)
    if sub is None:
        raise NotFound(f"no subscription with id {subscription_id}")
    _application(session, actor, sub.application_id)
    return sub


def mine(session: Session, actor: Actor) -> list[Subscription]:
    stmt = select(Subscription).order_by(Subscription.id)
    if Role.platform_admin not in actor.roles:
        stmt = stmt.join(Application, Application.id == Subscription.application_id).where(
            Application.organization_id == (actor.organization_id or -1)
        )
    return list(session.scalars(stmt))


def dead_letters(session: Session, sub: Subscription) -> list[WebhookDelivery]:
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(
                WebhookDelivery.subscription_id == sub.id,
                WebhookDelivery.status == WebhookStatus.dead,
            )
            .order_by(WebhookDelivery.id)
        )
    )


def redeliver(session: Session, sub: Subscription, delivery_id: int) -> WebhookDelivery:
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.subscription_id != sub.id:
        raise NotFound(f"subscription {sub.id} has no delivery {delivery_id}")
    if delivery.status is not WebhookStatus.dead:
        raise Conflict(f"delivery {delivery_id} is {delivery.status.value}, not dead")
    delivery.status = WebhookStatus.pending
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    delivery.last_error = ""
    session.flush()
    return delivery


# -- dispatching ---------------------------------------------------------------------------


def _plan(session: Session) -> None:
    """A new page for every subscription with changes and nothing in flight."""
    busy = set(
        session.scalars(
            select(WebhookDelivery.subscription_id).where(
                WebhookDelivery.status == WebhookStatus.pending
            )
        )
    )
    for sub in session.scalars(select(Subscription).where(Subscription.active.is_(True))):
        if sub.id in busy:
            continue
        last = changes.last_seq(session, sub.resource_code)
        if last <= sub.cursor:
            continue
        to_seq = min(last, sub.cursor + PAGE)
        session.add(
            WebhookDelivery(
                subscription_id=sub.id,
                from_seq=sub.cursor + 1,
                to_seq=to_seq,
                status=WebhookStatus.pending,
                attempts=0,
                next_attempt_at=utcnow(),
            )
        )
        sub.cursor = to_seq


def body_of(
    session: Session, delivery: WebhookDelivery, sub: Subscription, secret_key: bytes
) -> bytes:
    app = session.get(Application, sub.application_id)
    if app is None:
        raise NotFound(f"application {sub.application_id} is gone")
    view = app_view(session, app, sub.resource_code)
    items, _ = changes.page(
        session,
        view,
        after=delivery.from_seq - 1,
        upto=delivery.to_seq,
        limit=delivery.to_seq - delivery.from_seq + 1,
        secret=secret_key,
    )
    document: dict[str, Any] = {
        "event": "exchange.changes",
        "subscription_id": sub.id,
        "delivery_id": delivery.id,
        "resource_code": sub.resource_code,
        "from_seq": delivery.from_seq,
        "to_seq": delivery.to_seq,
        "attempt": delivery.attempts + 1,
        "changes": [changes.as_json(c) for c in items],
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _backoff(settings: Settings, attempts: int) -> timedelta:
    seconds = settings.exchange_webhook_backoff_seconds * (2 ** max(0, attempts - 1))
    return timedelta(seconds=min(MAX_BACKOFF, seconds))


def attempt(
    factory: sessionmaker[Session], settings: Settings, client: httpx.Client, delivery_id: int
) -> WebhookStatus:
    """One try of one delivery; its outcome is recorded."""
    secret_key = settings.secret_key.get_secret_value().encode()
    error, status_code, body = "", None, b""
    with factory() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.status is not WebhookStatus.pending:
            return WebhookStatus.delivered if delivery is None else delivery.status
        sub = session.get(Subscription, delivery.subscription_id)
        assert sub is not None
        url, secret = sub.url, sub.secret
        try:
            body = body_of(session, delivery, sub, secret_key)
        except CityHubError as exc:
            error = exc.detail
    if not error:
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(secret, body),
            "X-CityHub-Delivery": str(delivery_id),
            "X-CityHub-Event": "exchange.changes",
        }
        try:
            response = client.post(url, content=body, headers=headers, timeout=TIMEOUT)
            status_code = response.status_code
            if not 200 <= response.status_code < 300:
                error = f"HTTP {response.status_code} from {url}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__
    with transaction(factory) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        assert delivery is not None
        delivery.attempts += 1
        delivery.last_status_code = status_code
        if not error:
            delivery.status = WebhookStatus.delivered
            delivery.delivered_at = utcnow()
            delivery.last_error = ""
        elif delivery.attempts >= settings.exchange_webhook_max_attempts:
            delivery.status = WebhookStatus.dead
            delivery.last_error = error
            log.warning("webhook delivery dead-lettered", extra={"delivery_id": delivery_id})
        else:
            delivery.last_error = error
            delivery.next_attempt_at = utcnow() + _backoff(settings, delivery.attempts)
        return delivery.status


def dispatch(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    client: httpx.Client | None = None,
    now: datetime | None = None,
) -> int:
    """Plan new pages, then try every due delivery once; returns the attempts made."""
    with transaction(factory) as session:
        _plan(session)
    moment = now or utcnow()
    with factory() as session:
        due = [
            d.id
            for d in session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.status == WebhookStatus.pending)
                .order_by(WebhookDelivery.id)
                .limit(200)
            )
            if as_utc(d.next_attempt_at) <= moment
        ]
    if not due:
        return 0
    owned = client is None
    http = client or httpx.Client(follow_redirects=False)
    try:
        for delivery_id in due:
            attempt(factory, settings, http, delivery_id)
    finally:
        if owned:
            http.close()
    return len(due)
