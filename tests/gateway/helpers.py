"""Assertions shared by the gateway tests."""

from __future__ import annotations

from typing import Any

import httpx

PEOPLE = "101001-LYGA-000001"  # 有条件共享, masked items
LICENCES = "102001-LYSJ-000001"  # 无条件共享
SECRET = "301001-LYGA-000002"  # 不予共享
PEOPLE_ITEMS = [
    {"name": "姓名", "code": "xm", "data_type": "string", "length": 32, "masking": "name"},
    {
        "name": "公民身份号码",
        "code": "gmsfhm",
        "data_type": "string",
        "length": 18,
        "sensitivity": "sensitive",
        "masking": "keep:first6,last4",
    },
    {"name": "性别", "code": "xb", "data_type": "string", "length": 1},
    {"name": "出生日期", "code": "csrq", "data_type": "date"},
    {"name": "行政区划", "code": "xzqh", "data_type": "string", "length": 6},
    {"name": "联系电话", "code": "lxdh", "data_type": "string", "length": 11, "masking": "phone"},
    {"name": "年龄", "code": "nl", "data_type": "integer"},
]
LICENCE_ITEMS = [
    {"name": "企业名称", "code": "qymc", "data_type": "string", "length": 64},
    {"name": "统一社会信用代码", "code": "tyshxydm", "data_type": "string", "length": 18},
    {"name": "注册资本", "code": "zczb", "data_type": "currency"},
]


def problem(response: httpx.Response, status: int, detail: str) -> dict[str, Any]:
    """The answer is an RFC 9457 problem with this status whose detail says `detail`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert detail in body["detail"], body["detail"]
    assert "Traceback" not in response.text
    return body
