"""The Linyi demo world: departments, credit codes, users, idempotence, reproducibility."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.cli import main
from cityhub.core.db import transaction
from cityhub.demo import DemoSummary, build_demo, plan
from cityhub.demo import departments as specs
from cityhub.directory.models import Organization, OrgKind
from cityhub.security import service
from cityhub.security.models import Role, User
from cityhub.settings import Settings
from cityhub.standards import credit_code

DEPARTMENTS = [
    "市公安局",
    "市民政局",
    "市人力资源和社会保障局",
    "市自然资源和规划局",
    "市生态环境局",
    "市住房和城乡建设局",
    "市交通运输局",
    "市农业农村局",
    "市商务局",
    "市文化和旅游局",
    "市卫生健康委员会",
    "市应急管理局",
    "市市场监督管理局",
    "市统计局",
    "市教育局",
    "市城市管理局",
    "市大数据局",
]
OPERATOR = "临沂新型智慧城市运营有限公司"
SEED = 20201228


@pytest.fixture
def built(settings: Settings) -> DemoSummary:
    return build_demo(settings, seed=SEED, population=500)


def _orgs(db: sessionmaker[Session]) -> dict[str, Organization]:
    with transaction(db) as session:
        return {o.name_zh: o for o in session.scalars(select(Organization))}


def _snapshot(db: sessionmaker[Session]) -> list[tuple[object, ...]]:
    with transaction(db) as session:
        orgs = session.execute(
            select(Organization.code, Organization.credit_code, Organization.kind).order_by(
                Organization.code
            )
        ).all()
        users = session.execute(select(User.username, User.organization_id)).all()
        return sorted(tuple(r) for r in [*orgs, *users])


def test_every_department_exists_with_a_valid_credit_code(
    built: DemoSummary, db: sessionmaker[Session]
) -> None:
    orgs = _orgs(db)
    codes = set()
    for short in DEPARTMENTS:
        org = orgs[f"临沂{short}"]
        assert org.kind == OrgKind.government
        assert org.region_code == "371300"
        assert org.name_en.startswith("Linyi Municipal")
        assert re.fullmatch(r"LY[A-Z]{2,5}", org.code)
        assert org.credit_code and credit_code.is_valid(org.credit_code), org.credit_code
        assert org.credit_code.startswith("11371300")  # 机构编制 · 机关, in Linyi
        codes.add(org.code)
    assert len(codes) == len(DEPARTMENTS)
    operator = orgs[OPERATOR]
    assert operator.kind == OrgKind.operator
    assert operator.credit_code and credit_code.is_valid(operator.credit_code)
    assert operator.credit_code.startswith("91371300")  # 工商 · 企业


def test_county_bureaus_hang_under_their_municipal_department(
    built: DemoSummary, db: sessionmaker[Session]
) -> None:
    orgs = _orgs(db)
    lanshan = orgs["兰山区大数据局"]
    assert lanshan.region_code == "371302"
    assert lanshan.parent_id == orgs["临沂市大数据局"].id
    assert lanshan.credit_code and lanshan.credit_code.startswith("11371302")
    enterprises = [o for o in orgs.values() if o.kind == OrgKind.enterprise]
    assert len(enterprises) == 1
    assert all(o.credit_code and credit_code.is_valid(o.credit_code) for o in orgs.values())


def test_every_role_can_log_in_with_the_printed_credentials(
    built: DemoSummary, db: sessionmaker[Session], settings: Settings
) -> None:
    text = built.describe()
    assert {Role(c.role) for c in built.credentials} == set(Role)
    for c in built.credentials:
        assert re.search(rf"{re.escape(c.username)}\s+{re.escape(c.password)}\s+{c.role}", text)
        user, _token = service.login(db, c.username, c.password, settings)
        assert Role(c.role) in user.roles
    roles_by_org: dict[str, set[str]] = {c.org_code: set() for c in built.credentials}
    for c in built.credentials:
        roles_by_org[c.org_code].add(c.role)
    assert {"platform_admin", "operator"} <= roles_by_org["LYZHYY"]  # the operating company


def test_summary_is_bilingual_with_url_and_counts(built: DemoSummary) -> None:
    text = built.describe()
    assert "http://127.0.0.1:8000/" in text
    assert "演示账号" in text and "Demo credentials" in text
    assert "500" in text  # the population asked for
    assert built.population == 500
    government = [o for o in (*specs.DEPARTMENTS, *specs.COUNTY_BUREAUS) if o.kind == "government"]
    assert set(DEPARTMENTS) <= {o.name_zh.removeprefix("临沂") for o in specs.DEPARTMENTS}
    assert built.organizations["government"] == len(government)
    assert built.organizations["operator"] == 1
    assert built.regions == 13
    assert built.users >= len(built.credentials)  # later builders add service accounts
    assert not built.reused


def test_rerunning_reuses_the_world(
    built: DemoSummary, settings: Settings, db: sessionmaker[Session]
) -> None:
    before = _snapshot(db)
    again = build_demo(settings, seed=7, population=1000)  # other options: still reused
    assert again.reused
    assert again.seed == SEED  # the seed the existing world was built with
    assert _snapshot(db) == before
    assert again.credentials == built.credentials
    assert again.organizations == built.organizations and again.users == built.users
    assert again.population == 1000


def test_a_changed_password_is_reported_not_printed_as_valid(
    built: DemoSummary, settings: Settings, db: sessionmaker[Session]
) -> None:
    with transaction(db) as session:
        admin = service.get_user(session, "admin")
        admin.password_hash = service.hash_password("Another-secret-2024")
    again = build_demo(settings, seed=SEED, population=0)
    by_name = {c.username: c for c in again.credentials}
    assert not by_name["admin"].valid and by_name["ops"].valid
    assert "password was changed" in again.describe()


def test_same_seed_same_world(built: DemoSummary, db: sessionmaker[Session]) -> None:
    assert plan(SEED) == plan(SEED)
    assert plan(SEED) != plan(SEED + 1)  # the seed does matter
    with transaction(db) as session:
        stored = dict(session.execute(select(Organization.code, Organization.credit_code)).all())
    assert stored == {p.spec.code: p.credit_code for p in plan(SEED)}


def test_existing_organizations_are_adopted_not_duplicated(
    settings: Settings, db: sessionmaker[Session]
) -> None:
    with transaction(db) as session:  # someone registered the bureau before the demo ran
        session.add(Organization(code="LYDSJ", name_zh="临沂市大数据局", kind=OrgKind.government))
    build_demo(settings, seed=SEED, population=0)
    with transaction(db) as session:
        count = session.scalar(select(func.count()).where(Organization.name_zh == "临沂市大数据局"))
    assert count == 1


def test_cli_demo_builds_then_reuses(settings: Settings) -> None:
    env = {
        "CITYHUB_DATABASE_URL": settings.database_url,
        "CITYHUB_DATA_DIR": str(settings.data_dir),
        "CITYHUB_LOG_LEVEL": "WARNING",
    }
    runner = CliRunner()
    first = runner.invoke(main, ["demo", "--no-serve", "--population", "50"], env=env)
    assert first.exit_code == 0, first.output
    assert "admin@Linyi2020" in first.output and "Linyi demo city built" in first.output
    second = runner.invoke(main, ["demo", "--no-serve"], env=env)
    assert second.exit_code == 0, second.output
    assert "Reusing the existing Linyi demo city" in second.output
