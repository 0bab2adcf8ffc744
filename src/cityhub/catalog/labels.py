"""Labels of vocabulary values, from the one message table (`catalog.<vocab>.<value>`)."""

from __future__ import annotations

import enum

from cityhub.web.i18n import Lang, t


def label(vocabulary: str, value: str | enum.StrEnum | None, lang: Lang) -> str:
    if value is None:
        return ""
    raw = value.value if isinstance(value, enum.Enum) else value
    return t(f"catalog.{vocabulary}.{raw}", lang)


def labels(vocabulary: str, value: str | enum.StrEnum) -> tuple[str, str]:
    """(zh, en)"""
    return label(vocabulary, value, "zh-CN"), label(vocabulary, value, "en")
