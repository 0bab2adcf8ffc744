"""Change delivery: the pull change feed of a resource, webhook subscriptions and their
dead-letter list."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cityhub.core.db import transaction
from cityhub.core.pagination import decode_cursor, encode_cursor
from cityhub.errors import BadRequest, ValidationFailed
from cityhub.exchange import changes, webhooks
from cityhub.exchange.auth import ActorDep
from cityhub.exchange.schemas import (
    ChangePage,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionPublic,
    WebhookDeliveryPublic,
)
from cityhub.gateway.calls import DataCall

router = APIRouter()
MAX_CHANGES = 1000


def _since(raw: str | None) -> int:
    """`since` is the `next` cursor of a previous page, or a plain change number."""
    if raw is None or raw == "":
        return 0
    if raw.isdigit():
        return int(raw)
    value = decode_cursor(raw)
    if not value or not isinstance(value[0], int) or value[0] < 0:
        raise BadRequest("since is not a cursor this server issued")
    return int(value[0])


@router.get(
    "/resources/{code}/changes",
    response_model=ChangePage,
    summary="Change feed of a resource (at least once, in order)",
    description="Changes after `since` (the `next` of your previous call; start without "
    "it). Each change carries the row as it is now, limited and masked by your grant, or "
    "op=delete when the row is gone. Store `next` only after you processed the page: a "
    "change may then come twice, never not at all.",
)
def change_feed(
    code: str, request: Request, since: str | None = None, limit: int = 500
) -> Response:
    if not 1 <= limit <= MAX_CHANGES:
        raise ValidationFailed(f"limit must be between 1 and {MAX_CHANGES}")
    after = _since(since)
    call = DataCall(request, "changes")
    secret = request.app.state.settings.secret_key.get_secret_value().encode()

    def work() -> dict[str, Any]:
        view = call.open(code)
        with request.app.state.sessions() as session:
            items, last = changes.page(session, view, after=after, limit=limit, secret=secret)
            call.rows = len(items)
            return {
                "items": [changes.as_json(c) for c in items],
                "next": encode_cursor([last]),
                "last_seq": changes.last_seq(session, code),
            }

    body = call.run(work)
    payload = ChangePage.model_validate(body).model_dump_json().encode()
    call.size = len(payload)
    call.record()
    return Response(payload, media_type="application/json", headers=call.headers())


@router.post(
    "/subscriptions",
    response_model=SubscriptionCreated,
    status_code=201,
    summary="Subscribe an application to a resource's changes (signed webhook)",
)
def subscribe(body: SubscriptionCreate, request: Request, actor: ActorDep) -> dict[str, Any]:
    with transaction(request.app.state.sessions) as session:
        sub, secret = webhooks.create(
            session,
            actor,
            application_id=body.application_id,
            resource_code=body.resource_code,
            url=str(body.url),
            from_start=body.from_start,
        )
        return {**SubscriptionPublic.model_validate(sub).model_dump(), "secret": secret}


@router.get("/subscriptions", response_model=list[SubscriptionPublic], summary="Subscriptions")
def subscriptions(request: Request, actor: ActorDep) -> list[Any]:
    with request.app.state.sessions() as session:
        return [SubscriptionPublic.model_validate(s) for s in webhooks.mine(session, actor)]


@router.delete("/subscriptions/{subscription_id}", status_code=204, summary="Unsubscribe")
def unsubscribe(subscription_id: int, request: Request, actor: ActorDep) -> Response:
    with transaction(request.app.state.sessions) as session:
        webhooks.get(session, actor, subscription_id).active = False
    return Response(status_code=204)


@router.get(
    "/subscriptions/{subscription_id}/deliveries",
    response_model=list[WebhookDeliveryPublic],
    summary="Recent webhook deliveries of a subscription",
)
def deliveries(
    subscription_id: int, request: Request, actor: ActorDep, status: str | None = None
) -> list[Any]:
    from sqlalchemy import select

    from cityhub.exchange.models import WebhookDelivery

    with request.app.state.sessions() as session:
        sub = webhooks.get(session, actor, subscription_id)
        stmt = (
            select(WebhookDelivery)
            .where(WebhookDelivery.subscription_id == sub.id)
            .order_by(WebhookDelivery.id.desc())
            .limit(200)
        )
        if status:
            stmt = stmt.where(WebhookDelivery.status == status)
        return [WebhookDeliveryPublic.model_validate(d) for d in session.scalars(stmt)]


@router.get(
    "/subscriptions/{subscription_id}/dead-letters",
    response_model=list[WebhookDeliveryPublic],
    summary="Deliveries that gave up after their last attempt",
)
def dead_letters(subscription_id: int, request: Request, actor: ActorDep) -> list[Any]:
    with request.app.state.sessions() as session:
        sub = webhooks.get(session, actor, subscription_id)
        return [
            WebhookDeliveryPublic.model_validate(d) for d in webhooks.dead_letters(session, sub)
        ]


@router.post(
    "/subscriptions/{subscription_id}/dead-letters/{delivery_id}/redeliver",
    response_model=WebhookDeliveryPublic,
    summary="Try a dead-lettered delivery again",
)
def redeliver(subscription_id: int, delivery_id: int, request: Request, actor: ActorDep) -> Any:
    with transaction(request.app.state.sessions) as session:
        sub = webhooks.get(session, actor, subscription_id)
        return WebhookDeliveryPublic.model_validate(webhooks.redeliver(session, sub, delivery_id))
