"""The catalog's portal pages as one router: the staff pages first, so that /catalog/mine
and /catalog/new are not taken for resource codes."""

from __future__ import annotations

from fastapi import APIRouter

from cityhub.catalog.pages import public_router
from cityhub.catalog.pages_edit import router as staff_router

router = APIRouter(include_in_schema=False)
router.include_router(staff_router)
router.include_router(public_router)
