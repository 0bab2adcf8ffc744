"""Every table of the platform, imported so that one metadata knows them all."""

from __future__ import annotations

from cityhub.core import events as _events  # noqa: F401
from cityhub.core.db import Base
from cityhub.directory import models as _directory  # noqa: F401
from cityhub.security import models as _security  # noqa: F401

metadata = Base.metadata
__all__ = ["metadata"]
