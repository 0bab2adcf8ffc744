"""Resource bodies and small helpers shared by the catalog tests."""

from __future__ import annotations

import copy
from typing import Any

Headers = dict[str, str]

POPULATION: dict[str, Any] = {
    "code": "101001-LYGA-000001",
    "name": "人口基础信息",
    "summary": "全市户籍人口和常住人口的基础信息",
    "category": "basic",
    "format": "table",
    "share_type": "conditional",
    "share_condition": "仅限政务部门履行法定职责使用",
    "sharing_method": "api",
    "open_type": "closed",
    "update_cycle": "daily",
    "regions": ["371300", "371302"],
    "keywords": ["人口", "户籍"],
    "items": [
        {
            "name": "公民身份号码",
            "code": "gmsfhm",
            "data_type": "string",
            "length": 18,
            "element_ref": "DE00001",
            "sensitivity": "sensitive",
            "masking": "keep:first6,last4",
        },
        {
            "name": "姓名",
            "code": "xm",
            "data_type": "string",
            "length": 50,
            "sensitivity": "sensitive",
            "masking": "name",
        },
        {"name": "性别", "code": "xb", "data_type": "string", "length": 1},
        {"name": "出生日期", "code": "csrq", "data_type": "date", "sensitivity": "sensitive"},
        {
            "name": "户籍地址",
            "code": "hjdz",
            "data_type": "string",
            "length": 200,
            "sensitivity": "sensitive",
            "masking": "keep:first6",
        },
        {
            "name": "联系电话",
            "code": "lxdh",
            "data_type": "string",
            "length": 20,
            "sensitivity": "sensitive",
            "masking": "phone",
        },
    ],
}

AIR: dict[str, Any] = {
    "code": "402001-LYSTHJ-000001",
    "name": "空气质量监测数据",
    "summary": "空气质量自动监测站的小时浓度和空气质量指数",
    "category": "topic",
    "format": "table",
    "share_type": "unconditional",
    "sharing_method": "api",
    "open_type": "open",
    "update_cycle": "realtime",
    "regions": ["371300"],
    "keywords": ["空气质量", "环境监测"],
    "items": [
        {
            "name": "站点名称",
            "code": "zdmc",
            "data_type": "string",
            "length": 100,
            "sensitivity": "public",
        },
        {"name": "PM2.5浓度", "code": "pm25", "data_type": "double", "sensitivity": "public"},
    ],
}

ENTITIES: dict[str, Any] = {
    "code": "102001-LYSJ-000001",
    "name": "法人基础信息",
    "summary": "企业和个体工商户的登记信息",
    "category": "basic",
    "format": "api",
    "share_type": "unconditional",
    "sharing_method": "api",
    "open_type": "conditional",
    "open_condition": "签署数据使用协议后开放",
    "update_cycle": "daily",
    "regions": ["371300"],
    "keywords": ["法人", "企业"],
    "items": [
        {
            "name": "统一社会信用代码",
            "code": "tyshxydm",
            "data_type": "string",
            "length": 18,
            "sensitivity": "public",
        },
        {"name": "单位名称", "code": "dwmc", "data_type": "string", "sensitivity": "public"},
    ],
}


def body(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of a resource body with some fields changed (None removes a field)."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


OFFICER_OF = {"LYGA": "ga_officer", "LYSTHJ": "env_officer", "LYSJ": "sj_officer"}
# API roles of the cast → usernames, where the name differs
USERNAMES = {"ga_officer": "ga_data", "env_officer": "hb_data", "sj_officer": "sj_data"}
