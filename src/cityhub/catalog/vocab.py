"""Controlled vocabularies of the catalog (GB/T 21063.3 core metadata and the guideline's
library kinds). Values are stable English slugs; labels live in the message table under
`catalog.<vocabulary>.<value>`.
"""

from __future__ import annotations

import enum


class Category(enum.StrEnum):
    """Which public database a resource belongs to (guideline 4.1.1 a)."""

    basic = "basic"  # 基础资源库 (人口、法人、经济、空间地理)
    theme = "theme"  # 主题数据库
    topic = "topic"  # 专题数据库
    business = "business"  # 通用业务库
    department = "department"  # 部门信息资源


# First digit of the resource code (类). 1-3 are the national guide's
# 基础/主题/部门 classes; 4 and 5 extend it for the guideline's special-topic and
# common-business libraries.
CATEGORY_CLASS: dict[Category, str] = {
    Category.basic: "1",
    Category.theme: "2",
    Category.department: "3",
    Category.topic: "4",
    Category.business: "5",
}
CLASS_CATEGORY: dict[str, Category] = {v: k for k, v in CATEGORY_CLASS.items()}


class ResourceFormat(enum.StrEnum):
    table = "table"  # 数据库表
    file = "file"  # 文件
    api = "api"  # 接口


class ShareType(enum.StrEnum):
    unconditional = "unconditional"  # 无条件共享
    conditional = "conditional"  # 有条件共享 (with the conditions)
    none = "none"  # 不予共享 (with the legal basis)


class SharingMethod(enum.StrEnum):
    database = "database"  # 数据库
    api = "api"  # 接口
    file = "file"  # 文件


class OpenType(enum.StrEnum):
    open = "open"  # 无条件开放
    conditional = "conditional"  # 有条件开放 (with the opening condition)
    closed = "closed"  # 不予开放


class UpdateCycle(enum.StrEnum):
    realtime = "realtime"  # 实时
    daily = "daily"  # 每日
    weekly = "weekly"  # 每周
    monthly = "monthly"  # 每月
    quarterly = "quarterly"  # 每季
    yearly = "yearly"  # 每年


class Status(enum.StrEnum):
    """The publication workflow: draft → in_review → published → withdrawn."""

    draft = "draft"
    in_review = "in_review"
    published = "published"
    withdrawn = "withdrawn"


class DataType(enum.StrEnum):
    """Item data types of GB/T 21063.3 (its one-letter code in the comment)."""

    string = "string"  # 字符型 C
    number = "number"  # 数值型 N
    currency = "currency"  # 货币型 Y
    date = "date"  # 日期型 D
    datetime = "datetime"  # 日期时间型 T
    boolean = "boolean"  # 逻辑型 L
    text = "text"  # 备注型 M
    binary = "binary"  # 通用型 G
    double = "double"  # 双精度型 B
    integer = "integer"  # 整型 I
    float = "float"  # 浮点型 F


GB_TYPE_LETTER: dict[DataType, str] = {
    DataType.string: "C",
    DataType.number: "N",
    DataType.currency: "Y",
    DataType.date: "D",
    DataType.datetime: "T",
    DataType.boolean: "L",
    DataType.text: "M",
    DataType.binary: "G",
    DataType.double: "B",
    DataType.integer: "I",
    DataType.float: "F",
}


class Sensitivity(enum.StrEnum):
    """Grading of one information item, lowest first."""

    public = "public"  # 公开
    internal = "internal"  # 内部
    sensitive = "sensitive"  # 敏感
    restricted = "restricted"  # 重要


SENSITIVE = frozenset({Sensitivity.sensitive, Sensitivity.restricted})

# The facets of a catalog search, in display order.
FACETS: tuple[str, ...] = (
    "provider",
    "category",
    "share_type",
    "open_type",
    "update_cycle",
    "region",
    "format",
    "keyword",
)
DEFAULT_FACETS: tuple[str, ...] = FACETS[:6]

# Vocabulary name → enum, for labels and the portal's facet links.
VOCABULARIES: dict[str, type[enum.StrEnum]] = {
    "category": Category,
    "format": ResourceFormat,
    "share_type": ShareType,
    "sharing_method": SharingMethod,
    "open_type": OpenType,
    "update_cycle": UpdateCycle,
    "status": Status,
    "data_type": DataType,
    "sensitivity": Sensitivity,
}
