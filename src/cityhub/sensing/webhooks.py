"""Signed webhooks for alarms: queued with the change (same transaction), sent afterwards
with retries and exponential backoff.

Each request is a JSON POST with headers
  X-CityHub-Event: sensing.alarm.raised
  X-CityHub-Delivery: <delivery id>            (the same on every retry: de-duplicate on it)
  X-CityHub-Timestamp: <unix seconds>
  X-CityHub-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the secret>
A receiver recomputes the HMAC and refuses old timestamps, so a captured request cannot be
replayed later. The secrets are kept SM4-encrypted (security.sm4): the platform needs them
to sign, so they cannot be hashed, but a copy of the database does not give them away.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import json
import logging
import time
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction, utcnow
from cityhub.security import sm4
from cityhub.sensing.models import Webhook, WebhookDelivery
from cityhub.settings import Settings

log = logging.getLogger("cityhub.sensing.webhooks")

BASE_DELAY_S = 5.0
MAX_DELAY_S = 3600.0
LEASE_S = 60  # a delivery being sent is not picked by another worker for this long
TIMEOUT_S = 5.0


PURPOSE = "sensing.webhook"  # the SM4 key of webhook secrets
CONTEXT = "sensing_webhooks.secret"


def _key(settings: Settings) -> bytes:
    return sm4.derive_key(settings.secret_key.get_secret_value(), PURPOSE)


def seal(settings: Settings, secret: str) -> str:
    """A webhook secret as stored: SM4-encrypted."""
    return sm4.encrypt(_key(settings), secret, context=CONTEXT)


def unseal(settings: Settings, stored: str) -> str:
    """The secret of a stored webhook (rows from before encryption pass as they are)."""
    if not sm4.is_encrypted(stored):
        return stored
    return sm4.decrypt(_key(settings), stored, context=CONTEXT)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does (and the tests): constant-time comparison of the signature."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after `attempts` failures: 5 s, 10 s, 20 s ... 1 h."""
    return timedelta(seconds=min(MAX_DELAY_S, BASE_DELAY_S * 2 ** max(attempts - 1, 0)))


def enqueue(session: Session, event: str, data: dict[str, Any], organization_id: int | None) -> int:
    """Queue `event` for every active webhook that wants it; the number queued."""
    hooks = session.scalars(
        select(Webhook).where(
            Webhook.active.is_(True),
            or_(Webhook.organization_id.is_(None), Webhook.organization_id == organization_id),
        )
    )
    queued = 0
    for hook in hooks:
        if not fnmatch.fnmatchcase(event, hook.events):
            continue
        body = json.dumps(
            {"event": event, "data": data, "at": utcnow().isoformat()},
            ensure_ascii=False,
            separators=(",", ":"),
            default=str,
        )
        session.add(WebhookDelivery(webhook_id=hook.id, event=event, payload=body))
        queued += 1
    if queued:
        session.flush()
    return queued


def _claim(
    factory: sessionmaker[Session], settings: Settings, now: datetime, limit: int
) -> list[tuple[int, str, str, str, str, int]]:
    with transaction(factory) as session:
        rows = list(
            session.execute(
                select(WebhookDelivery, Webhook)
                .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                .limit(limit)
                .with_for_update(skip_locked=True, of=WebhookDelivery)
            ).all()
        )
        claimed = []
        for delivery, hook in rows:
            delivery.next_attempt_at = now + timedelta(seconds=LEASE_S)
            claimed.append(
                (
                    delivery.id,
                    hook.url,
                    unseal(settings, hook.secret),
                    delivery.event,
                    delivery.payload,
                    delivery.attempts,
                )
            )
        return claimed


def deliver_due(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    max_attempts: int,
    now: datetime | None = None,
    limit: int = 50,
    client: httpx.Client | None = None,
) -> int:
    """Send the deliveries that are due; the number delivered now."""
    moment = now or utcnow()
    claimed = _claim(factory, settings, moment, limit)
    if not claimed:
        return 0
    own = client is None
    http = client or httpx.Client(timeout=TIMEOUT_S, follow_redirects=False)
    delivered = 0
    try:
        for delivery_id, url, secret, event, body, attempts in claimed:
            status, error = _post(http, url, secret, event, delivery_id, body.encode())
            with transaction(factory) as session:
                row = session.get(WebhookDelivery, delivery_id)
                if row is None:
                    continue
                row.attempts = attempts + 1
                row.last_status = status
                row.last_error = error[:500]
                if status is not None and 200 <= status < 300:
                    row.status = "delivered"
                    row.delivered_at = utcnow()
                    delivered += 1
                elif row.attempts >= max_attempts:
                    row.status = "failed"
                    log.warning("webhook gave up", extra={"delivery": delivery_id, "url": url})
                else:
                    row.next_attempt_at = moment + backoff(row.attempts)
    finally:
        if own:
            http.close()
    return delivered


def _post(
    http: httpx.Client, url: str, secret: str, event: str, delivery_id: int, body: bytes
) -> tuple[int | None, str]:
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "cityhub-webhooks",
        "X-CityHub-Event": event,
        "X-CityHub-Delivery": str(delivery_id),
        "X-CityHub-Timestamp": timestamp,
        "X-CityHub-Signature": sign(secret, timestamp, body),
    }
    try:
        response = http.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"
    error = "" if response.is_success else f"HTTP {response.status_code}"
    return response.status_code, error
