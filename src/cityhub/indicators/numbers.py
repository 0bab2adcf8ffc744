"""Numbers as people read them: 万 and 亿 in Chinese, k/M/B in English (cockpit.js has the
same rules for live updates)."""

from __future__ import annotations

from cityhub.web.i18n import Lang


def _plain(value: float, digits: int) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.{digits}f}".rstrip("0").rstrip(".")


def human(value: float | None, lang: Lang, unit: str = "") -> str:
    """`11034521` → `1,103.45万` (zh-CN) or `11.03M` (en); percentages keep one decimal."""
    if value is None:
        return "—"
    if unit == "%":
        return f"{value:.1f}%"
    size = abs(value)
    if lang == "zh-CN":
        if size >= 1e8:
            text = _plain(value / 1e8, 2) + "亿"
        elif size >= 1e4:
            text = _plain(value / 1e4, 2) + "万"
        else:
            text = _plain(value, 2)
    elif size >= 1e9:
        text = _plain(value / 1e9, 2) + "B"
    elif size >= 1e6:
        text = _plain(value / 1e6, 2) + "M"
    elif size >= 1e4:
        text = _plain(value / 1e3, 1) + "k"
    else:
        text = _plain(value, 2)
    if lang == "zh-CN" or not unit:
        return f"{text}{unit}"
    singular = unit[:-1] if value == 1 and unit.endswith("s") else unit  # 1 alarm, 2 alarms
    return f"{text} {singular}"
