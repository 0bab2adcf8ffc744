"""The cast of the demo's operations: the 15 applications of guideline 4.2.1, the
departments' systems, emergency plans and construction projects. Declarative data only;
`demo/ops.py` turns it into rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cityhub.ops.vocab import Connection, Criticality, SystemKind

_APP = "APP-"


@dataclass(frozen=True)
class SystemSpec:
    code: str
    name_zh: str
    name_en: str
    org: str
    kind: SystemKind
    criticality: Criticality = Criticality.medium
    connection: Connection = Connection.standard


_L, _G, _I = SystemKind.livelihood_app, SystemKind.government_app, SystemKind.industry_app
_CRIT, _HIGH, _LOW = Criticality.critical, Criticality.high, Criticality.low

# 4.2.1: 惠民、政务、产业应用, five each.
APPLICATIONS: tuple[SystemSpec, ...] = (
    SystemSpec(f"{_APP}ZHJT", "智慧交通", "Smart transport", "LYJT", _L, _CRIT),
    SystemSpec(f"{_APP}ZHBS", "智慧办事", "Smart government services", "LYDSJ", _L, _HIGH),
    SystemSpec(f"{_APP}ZHSQ", "智慧社区", "Smart communities", "LYMZ", _L),
    SystemSpec(f"{_APP}ZHJY", "智慧教育", "Smart education", "LYJY", _L),
    SystemSpec(f"{_APP}ZHSA", "智慧食安", "Smart food safety", "LYSJ", _L, _HIGH),
    SystemSpec(f"{_APP}ZHCG", "智慧城管", "Smart city management", "LYCG", _G, _HIGH),
    SystemSpec(f"{_APP}ZHPA", "智慧平安", "Smart public safety", "LYGA", _G, _CRIT),
    SystemSpec(f"{_APP}ZHHB", "智慧环保", "Smart environment", "LYSTHJ", _G),
    SystemSpec(f"{_APP}ZHGT", "智慧国土", "Smart land and planning", "LYZRZY", _G),
    SystemSpec(f"{_APP}ZHYJ", "智慧应急", "Smart emergency response", "LYYJ", _G, _CRIT),
    SystemSpec(f"{_APP}ZHWL", "智慧物流", "Smart logistics", "LYZLWL", _I),
    SystemSpec(f"{_APP}ZHNY", "智慧农业", "Smart agriculture", "LYNY", _I, _LOW),
    SystemSpec(f"{_APP}ZHLY", "智慧旅游", "Smart tourism", "LYWL", _I, _LOW),
    SystemSpec(f"{_APP}ZHZZ", "智慧制造", "Smart manufacturing", "LYSW", _I, _LOW),
    SystemSpec(f"{_APP}ZHNE", "智慧能源", "Smart energy", "LYZHYY", _I),
)

# The networks, the sensing layer and a platform component, monitored too.
EXTRANET = SystemSpec(
    "NET-ZWWW", "电子政务外网", "E-government extranet", "LYDSJ", SystemKind.network, _CRIT
)
SENSING_NETWORK = SystemSpec(
    "IOT-CSGZ", "城市感知网", "City sensing network", "LYDSJ", SystemKind.sensing, _HIGH
)
CATALOG_SERVICE = SystemSpec(
    "PLAT-CATALOG",
    "目录与接口服务系统",
    "Catalog and interface service",
    "LYZHYY",
    SystemKind.platform,
    _HIGH,
)

_LEGACY = Connection.legacy
# The departments' own business systems (部门业务系统), most connected as they were built.
DEPARTMENT_SYSTEMS: tuple[SystemSpec, ...] = (
    SystemSpec("LYGA-HJ", "人口户籍管理系统", "Household registration", "LYGA", _G, _HIGH, _LEGACY),
    SystemSpec("LYMZ-HY", "婚姻登记系统", "Marriage registration", "LYMZ", _G, _LOW, _LEGACY),
    SystemSpec("LYRS-SB", "社会保险信息系统", "Social insurance", "LYRS", _G, _HIGH, _LEGACY),
    SystemSpec("LYZRZY-BDC", "不动产登记系统", "Real estate registry", "LYZRZY", _G, _HIGH),
    SystemSpec("LYSTHJ-JC", "环境质量监测系统", "Environment monitoring", "LYSTHJ", _G),
    SystemSpec("LYWJ-QM", "全民健康信息平台", "Population health platform", "LYWJ", _G, _HIGH),
    SystemSpec("LYSJ-DJ", "市场主体登记系统", "Business registration", "LYSJ", _G, _HIGH, _LEGACY),
    SystemSpec("LYTJ-LW", "统计联网直报系统", "Statistics reporting", "LYTJ", _G, _LOW, _LEGACY),
)

# (system code, mode, period minutes, down minutes): the rest answer steadily.
_DUTY = {"name": "运维值班室", "role": "7×24 值班", "phone": "0539-8123100"}


def plan_bodies() -> list[dict[str, Any]]:
    return [
        {
            "code": "YA-ZHPA-01",
            "name": "智慧平安系统中断应急预案",
            "level": "II",
            "system": f"{_APP}ZHPA",
            "event_kinds": ["outage", "network"],
            "trigger_text": "智慧平安系统服务探测连续 2 次失败，或公安局值班室报告视频调阅中断。",
            "steps": [
                {
                    "key": "confirm",
                    "title": "确认告警并定位故障范围",
                    "owner": "值班工程师",
                    "minutes": 5,
                },
                {
                    "key": "notify",
                    "title": "通知市公安局指挥中心",
                    "owner": "值班长",
                    "depends_on": ["confirm"],
                    "minutes": 5,
                },
                {
                    "key": "failover",
                    "title": "切换至备用链路与备用节点",
                    "owner": "网络工程师",
                    "depends_on": ["confirm"],
                    "minutes": 20,
                },
                {
                    "key": "verify",
                    "title": "验证视频调阅与报警联动恢复",
                    "owner": "应用工程师",
                    "depends_on": ["failover"],
                    "minutes": 10,
                },
                {
                    "key": "review",
                    "title": "故障复盘并更新预案",
                    "owner": "运维经理",
                    "depends_on": ["verify", "notify"],
                },
            ],
            "contacts": [
                _DUTY,
                {
                    "name": "王建国",
                    "role": "应急指挥长",
                    "phone": "13805391234",
                    "organization": "LYZHYY",
                },
                {
                    "name": "市公安局指挥中心",
                    "role": "业务联系人",
                    "phone": "0539-8123110",
                    "organization": "LYGA",
                },
            ],
        },
        {
            "code": "YA-CORE-01",
            "name": "核心业务系统中断通用预案",
            "level": "I",
            "event_kinds": ["outage"],
            "min_criticality": "critical",
            "trigger_text": "任一核心系统中断超过 15 分钟或影响全市范围服务。",
            "steps": [
                {"key": "assemble", "title": "启动应急响应，成立现场处置组", "owner": "应急指挥长"},
                {
                    "key": "report",
                    "title": "报告市大数据局",
                    "owner": "值班长",
                    "depends_on": ["assemble"],
                },
                {
                    "key": "restore",
                    "title": "按系统手册恢复服务",
                    "owner": "处置组",
                    "depends_on": ["assemble"],
                },
                {
                    "key": "announce",
                    "title": "发布服务恢复公告",
                    "owner": "运营部",
                    "depends_on": ["restore", "report"],
                },
            ],
            "contacts": [
                _DUTY,
                {"name": "市大数据局值班室", "phone": "0539-8123000", "organization": "LYDSJ"},
            ],
        },
        {
            "code": "YA-DATA-01",
            "name": "数据更新不及时处置预案",
            "level": "IV",
            "event_kinds": ["data_stale"],
            "trigger_text": "信息资源数据超过其更新周期未更新。",
            "steps": [
                {"key": "check", "title": "核实交换任务与提供部门情况", "owner": "数据运营专员"},
                {
                    "key": "urge",
                    "title": "督促提供部门补报数据",
                    "owner": "数据运营专员",
                    "depends_on": ["check"],
                },
                {
                    "key": "quality",
                    "title": "补报后复核数据质量",
                    "owner": "质量专员",
                    "depends_on": ["urge"],
                },
            ],
            "contacts": [_DUTY],
        },
        {
            "code": "YA-IOT-01",
            "name": "感知设备大面积离线应急预案",
            "level": "III",
            "event_kinds": ["device_offline", "network"],
            "system_kinds": ["sensing", "network"],
            "trigger_text": "感知设备在线率低于 80%，或物联网专网中断。",
            "steps": [
                {"key": "scope", "title": "按区县统计离线设备分布", "owner": "物联网工程师"},
                {
                    "key": "network",
                    "title": "排查专网与运营商链路",
                    "owner": "网络工程师",
                    "depends_on": ["scope"],
                },
                {
                    "key": "onsite",
                    "title": "派单现场检修",
                    "owner": "维保单位",
                    "depends_on": ["scope"],
                },
                {
                    "key": "recover",
                    "title": "确认设备恢复上线",
                    "owner": "物联网工程师",
                    "depends_on": ["network", "onsite"],
                },
            ],
            "contacts": [_DUTY, {"name": "联通临沂分公司", "role": "链路保障", "phone": "10010"}],
        },
    ]


PARKING_RESOURCE: dict[str, Any] = {
    "code": "301901-LYJT-000901",
    "name": "城市公共停车场泊位信息",
    "summary": "全市公共停车场位置、总泊位与实时空余泊位",
    "category": "department",
    "format": "table",
    "share_type": "unconditional",
    "sharing_method": "api",
    "open_type": "open",
    "update_cycle": "realtime",
    "items": [
        {
            "name": "停车场编号",
            "code": "tccbh",
            "data_type": "string",
            "length": 32,
            "sensitivity": "public",
        },
        {
            "name": "停车场名称",
            "code": "tccmc",
            "data_type": "string",
            "length": 128,
            "sensitivity": "public",
        },
        {"name": "空余泊位", "code": "kybw", "data_type": "integer", "sensitivity": "public"},
    ],
}

# (code, name, org, system code, system name, kind, target status, budget 万元, resources)
PROJECTS: tuple[
    tuple[str, str, str, str, str, SystemKind, str, float, list[dict[str, Any]]], ...
] = (
    (
        "XM-2026-001",
        "智慧停车建设项目",
        "LYJT",
        "APP-ZHTC",
        "智慧停车",
        _L,
        "accepted",
        860.0,
        [PARKING_RESOURCE],
    ),
    (
        "XM-2026-002",
        "智慧医疗便民服务项目",
        "LYWJ",
        "APP-ZHYL",
        "智慧医疗",
        _L,
        "implementing",
        1200.0,
        [],
    ),
    (
        "XM-2026-003",
        "智慧养老服务平台",
        "LYMZ",
        "APP-ZHYANG",
        "智慧养老",
        _L,
        "approved",
        430.0,
        [],
    ),
    (
        "XM-2026-004",
        "城市智慧水务项目",
        "LYZJ",
        "APP-ZHSW",
        "智慧水务",
        _G,
        "requirement",
        2100.0,
        [],
    ),
)
