"""Build the Linyi demo world in the configured database, reproducibly and idempotently.

`plan(seed)` is pure: which organizations exist and their credit codes. `build_demo`
applies the plan, creating only what is missing, so a re-run on the same data directory
reuses the city and the printed credentials stay valid.
"""

from __future__ import annotations

import json
import random
import unicodedata
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityhub.core.db import make_engine, session_factory, transaction
from cityhub.demo import gateway as gateway_demo
from cityhub.demo import ops as ops_demo
from cityhub.demo.catalog import build_catalog
from cityhub.demo.departments import ALL_ORGS, CITY_CODE, OPERATOR, USERS, OrgSpec, UserSpec
from cityhub.directory.models import Organization, OrgKind, Region
from cityhub.errors import ConfigError, ValidationFailed
from cityhub.indicators import demo as indicators_demo
from cityhub.ledger import demo as ledger_demo
from cityhub.library import demo as library_demo
from cityhub.security import audit, service
from cityhub.security.models import AuditEvent, User
from cityhub.sensing import demo as sensing_demo
from cityhub.settings import Settings
from cityhub.standards.credit_code import ALPHABET, check_char, org_check_char
from cityhub.web.i18n import both, t

# GB 32100 registration authority + organization type: 1-1 机关 (organs), 9-1 企业.
_PREFIX = {OrgKind.government: "11", OrgKind.institution: "12"}
_COMPANY_PREFIX = "91"
_COMPANY_BODY = ALPHABET  # new firms have codes like MA3C..., in the code alphabet


@dataclass(frozen=True)
class PlannedOrg:
    spec: OrgSpec
    credit_code: str


@dataclass(frozen=True)
class Credential:
    username: str
    password: str
    role: str
    org_code: str
    org_name: str
    valid: bool = True  # False when someone changed the password since the demo was built


@dataclass(frozen=True)
class DemoSummary:
    """What `cityhub demo` built or found, and how to get in."""

    url: str
    seed: int
    population: int  # residents generated and delivered into the population library
    reused: bool
    credentials: tuple[Credential, ...]
    organizations: dict[str, int] = field(default_factory=dict)  # by OrgKind value
    regions: int = 0
    users: int = 0

    def describe(self) -> str:
        title = both("demo.reused" if self.reused else "demo.built")
        lines = [
            title,
            "=" * 60,
            f"{both('demo.url')}: {self.url}",
            f"{both('demo.api_docs')}: {self.url.rstrip('/')}/api/docs",
            "",
            f"{both('demo.credentials')}:",
        ]
        widths = (18, 22, 30)
        head = ("demo.col_username", "demo.col_password", "demo.col_role", "demo.col_org")
        rows = [[f"{t(k, 'zh-CN')} {t(k, 'en')}" for k in head]]
        for c in self.credentials:
            password = c.password if c.valid else both("demo.password_changed")
            rows.append(
                [c.username, password, f"{c.role} {t('role.' + c.role, 'zh-CN')}", c.org_name]
            )
        for row in rows:
            cells = [_pad(cell, w) for cell, w in zip(row, widths, strict=False)]
            lines.append("  " + "".join(cells) + row[-1])
        kinds = ", ".join(
            f"{both('kind.' + kind.value)} {self.organizations.get(kind.value, 0)}"
            for kind in OrgKind
        )
        total = sum(self.organizations.values())
        lines += [
            "",
            f"{both('demo.counts')}:",
            f"  {both('demo.organizations')}: {total} ({kinds})",
            f"  {both('demo.regions')}: {self.regions}",
            f"  {both('demo.users')}: {self.users}",
            f"  {t('demo.population', 'zh-CN', n=self.population)}",
            f"  {t('demo.population', 'en', n=self.population)}",
            f"  {both('demo.seed')}: {self.seed}",
        ]
        return "\n".join(lines)


