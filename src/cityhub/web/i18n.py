"""The one message table of user-visible text: zh-CN first, English second.

Pure data and lookups, no web imports, so the CLI (`cityhub demo`) uses it too.
"""

from __future__ import annotations

from typing import Final, Literal, TypeGuard

Lang = Literal["zh-CN", "en"]
LANGUAGES: Final[tuple[Lang, ...]] = ("zh-CN", "en")
LANG_COOKIE: Final = "cityhub_lang"

MESSAGES: Final[dict[str, dict[Lang, str]]] = {
    # -- chrome --------------------------------------------------------------
    "platform.name": {
        "zh-CN": "城市大脑公共信息平台",
        "en": "City Brain Public Information Platform",
    },
    "platform.city_name": {
        "zh-CN": "{city}城市大脑公共信息平台",
        "en": "{city} City Brain Public Information Platform",
    },
    "platform.topline": {"zh-CN": "{city}新型智慧城市", "en": "{city} New Smart City"},
    "home.eyebrow": {
        "zh-CN": "数据汇聚 · 共享开放 · 智慧应用",
        "en": "Data gathering · Sharing and opening · Smart applications",
    },
    "platform.tagline": {
        "zh-CN": "汇聚部门数据、提供共享开放接口、支撑智慧应用的城市级公共信息平台",
        "en": "The city's public information platform: it gathers departments' data, "
        "shares and opens it through standard interfaces, and serves smart applications",
    },
    "platform.guideline": {
        "zh-CN": "依据临沂市地方标准 SZSD13 0056-2020《新型智慧城市建设与运营指南》建设",
        "en": "Built after the Linyi guideline SZSD13 0056-2020, "
        "Guidelines for new type smart city construction and operation",
    },
    "nav.home": {"zh-CN": "首页", "en": "Home"},
    "nav.api_docs": {"zh-CN": "接口文档", "en": "API docs"},
    "nav.login": {"zh-CN": "登录", "en": "Log in"},
    "nav.logout": {"zh-CN": "退出", "en": "Log out"},
    "nav.language": {"zh-CN": "语言", "en": "Language"},
    "footer.version": {"zh-CN": "cityhub 版本 {version}", "en": "cityhub version {version}"},
    "footer.open_source": {
        "zh-CN": "开源软件 · 所有资源本地提供",
        "en": "Open-source software · every asset served locally",
    },
    # -- home ----------------------------------------------------------------
    "home.title": {"zh-CN": "平台概览", "en": "Platform overview"},
    "home.what": {
        "zh-CN": "平台是城市的数据中枢：部门登记信息资源、交换数据；应用开发者通过统一接口"
        "申请和调用数据；运营公司负责平台的运行与维护。",
        "en": "The platform is the city's data hub: departments register information "
        "resources and exchange data; application developers request and call data through "
        "one set of interfaces; the operating company runs and maintains it.",
    },
    "home.counts": {"zh-CN": "平台现状", "en": "At a glance"},
    "home.organizations": {"zh-CN": "接入单位", "en": "Organizations"},
    "home.regions": {"zh-CN": "行政区划", "en": "Administrative divisions"},
    "home.regions_note": {
        "zh-CN": "1 个地级市 + {n} 个县级区划",
        "en": "1 city + {n} county-level divisions",
    },
    "home.users": {"zh-CN": "平台用户", "en": "Users"},
    "home.users_note": {
        "zh-CN": "{n} 类角色，管理、运维与审计职责分离",
        "en": "{n} roles; administration, operation and audit kept apart",
    },
    "home.api": {"zh-CN": "开放接口", "en": "Open API"},
    "home.api_note": {"zh-CN": "OpenAPI 交互式文档", "en": "Interactive OpenAPI documentation"},
    "home.districts": {"zh-CN": "县级行政区划", "en": "County-level divisions"},
    "home.no_districts": {
        "zh-CN": "尚未载入行政区划，请运行 cityhub init。",
        "en": "No divisions loaded yet; run cityhub init.",
    },
    "home.col_code": {"zh-CN": "区划代码", "en": "Code"},
    "home.col_name": {"zh-CN": "名称", "en": "Name"},
    "home.col_level": {"zh-CN": "类别", "en": "Type"},
    "home.col_area": {"zh-CN": "面积（平方千米）", "en": "Area (km²)"},
    "home.account": {"zh-CN": "账户", "en": "Account"},
    "home.logged_in_as": {"zh-CN": "当前登录：{name}", "en": "Logged in as {name}"},
    "home.roles": {"zh-CN": "角色：", "en": "Roles:"},
    "home.anonymous": {
        "zh-CN": "您尚未登录。登录后可使用数据目录、接口申请和运维功能。",
        "en": "You are not logged in. Log in to use the catalog, API access and operations.",
    },
    # -- login ---------------------------------------------------------------
    "login.title": {"zh-CN": "用户登录", "en": "Log in"},
    "login.username": {"zh-CN": "用户名", "en": "Username"},
    "login.password": {"zh-CN": "密码", "en": "Password"},
    "login.submit": {"zh-CN": "登录", "en": "Log in"},
    "login.failed": {"zh-CN": "用户名或密码错误。", "en": "Wrong username or password."},
    "login.disabled": {
        "zh-CN": "该账户已停用，请联系管理员。",
        "en": "This account is disabled; ask your administrator.",
    },
    "login.throttled": {
        "zh-CN": "登录失败次数过多，请 {minutes} 分钟后再试。",
        "en": "Too many failed logins; try again in {minutes} minutes.",
    },
    "login.hint": {
        "zh-CN": "机器客户端请使用 API 密钥（Authorization: Bearer）。",
        "en": "Machine clients use an API key (Authorization: Bearer).",
    },
    "csrf.failed": {
        "zh-CN": "表单已失效，请刷新页面后重试。",
        "en": "The form has expired; reload the page and try again.",
    },
    "error.title": {"zh-CN": "请求未完成", "en": "Request not completed"},
    "error.back": {"zh-CN": "返回首页", "en": "Back to the home page"},
    # -- vocabularies --------------------------------------------------------
    "kind.government": {"zh-CN": "政府部门", "en": "Government"},
    "kind.operator": {"zh-CN": "运营公司", "en": "Operator"},
    "kind.enterprise": {"zh-CN": "企业", "en": "Enterprises"},
    "kind.institution": {"zh-CN": "事业单位", "en": "Public institutions"},
    "level.city": {"zh-CN": "地级市", "en": "City"},
    "level.district": {"zh-CN": "市辖区", "en": "District"},
    "level.county": {"zh-CN": "县", "en": "County"},
    "level.province": {"zh-CN": "省", "en": "Province"},
    "role.platform_admin": {"zh-CN": "平台管理员", "en": "Platform admin"},
    "role.operator": {"zh-CN": "运维人员", "en": "Operator"},
    "role.dept_admin": {"zh-CN": "部门管理员", "en": "Department admin"},
    "role.data_officer": {"zh-CN": "部门数据专员", "en": "Data officer"},
    "role.developer": {"zh-CN": "应用开发者", "en": "Developer"},
    "role.viewer": {"zh-CN": "只读用户", "en": "Viewer"},
    "role.auditor": {"zh-CN": "安全审计员", "en": "Auditor"},
    # -- `cityhub demo` summary ----------------------------------------------
    "demo.built": {"zh-CN": "临沂演示城市已建成", "en": "Linyi demo city built"},
    "demo.reused": {
        "zh-CN": "沿用已有的临沂演示城市",
        "en": "Reusing the existing Linyi demo city",
    },
    "demo.url": {"zh-CN": "访问地址", "en": "URL"},
    "demo.api_docs": {"zh-CN": "接口文档", "en": "API docs"},
    "demo.credentials": {
        "zh-CN": "演示账号（仅限演示环境）",
        "en": "Demo credentials (demo mode only)",
    },
    "demo.col_username": {"zh-CN": "用户名", "en": "username"},
    "demo.col_password": {"zh-CN": "密码", "en": "password"},
    "demo.col_role": {"zh-CN": "角色", "en": "role"},
    "demo.col_org": {"zh-CN": "单位", "en": "organization"},
    "demo.password_changed": {
        "zh-CN": "（密码已被修改）",
        "en": "(password was changed)",
    },
    "demo.counts": {"zh-CN": "数量", "en": "Counts"},
    "demo.organizations": {"zh-CN": "单位", "en": "organizations"},
    "demo.regions": {"zh-CN": "行政区划", "en": "regions"},
    "demo.users": {"zh-CN": "用户", "en": "users"},
    "demo.population": {
        "zh-CN": "人口库：计划生成 {n} 名居民（后续版本提供）",
        "en": "population library: {n} residents planned (generated in a later release)",
    },
    "demo.seed": {"zh-CN": "随机种子", "en": "seed"},
}


def is_lang(value: object) -> TypeGuard[Lang]:
    return value in LANGUAGES


def t(key: str, lang: Lang, **params: object) -> str:
    """The text of `key` in `lang`; an unknown key shows itself rather than failing a page."""
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry["zh-CN"]
    return text.format(**params) if params else text


def both(key: str, **params: object) -> str:
    """Chinese then English, for bilingual output such as the CLI's."""
    zh, en = t(key, "zh-CN", **params), t(key, "en", **params)
    return zh if zh == en else f"{zh} · {en}"


def pick_language(query: str | None, cookie: str | None, default: Lang) -> tuple[Lang, bool]:
    """(language, remember): `?lang=` wins and is remembered, then the cookie, then default."""
    if is_lang(query):
        return query, True
    if is_lang(cookie):
        return cookie, False
    return default, False
