"""Indicator registry and the digital cockpit (数字驾驶舱, guideline 4.1.1 b2).

Packages and application packs describe their indicators (and cockpit panels) as frozen
dataclasses and `register` them; the recompute job fills `indicator_values`, and the
cockpit and `/api/v1/indicators` read only those precomputed values.
"""

from cityhub.indicators.registry import (
    REGISTRY,
    Context,
    Granularity,
    Indicator,
    Panel,
    Reading,
    Refresh,
    Snapshot,
    register,
)

__all__ = [
    "REGISTRY",
    "Context",
    "Granularity",
    "Indicator",
    "Panel",
    "Reading",
    "Refresh",
    "Snapshot",
    "register",
]
