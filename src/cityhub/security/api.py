"""Routes of identity: login, users, API keys, audit log."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["security"])
