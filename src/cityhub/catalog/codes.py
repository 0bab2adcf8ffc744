"""The information resource code (信息资源代码), after the national cataloguing guide
《政务信息资源目录编制指南（试行）》: a classification part (前段码) and a provider part
(后段码).

    <类><项><目>[细目]-<提供方代码>-<顺序号>
      1   2   3   0|3      org code    6 digits

    101001-LYGA-000001      类 1 基础, 项 01 人口, 目 001; 临沂市公安局, No. 1
    301002001-LYSTHJ-000012 类 3 部门, 项 01, 目 002, 细目 001; 市生态环境局, No. 12

- 类 (class) is one digit and must agree with the resource's category: 1 基础资源库,
  2 主题数据库, 3 部门信息资源 (the guide's three classes), 4 专题数据库, 5 通用业务库.
- 项 (subject) is two digits; for classes 1 and 2 it must be one of the guide's subjects
  (`SUBJECTS`), for the others any of 01-99.
- 目 (item) is three digits 001-999; the optional 细目 (detail) three more.
- The provider part is the provider organization's code, then a six-digit sequence
  number 000001-999999 within that provider.

The guide separates the two parts with "/"; cityhub uses "-" so that a code is one URL
path segment (`/api/v1/resources/101001-LYGA-000001`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cityhub.catalog.vocab import CATEGORY_CLASS, CLASS_CATEGORY, Category

CODE_PATTERN = r"^[1-5]\d{5}(\d{3})?-[A-Za-z0-9][A-Za-z0-9_-]{1,31}-\d{6}$"
MAX_LENGTH = 64
_CODE = re.compile(
    r"^(?P<cls>\d)(?P<subject>\d{2})(?P<item>\d{3})(?P<detail>\d{3})?"
    r"-(?P<provider>[A-Za-z0-9][A-Za-z0-9_-]{1,31})-(?P<seq>\d{6})$"
)

# 项 of the national guide for 基础 (1) and 主题 (2) classes: (zh, en).
SUBJECTS: dict[tuple[str, str], tuple[str, str]] = {
    ("1", "01"): ("人口", "Population"),
    ("1", "02"): ("法人", "Legal entities"),
    ("1", "03"): ("自然资源和空间地理", "Natural resources and spatial geography"),
    ("1", "04"): ("社会信用", "Social credit"),
    ("1", "05"): ("电子证照", "Electronic licences"),
    ("1", "06"): ("宏观经济", "Economy"),  # the guideline's 经济 base library (4.1.2.3)
    ("2", "01"): ("公共服务", "Public services"),
    ("2", "02"): ("健康保障", "Health"),
    ("2", "03"): ("社会保障", "Social security"),
    ("2", "04"): ("食品药品安全", "Food and drug safety"),
    ("2", "05"): ("安全生产", "Work safety"),
    ("2", "06"): ("价格监管", "Price supervision"),
    ("2", "07"): ("能源安全", "Energy security"),
    ("2", "08"): ("信用体系", "Credit system"),
    ("2", "09"): ("城乡建设", "Urban and rural construction"),
    ("2", "10"): ("社区治理", "Community governance"),
    ("2", "11"): ("生态环保", "Ecology and environment"),
    ("2", "12"): ("应急保障", "Emergency response"),
}


@dataclass(frozen=True)
class ResourceCode:
    """A parsed resource code."""

    cls: str  # 类
    subject: str  # 项
    item: str  # 目
    detail: str  # 细目, "" when absent
    provider: str  # 提供方代码
    sequence: int  # 顺序号

    @property
    def category(self) -> Category:
        return CLASS_CATEGORY[self.cls]

    @property
    def classification(self) -> str:
        """The classification part (前段码)."""
        return f"{self.cls}{self.subject}{self.item}{self.detail}"

    def __str__(self) -> str:
        return f"{self.classification}-{self.provider}-{self.sequence:06d}"


def parse(code: str) -> ResourceCode:
    """The parts of `code`, or ValueError saying precisely what is wrong."""
    if len(code) > MAX_LENGTH:
        raise ValueError(f"a resource code has at most {MAX_LENGTH} characters")
    match = _CODE.match(code)
    if match is None:
        raise ValueError(
            f"{code!r} is not a resource code: expected <类1><项2><目3>[细目3]-<provider>-"
            "<sequence6>, e.g. 101001-LYGA-000001"
        )
    parts = match.groupdict()
    cls, subject, item = parts["cls"], parts["subject"], parts["item"]
    if cls not in CLASS_CATEGORY:
        raise ValueError(f"class (类) {cls!r} is unknown; use 1-5 ({_classes()})")
    if subject == "00":
        raise ValueError("subject (项) 00 is not allowed; use 01-99")
    if cls in ("1", "2") and (cls, subject) not in SUBJECTS:
        known = ", ".join(s for (c, s) in SUBJECTS if c == cls)
        raise ValueError(f"subject (项) {subject!r} is not defined for class {cls}; use {known}")
    if item == "000":
        raise ValueError("item (目) 000 is not allowed; use 001-999")
    if parts["detail"] == "000":
        raise ValueError("detail (细目) 000 is not allowed; omit it or use 001-999")
    sequence = int(parts["seq"])
    if sequence == 0:
        raise ValueError("the sequence number starts at 000001")
    return ResourceCode(cls, subject, item, parts["detail"] or "", parts["provider"], sequence)


def _classes() -> str:
    return ", ".join(f"{v} {k.value}" for k, v in CATEGORY_CLASS.items())


def problems(code: str, category: Category, provider_code: str) -> str | None:
    """Why `code` does not fit a resource of `category` from `provider_code`, or None."""
    try:
        parsed = parse(code)
    except ValueError as exc:
        return str(exc)
    if parsed.category != category:
        expected = CATEGORY_CLASS[category]
        return (
            f"code {code!r} has class (类) {parsed.cls} ({parsed.category.value}) but the "
            f"category is {category.value}; its code must start with {expected}"
        )
    if parsed.provider != provider_code:
        return (
            f"code {code!r} names provider {parsed.provider!r} but the resource is provided "
            f"by {provider_code!r}"
        )
    return None


def make(
    category: Category, subject: str, item: str, provider: str, sequence: int, detail: str = ""
) -> str:
    """A code from its parts (checked)."""
    code = f"{CATEGORY_CLASS[category]}{subject}{item}{detail}-{provider}-{sequence:06d}"
    parse(code)
    return code


def subject_label(code: str) -> tuple[str, str] | None:
    """(zh, en) name of the code's subject (项) when the guide defines one."""
    try:
        parsed = parse(code)
    except ValueError:
        return None
    return SUBJECTS.get((parsed.cls, parsed.subject))
