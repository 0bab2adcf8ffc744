"""The fixed cast of the Linyi demo city: organizations and the demo users.

Declarative tuples of frozen descriptions (no logic): `world.py` turns them into rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from cityhub.directory.models import OrgKind
from cityhub.security.models import Role

CITY_CODE = "371300"  # the demo city is Linyi (GB/T 2260)


@dataclass(frozen=True)
class OrgSpec:
    """One organization of the demo city; `parent` is another spec's code."""

    code: str
    name_zh: str
    name_en: str
    kind: OrgKind = OrgKind.government
    region_code: str = CITY_CODE
    parent: str | None = None


@dataclass(frozen=True)
class UserSpec:
    """One demo login. Passwords are published on purpose: demo mode only."""

    username: str
    password: str
    role: Role
    org: str
    display_name: str


_GOV = OrgKind.government
_MUNICIPAL = "Linyi Municipal"

# 市级部门: the departments whose data the platform gathers first.
DEPARTMENTS: tuple[OrgSpec, ...] = (
    OrgSpec("LYGA", "临沂市公安局", f"{_MUNICIPAL} Public Security Bureau"),
    OrgSpec("LYMZ", "临沂市民政局", f"{_MUNICIPAL} Civil Affairs Bureau"),
    OrgSpec(
        "LYRS",
        "临沂市人力资源和社会保障局",
        f"{_MUNICIPAL} Human Resources and Social Security Bureau",
    ),
    OrgSpec(
        "LYZRZY", "临沂市自然资源和规划局", f"{_MUNICIPAL} Natural Resources and Planning Bureau"
    ),
    OrgSpec("LYSTHJ", "临沂市生态环境局", f"{_MUNICIPAL} Ecology and Environment Bureau"),
    OrgSpec(
        "LYZJ", "临沂市住房和城乡建设局", f"{_MUNICIPAL} Housing and Urban-Rural Development Bureau"
    ),
    OrgSpec("LYJT", "临沂市交通运输局", f"{_MUNICIPAL} Transport Bureau"),
    OrgSpec("LYNY", "临沂市农业农村局", f"{_MUNICIPAL} Agriculture and Rural Affairs Bureau"),
    OrgSpec("LYSW", "临沂市商务局", f"{_MUNICIPAL} Commerce Bureau"),
    OrgSpec("LYWL", "临沂市文化和旅游局", f"{_MUNICIPAL} Culture and Tourism Bureau"),
    OrgSpec("LYWJ", "临沂市卫生健康委员会", f"{_MUNICIPAL} Health Commission"),
    OrgSpec("LYYJ", "临沂市应急管理局", f"{_MUNICIPAL} Emergency Management Bureau"),
    OrgSpec("LYSJ", "临沂市市场监督管理局", f"{_MUNICIPAL} Administration for Market Regulation"),
    OrgSpec("LYTJ", "临沂市统计局", f"{_MUNICIPAL} Statistics Bureau"),
    OrgSpec("LYJY", "临沂市教育局", f"{_MUNICIPAL} Education Bureau"),
    OrgSpec("LYCG", "临沂市城市管理局", f"{_MUNICIPAL} Urban Management Bureau"),
    OrgSpec("LYDSJ", "临沂市大数据局", f"{_MUNICIPAL} Big Data Bureau"),
    # Vertically managed, yet the authoritative provider of taxpayer data (法人库).
    OrgSpec("LYSWJ", "国家税务总局临沂市税务局", "Linyi Municipal Tax Service, STA"),
)

OPERATOR = OrgSpec(
    "LYZHYY",
    "临沂新型智慧城市运营有限公司",
    "Linyi New Smart City Operation Co., Ltd.",
    kind=OrgKind.operator,
)

# 区县部门: children of a municipal department, in their own county-level region.
COUNTY_BUREAUS: tuple[OrgSpec, ...] = (
    OrgSpec("LSDSJ", "兰山区大数据局", "Lanshan District Big Data Bureau", _GOV, "371302", "LYDSJ"),
    OrgSpec(
        "LZDSJ", "罗庄区大数据局", "Luozhuang District Big Data Bureau", _GOV, "371311", "LYDSJ"
    ),
    OrgSpec("HDDSJ", "河东区大数据局", "Hedong District Big Data Bureau", _GOV, "371312", "LYDSJ"),
    OrgSpec(
        "LSGA",
        "临沂市公安局兰山分局",
        "Lanshan Branch, Linyi Municipal Public Security Bureau",
        _GOV,
        "371302",
        "LYGA",
    ),
)

ENTERPRISES: tuple[OrgSpec, ...] = (
    OrgSpec(
        "LYZLWL",
        "临沂智联物流科技有限公司",
        "Linyi Zhilian Logistics Technology Co., Ltd.",
        kind=OrgKind.enterprise,
        region_code="371302",
    ),
)

ALL_ORGS: tuple[OrgSpec, ...] = (*DEPARTMENTS, OPERATOR, *COUNTY_BUREAUS, *ENTERPRISES)

# One login per duty, in the organization that holds that duty (GB/T 39477 separation).
USERS: tuple[UserSpec, ...] = (
    UserSpec("admin", "admin@Linyi2020", Role.platform_admin, "LYZHYY", "平台管理员"),
    UserSpec("ops", "ops@Linyi2020", Role.operator, "LYZHYY", "运维值班员"),
    UserSpec("ga_admin", "ga_admin@Linyi2020", Role.dept_admin, "LYGA", "公安局部门管理员"),
    UserSpec("ga_data", "ga_data@Linyi2020", Role.data_officer, "LYGA", "公安局数据专员"),
    UserSpec("mz_data", "mz_data@Linyi2020", Role.data_officer, "LYMZ", "民政局数据专员"),
    UserSpec("dev", "dev@Linyi2020", Role.developer, "LYZLWL", "应用开发者"),
    UserSpec("jt_dev", "jt_dev@Linyi2020", Role.developer, "LYJT", "交通运输局应用开发者"),
    UserSpec("leader", "leader@Linyi2020", Role.viewer, "LYDSJ", "城市管理者（只读）"),
    UserSpec("auditor", "auditor@Linyi2020", Role.auditor, "LYDSJ", "安全审计员"),
)
