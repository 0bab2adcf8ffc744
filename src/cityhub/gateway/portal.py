"""The gateway's portal pages under one router (registered once in `create_app`)."""

from __future__ import annotations

from fastapi import APIRouter

from cityhub.gateway.pages import router as apps_pages
from cityhub.gateway.pages_sharing import router as sharing_pages

router = APIRouter(include_in_schema=False)
router.include_router(apps_pages)
router.include_router(sharing_pages)
