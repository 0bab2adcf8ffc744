"""Validation rules of a resource's items, and the target a batch is checked against.

Rules declared on a resource (`PUT /api/v1/resources/{code}/exchange-rules`), one object
per item code:

    {"required": true}                      a value must be present
    {"check": "id_number"}                  GB 11643 citizen ID number (15 digits upgraded)
    {"check": "credit_code"}                GB 32100 unified social credit code
    {"check": "phone"}                      mainland mobile number (normalized to 11 digits)
    {"check": "region", "within": "371300"} GB/T 2260 code; names are turned into codes
    {"check": "industry"}                   GB/T 4754 industry code
    {"check": "address", "region_item": "HJQH"}
                                            free text; the district named in it fills
                                            `region_item` when that is empty
    {"codes": ["1", "2"]}                   a code list
    {"pattern": "^[A-Z]{2}\\d+$"}           a regular expression the whole value matches
    {"min": 0, "max": 100}                  bounds of numbers, or ISO dates ("today" too)
    {"check": "none"}                       switch off a check inferred from the item code

Without a declaration an item still gets what its type and length say, its key status
(keys are required) and the check its well-known code implies (SFZH → id_number,
TYSHXYDM → credit_code, LXDH → phone, ...QHDM/XZQH → region, HYDM → industry).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from cityhub.errors import ValidationFailed
from cityhub.exchange.models import ResourceRules
from cityhub.gateway.resources import ItemInfo, ResourceInfo

CHECKS = ("id_number", "credit_code", "phone", "region", "industry", "address", "none")
_RULE_KEYS = frozenset(
    {"required", "check", "within", "region_item", "codes", "pattern", "min", "max"}
)
MAX_CODES = 10_000

# Well-known item codes of the national data elements and the demo catalog.
_INFERRED: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(sfzh|sfzhm|gmsfhm|zjhm|id_number)$"), "id_number"),
    (re.compile(r"^(tyshxydm|shxydm|credit_code)$"), "credit_code"),
    (re.compile(r"^(lxdh|sjhm|yddh|mobile)$"), "phone"),
    (re.compile(r"^(xzqh|xzqhdm|qhdm|hjqh|jzqh|szqh|region_code)$"), "region"),
    (re.compile(r"^(hydm|industry_code)$"), "industry"),
)


@dataclass(frozen=True)
class ItemRule:
    """The effective rule of one item (declared, else inferred)."""

    required: bool = False
    check: str = ""  # one of CHECKS, "" for none
    within: str = ""  # region: a GB/T 2260 code the value must lie under
    region_item: str = ""  # address: the region item it fills
    codes: tuple[str, ...] = ()
    pattern: str = ""
    min: Any = None
    max: Any = None


@dataclass(frozen=True)
class Target:
    """Everything a batch is checked against: the resource, its keys, its item rules."""

    info: ResourceInfo
    keys: tuple[str, ...]
    rules: dict[str, ItemRule] = field(default_factory=dict)

    @property
    def items(self) -> tuple[ItemInfo, ...]:
        return self.info.items

    def rule(self, code: str) -> ItemRule:
        return self.rules.get(code, ItemRule())


def _inferred_check(item: ItemInfo) -> str:
    lowered = item.code.lower()
    for pattern, check in _INFERRED:
        if pattern.match(lowered):
            return check
    return ""


def _bound(item: ItemInfo, name: str, value: Any) -> Any:
    if value is None:
        return None
    if item.data_type.value in ("date", "datetime"):
        if value == "today":
            return value
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValidationFailed(
                f"rule of {item.code}: {name} must be an ISO date or 'today', not {value!r}"
            ) from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationFailed(f"rule of {item.code}: {name} must be a number, not {value!r}")
    return value


def parse_item_rule(item: ItemInfo, raw: dict[str, Any], items: dict[str, ItemInfo]) -> ItemRule:
    """A declared rule, checked; ValidationFailed names the item and the problem."""
    if not isinstance(raw, dict):
        raise ValidationFailed(f"rule of {item.code} must be an object")
    if unknown := sorted(set(raw) - _RULE_KEYS):
        raise ValidationFailed(
            f"rule of {item.code}: unknown key(s) {', '.join(unknown)}; use "
            + ", ".join(sorted(_RULE_KEYS))
        )
    check = raw.get("check") or ""
    if check not in ("", *CHECKS):
        raise ValidationFailed(
            f"rule of {item.code}: check {check!r} is not one of {', '.join(CHECKS)}"
        )
    if check and check != "none" and item.kind.value not in ("string", "text"):
        raise ValidationFailed(f"rule of {item.code}: check {check} needs a text item")
    region_item = str(raw.get("region_item") or "")
    if region_item and region_item not in items:
        raise ValidationFailed(f"rule of {item.code}: region_item {region_item!r} is no item")
    within = str(raw.get("within") or "")
    if within and not re.fullmatch(r"\d{6}", within):
        raise ValidationFailed(f"rule of {item.code}: within must be a 6-digit region code")
    codes = raw.get("codes") or []
    if not isinstance(codes, list) or len(codes) > MAX_CODES:
        raise ValidationFailed(f"rule of {item.code}: codes must be a list (≤ {MAX_CODES})")
    pattern = str(raw.get("pattern") or "")
    if pattern:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValidationFailed(f"rule of {item.code}: bad pattern: {exc}") from None
    required = raw.get("required", False)
    if not isinstance(required, bool):
        raise ValidationFailed(f"rule of {item.code}: required must be true or false")
    return ItemRule(
        required=required,
        check=check,
        within=within,
        region_item=region_item,
        codes=tuple(str(c) for c in codes),
        pattern=pattern,
        min=_bound(item, "min", raw.get("min")),
        max=_bound(item, "max", raw.get("max")),
    )


def declared(session: Session, resource_code: str) -> dict[str, Any]:
    row = session.get(ResourceRules, resource_code)
    return dict(row.items) if row is not None else {}


def check_declaration(info: ResourceInfo, raw: dict[str, Any]) -> dict[str, ItemRule]:
    items = {i.code: i for i in info.items}
    out: dict[str, ItemRule] = {}
    for code, rule in raw.items():
        item = items.get(code)
        if item is None:
            raise ValidationFailed(
                f"rules name {code!r}, which is not an item of {info.code}; its items are "
                + ", ".join(items)
            )
        out[code] = parse_item_rule(item, rule, items)
    return out


def effective(info: ResourceInfo, keys: tuple[str, ...], raw: dict[str, Any]) -> Target:
    """Declared rules over inferred ones; keys are always required."""
    parsed = check_declaration(info, raw)
    rules: dict[str, ItemRule] = {}
    for item in info.items:
        rule = parsed.get(item.code)
        if rule is None:
            check = _inferred_check(item) if item.kind.value in ("string", "text") else ""
            rule = ItemRule(check=check)
        if rule.check == "none":
            rule = ItemRule(**{**rule.__dict__, "check": ""})
        if item.code in keys and not rule.required:
            rule = ItemRule(**{**rule.__dict__, "required": True})
        rules[item.code] = rule
    return Target(info, keys, rules)


def describe(target: Target) -> dict[str, dict[str, Any]]:
    """The effective rules as JSON (only what differs from nothing)."""
    out: dict[str, dict[str, Any]] = {}
    for code, rule in target.rules.items():
        shown = {k: (list(v) if isinstance(v, tuple) else v) for k, v in rule.__dict__.items()}
        out[code] = {k: v for k, v in shown.items() if v not in (False, "", (), [], None)}
    return out
