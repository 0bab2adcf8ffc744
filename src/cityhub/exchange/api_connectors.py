"""Pull connectors: register, list, change, remove, and run one now."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from cityhub.core.db import transaction
from cityhub.exchange import connectors
from cityhub.exchange.auth import ActorDep
from cityhub.exchange.models import Connector
from cityhub.exchange.schemas import ConnectorCreate, ConnectorPublic, ConnectorUpdate
from cityhub.security.models import Role

router = APIRouter()


def _public(connector: Connector) -> dict[str, Any]:
    body = ConnectorPublic.model_validate(connector).model_dump(mode="json")
    body["config"] = connectors.shown(connector)
    return body


@router.post(
    "/connectors", response_model=ConnectorPublic, status_code=201, summary="New connector"
)
def create(body: ConnectorCreate, request: Request, actor: ActorDep) -> dict[str, Any]:
    with transaction(request.app.state.sessions) as session:
        return _public(connectors.new(session, actor, body))


@router.get("/connectors", response_model=list[ConnectorPublic], summary="Connectors")
def listing(request: Request, actor: ActorDep, resource: str | None = None) -> list[Any]:
    with request.app.state.sessions() as session:
        stmt = select(Connector).order_by(Connector.id)
        if not actor.roles & {Role.platform_admin, Role.operator, Role.auditor}:
            stmt = stmt.where(Connector.provider_id == (actor.organization_id or -1))
        if resource:
            stmt = stmt.where(Connector.resource_code == resource)
        return [_public(c) for c in session.scalars(stmt)]


@router.get("/connectors/{connector_id}", response_model=ConnectorPublic, summary="One connector")
def one(connector_id: int, request: Request, actor: ActorDep) -> dict[str, Any]:
    with request.app.state.sessions() as session:
        connector = connectors.get(session, connector_id)
        connectors.may_manage(session, actor, connector.resource_code)
        return _public(connector)


@router.patch("/connectors/{connector_id}", response_model=ConnectorPublic, summary="Change")
def change(connector_id: int, body: ConnectorUpdate, request: Request, actor: ActorDep) -> Any:
    with transaction(request.app.state.sessions) as session:
        connector = connectors.get(session, connector_id)
        connectors.may_manage(session, actor, connector.resource_code)
        if body.config is not None:
            connector.config = connectors.check_config(connector.kind, body.config)
        if body.mode is not None:
            connector.mode = body.mode
        if body.interval_seconds is not None:
            connector.interval_seconds = body.interval_seconds
        if body.enabled is not None:
            connector.enabled = body.enabled
        session.flush()
        return _public(connector)


@router.delete("/connectors/{connector_id}", status_code=204, summary="Remove")
def remove(connector_id: int, request: Request, actor: ActorDep) -> Response:
    with transaction(request.app.state.sessions) as session:
        connector = connectors.get(session, connector_id)
        connectors.may_manage(session, actor, connector.resource_code)
        session.delete(connector)
    return Response(status_code=204)


@router.post("/connectors/{connector_id}/run", summary="Run a connector now")
def run_now(connector_id: int, request: Request, actor: ActorDep) -> dict[str, Any]:
    factory = request.app.state.sessions
    with factory() as session:
        connector = connectors.get(session, connector_id)
        connectors.may_manage(session, actor, connector.resource_code)
    batch = connectors.run_one(
        factory, request.app.state.settings, connector_id, bus=request.app.state.bus, force=True
    )
    with factory() as session:
        return {
            "connector": _public(connectors.get(session, connector_id)),
            "batch_id": batch.id if batch is not None else None,
            "status": batch.status.value if batch is not None else "nothing new",
        }