def _pad(text: str, width: int) -> str:
    """Left-justify by terminal columns: CJK characters take two."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(1, width - used)


def _org_body(rng: random.Random, spec: OrgSpec) -> str:
    """An 8-character GB 11714 body: 00xxxxxx for organs, MAxxxxxx for new companies."""
    if spec.kind in _PREFIX:
        return "00" + "".join(rng.choices("0123456789", k=6))
    return "MA" + "".join(rng.choices(_COMPANY_BODY, k=6))


def credit_code_for(spec: OrgSpec, body: str) -> str:
    head = _PREFIX.get(spec.kind, _COMPANY_PREFIX) + spec.region_code + body + org_check_char(body)
    return head + check_char(head)


def plan(seed: int) -> tuple[PlannedOrg, ...]:
    """The demo organizations with credit codes drawn from `seed` (same seed, same codes)."""
    rng = random.Random(seed)
    seen: set[str] = set()
    planned = []
    for spec in ALL_ORGS:
        body = _org_body(rng, spec)
        while body in seen:  # organization codes are unique nationally
            body = _org_body(rng, spec)
        seen.add(body)
        planned.append(PlannedOrg(spec, credit_code_for(spec, body)))
    return tuple(planned)


def _require_regions(session: Session) -> None:
    wanted = {CITY_CODE} | {p.region_code for p in ALL_ORGS}
    found = set(session.scalars(select(Region.code).where(Region.code.in_(wanted))))
    if missing := sorted(wanted - found):
        raise ConfigError(
            f"the demo city is Linyi ({CITY_CODE}) but regions {', '.join(missing)} are not "
            "loaded; run `cityhub demo` with CITYHUB_CITY_CODE=371300 and the bundled regions"
        )


def _ensure_orgs(session: Session, planned: tuple[PlannedOrg, ...]) -> dict[str, Organization]:
    """Get or create every planned organization; existing rows are left as they are."""
    codes = [p.spec.code for p in planned]
    rows = {
        o.code: o for o in session.scalars(select(Organization).where(Organization.code.in_(codes)))
    }
    for item in planned:  # parents come before children in ALL_ORGS
        spec = item.spec
        if spec.code in rows:
            continue
        org = Organization(
            code=spec.code,
            name_zh=spec.name_zh,
            name_en=spec.name_en,
            kind=spec.kind,
            region_code=spec.region_code,
            parent_id=rows[spec.parent].id if spec.parent else None,
            credit_code=item.credit_code,
        )
        session.add(org)
        session.flush()
        rows[spec.code] = org
    return rows


def _ensure_user(session: Session, spec: UserSpec, orgs: dict[str, Organization]) -> Credential:
    org = orgs[spec.org]
    user = session.scalar(select(User).where(User.username == spec.username))
    valid = True
    if user is None:
        service.create_user(
            session,
            username=spec.username,
            organization_id=org.id,
            roles={spec.role},
            password=spec.password,
            display_name=spec.display_name,
        )
    else:  # reused: report honestly if the published password no longer works
        valid = service.verify_password(user.password_hash, spec.password)
    return Credential(spec.username, spec.password, spec.role.value, org.code, org.name_zh, valid)


def _counts(session: Session) -> tuple[dict[str, int], int, int]:
    by_kind = {
        kind.value: count
        for kind, count in session.execute(
            select(Organization.kind, func.count()).group_by(Organization.kind)
        )
    }
    regions = session.scalar(
        select(func.count())
        .select_from(Region)
        .where((Region.code == CITY_CODE) | (Region.parent_code == CITY_CODE))
    )
    users = session.scalar(select(func.count()).select_from(User))
    return by_kind, regions or 0, users or 0


def _recorded_seed(session: Session) -> int | None:
    """The seed of the first build, kept in its append-only audit record."""
    detail = session.scalar(
        select(AuditEvent.detail)
        .where(AuditEvent.action == "demo.build")
        .order_by(AuditEvent.id)
        .limit(1)
    )
    try:
        value = json.loads(detail or "{}").get("seed")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) else None


def _url(settings: Settings) -> str:
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.port}/"


def build_demo(settings: Settings, *, seed: int, population: int) -> DemoSummary:
    """Create the demo city in the configured database (regions already seeded)."""
    if population < 0:
        raise ValidationFailed("--population must be zero or more")
    engine = make_engine(settings.effective_database_url)
    try:
        with transaction(session_factory(engine)) as session:
            _require_regions(session)
            reused = (
                session.scalar(select(Organization.id).where(Organization.code == OPERATOR.code))
                is not None
            )
            orgs = _ensure_orgs(session, plan(seed))
            credentials = tuple(_ensure_user(session, spec, orgs) for spec in USERS)
            build_catalog(session, orgs)  # the departments' information resources
            sensing_demo.build(session, settings, seed)  # devices, buses, alarm rules
            ops_demo.build(session, settings, seed)  # monitored systems, plans, projects
            ledger_demo.build(session, settings, seed)  # notarized, signed, cosigned
            if reused:  # report the seed the existing world was built with
                seed = _recorded_seed(session) or seed
            else:
                audit.record(
                    session,
                    actor="cli",
                    action="demo.build",
                    target=f"city:{CITY_CODE}",
                    detail={"seed": seed, "population": population},
                )
        library_demo.build(settings, engine, seed=seed, population=population)  # base libraries
        gateway_demo.build(settings, engine, seed=seed)  # applications, requests, empty tables
        indicators_demo.build(settings, engine)  # cockpit figures, 30 days of trends
        with transaction(session_factory(engine)) as session:  # counted once all is built
            by_kind, regions, users = _counts(session)
    finally:
        engine.dispose()
    return DemoSummary(
        url=_url(settings),
        seed=seed,
        population=population,
        reused=reused,
        credentials=credentials,
        organizations=by_kind,
        regions=regions,
        users=users,
    )
