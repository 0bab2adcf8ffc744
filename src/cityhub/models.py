"""Every table of the platform, imported so that one metadata knows them all."""

from __future__ import annotations

from cityhub.catalog import models as _catalog  # noqa: F401
from cityhub.core import events as _events  # noqa: F401
from cityhub.core import scheduler as _scheduler  # noqa: F401
from cityhub.core.db import Base
from cityhub.directory import models as _directory  # noqa: F401
from cityhub.exchange import models as _exchange  # noqa: F401
from cityhub.gateway import models as _gateway  # noqa: F401
from cityhub.indicators import models as _indicators  # noqa: F401
from cityhub.ledger import models as _ledger  # noqa: F401
from cityhub.library import models as _library  # noqa: F401
from cityhub.ops import models as _ops  # noqa: F401
from cityhub.security import models as _security  # noqa: F401
from cityhub.sensing import models as _sensing  # noqa: F401

metadata = Base.metadata
__all__ = ["metadata"]
