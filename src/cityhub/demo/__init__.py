"""The Linyi demo world: its departments, operating company and demo users."""

from __future__ import annotations

from cityhub.demo.world import Credential, DemoSummary, build_demo, plan

__all__ = ["Credential", "DemoSummary", "build_demo", "plan"]
