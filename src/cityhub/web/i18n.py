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
        "zh-CN": "人口库：生成并交换入库 {n} 名居民",
        "en": "population library: {n} residents generated and delivered",
    },
    "demo.seed": {"zh-CN": "随机种子", "en": "seed"},
    # -- ledger --------------------------------------------------------------
    "nav.ledger": {
        "zh-CN": "可信存证",
        "en": "Ledger",
    },
    "ledger.title": {
        "zh-CN": "区块链可信存证",
        "en": "Verifiable ledger",
    },
    "ledger.what": {
        "zh-CN": "平台把每一次数据交付、资源版本发布、共享授权与审批记录进可验证的默克尔日志"
        "（SM3），由平台密钥签名树头、各部门见证人联署；任何人都可离线验证凭证，"
        "平台运营方也无法悄悄改写历史。",
        "en": "Every delivery, resource version, sharing grant and approval is recorded in a "
        "verifiable Merkle log (SM3); the platform signs tree heads and department witnesses "
        "cosign them. Anyone can check a receipt offline, and not even the operator can "
        "silently rewrite history.",
    },
    "ledger.size": {
        "zh-CN": "存证条目",
        "en": "Entries",
    },
    "ledger.hash": {
        "zh-CN": "哈希算法",
        "en": "Hash",
    },
    "ledger.heads": {
        "zh-CN": "已签名树头",
        "en": "Signed heads",
    },
    "ledger.signature": {
        "zh-CN": "签名算法",
        "en": "Signature",
    },
    "ledger.witnesses": {
        "zh-CN": "见证人",
        "en": "Witnesses",
    },
    "ledger.witness_note": {
        "zh-CN": "部门登记的联署密钥",
        "en": "Department keys that cosign heads",
    },
    "ledger.audit": {
        "zh-CN": "篡改检测",
        "en": "Tamper audit",
    },
    "ledger.audit_ok": {
        "zh-CN": "通过",
        "en": "Passed",
    },
    "ledger.audit_failed": {
        "zh-CN": "发现异常",
        "en": "Findings",
    },
    "ledger.audit_checked": {
        "zh-CN": "已核验 {n} 项",
        "en": "{n} items checked",
    },
    "ledger.audit_never": {
        "zh-CN": "尚未运行",
        "en": "Not run yet",
    },
    "ledger.latest_head": {
        "zh-CN": "最新签名树头",
        "en": "Latest signed tree head",
    },
    "ledger.origin": {
        "zh-CN": "日志标识",
        "en": "Origin",
    },
    "ledger.head_size": {
        "zh-CN": "树大小",
        "en": "Tree size",
    },
    "ledger.root": {
        "zh-CN": "根哈希",
        "en": "Root hash",
    },
    "ledger.time": {
        "zh-CN": "签名时间",
        "en": "Signed at",
    },
    "ledger.key": {
        "zh-CN": "平台密钥",
        "en": "Platform key",
    },
    "ledger.cosignatures": {
        "zh-CN": "见证联署",
        "en": "Cosignatures",
    },
    "ledger.no_cosignatures": {
        "zh-CN": "暂无联署",
        "en": "None yet",
    },
    "ledger.no_head": {
        "zh-CN": "尚未签名树头。",
        "en": "No tree head has been signed yet.",
    },
    "ledger.witness": {
        "zh-CN": "见证人",
        "en": "Witness",
    },
    "ledger.department": {
        "zh-CN": "部门",
        "en": "Department",
    },
    "ledger.cosigned_size": {
        "zh-CN": "已联署大小",
        "en": "Cosigned size",
    },
    "ledger.cosigned_at": {
        "zh-CN": "最近联署",
        "en": "Last cosigned",
    },
    "ledger.status": {
        "zh-CN": "状态",
        "en": "Status",
    },
    "ledger.witness_current": {
        "zh-CN": "已跟上",
        "en": "Up to date",
    },
    "ledger.witness_behind": {
        "zh-CN": "滞后",
        "en": "Behind",
    },
    "ledger.witness_never": {
        "zh-CN": "从未联署",
        "en": "Never cosigned",
    },
    "ledger.witness_inactive": {
        "zh-CN": "已停用",
        "en": "Inactive",
    },
    "ledger.no_witnesses": {
        "zh-CN": "尚无部门登记见证人。部门管理员可通过 POST /api/v1/ledger/witnesses 登记。",
        "en": "No department has registered a witness yet; department admins register one "
        "with POST /api/v1/ledger/witnesses.",
    },
    "ledger.verify": {
        "zh-CN": "验证凭证",
        "en": "Verify a receipt",
    },
    "ledger.verify_note": {
        "zh-CN": "上传存证凭证或导出包（JSON），按本平台公布的密钥核验。",
        "en": "Upload a receipt or export bundle (JSON); it is checked against this "
        "platform's published keys.",
    },
    "ledger.receipt_file": {
        "zh-CN": "凭证文件",
        "en": "Receipt file",
    },
    "ledger.verify_submit": {
        "zh-CN": "验证",
        "en": "Verify",
    },
    "ledger.valid": {
        "zh-CN": "验证通过",
        "en": "Valid",
    },
    "ledger.invalid": {
        "zh-CN": "验证失败",
        "en": "Not valid",
    },
    "ledger.upload_too_big": {
        "zh-CN": "文件过大（上限 8 MB）。",
        "en": "The file is too big (8 MB at most).",
    },
    "ledger.not_json": {
        "zh-CN": "文件不是 JSON",
        "en": "The file is not JSON",
    },
    "ledger.entries": {
        "zh-CN": "存证记录",
        "en": "Entries",
    },
    "ledger.by_resource": {
        "zh-CN": "资源代码",
        "en": "Resource code",
    },
    "ledger.by_batch": {
        "zh-CN": "批次",
        "en": "Batch",
    },
    "ledger.search": {
        "zh-CN": "查询",
        "en": "Search",
    },
    "ledger.topic": {
        "zh-CN": "事件",
        "en": "Event",
    },
    "ledger.resource": {
        "zh-CN": "资源",
        "en": "Resource",
    },
    "ledger.batch": {
        "zh-CN": "批次",
        "en": "Batch",
    },
    "ledger.leaf": {
        "zh-CN": "叶哈希",
        "en": "Leaf hash",
    },
    "ledger.receipt": {
        "zh-CN": "凭证",
        "en": "Receipt",
    },
    "ledger.no_entries": {
        "zh-CN": "没有符合条件的存证记录。",
        "en": "No entries match.",
    },
    # -- catalog (信息资源目录) ------------------------------------------------
    "nav.catalog": {"zh-CN": "数据目录", "en": "Data catalog"},
    "catalog.title": {"zh-CN": "信息资源目录", "en": "Information resource catalog"},
    "catalog.lead": {
        "zh-CN": "全市各部门登记的政务信息资源，按 GB/T 21063.3 核心元数据编目，"
        "可检索、可申请共享。",
        "en": "The information resources of the city's departments, catalogued with the "
        "GB/T 21063.3 core metadata: search them and request access.",
    },
    "catalog.search_label": {"zh-CN": "检索信息资源", "en": "Search the catalog"},
    "catalog.search_placeholder": {
        "zh-CN": "输入资源名称、信息项或关键词，如：人口",
        "en": "Name, item or keyword, e.g. 人口 (population)",
    },
    "catalog.search": {"zh-CN": "检索", "en": "Search"},
    "catalog.results": {"zh-CN": "共 {n} 条信息资源", "en": "{n} information resources"},
    "catalog.no_results": {
        "zh-CN": "没有找到符合条件的信息资源。",
        "en": "No information resource matches.",
    },
    "catalog.clear": {"zh-CN": "清除筛选", "en": "Clear filters"},
    "catalog.sort": {"zh-CN": "排序", "en": "Sort by"},
    "catalog.sort.relevance": {"zh-CN": "相关度", "en": "Relevance"},
    "catalog.sort.name": {"zh-CN": "名称", "en": "Name"},
    "catalog.sort.code": {"zh-CN": "资源代码", "en": "Code"},
    "catalog.sort.publish_date": {"zh-CN": "发布日期", "en": "Publish date"},
    "catalog.sort.updated": {"zh-CN": "最近更新", "en": "Recently updated"},
    "catalog.next": {"zh-CN": "下一页", "en": "Next page"},
    "catalog.first": {"zh-CN": "回到第一页", "en": "First page"},
    "catalog.json_twin": {"zh-CN": "本页数据（JSON）", "en": "This page as JSON"},
    "catalog.export": {"zh-CN": "DCAT 导出", "en": "DCAT export"},
    "catalog.facets": {"zh-CN": "筛选", "en": "Filters"},
    "catalog.facet.provider": {"zh-CN": "提供部门", "en": "Provider"},
    "catalog.facet.category": {"zh-CN": "资源分类", "en": "Category"},
    "catalog.facet.share_type": {"zh-CN": "共享类型", "en": "Sharing"},
    "catalog.facet.open_type": {"zh-CN": "开放类型", "en": "Opening"},
    "catalog.facet.update_cycle": {"zh-CN": "更新周期", "en": "Update cycle"},
    "catalog.facet.region": {"zh-CN": "覆盖区域", "en": "Coverage"},
    "catalog.facet.format": {"zh-CN": "资源格式", "en": "Format"},
    "catalog.facet.keyword": {"zh-CN": "关键词", "en": "Keyword"},
    "catalog.mine": {"zh-CN": "我的资源", "en": "My resources"},
    "catalog.review_queue": {"zh-CN": "发布审核", "en": "Publication review"},
    "catalog.field.code": {"zh-CN": "资源代码", "en": "Resource code"},
    "catalog.field.name": {"zh-CN": "资源名称", "en": "Name"},
    "catalog.field.provider": {"zh-CN": "提供方", "en": "Provider"},
    "catalog.field.summary": {"zh-CN": "资源摘要", "en": "Summary"},
    "catalog.field.category": {"zh-CN": "资源分类", "en": "Category"},
    "catalog.field.subject": {"zh-CN": "类目（项）", "en": "Subject"},
    "catalog.field.format": {"zh-CN": "资源格式", "en": "Format"},
    "catalog.field.share_type": {"zh-CN": "共享类型", "en": "Sharing"},
    "catalog.field.share_condition": {"zh-CN": "共享条件", "en": "Sharing conditions"},
    "catalog.field.share_basis": {"zh-CN": "不予共享依据", "en": "Legal basis for not sharing"},
    "catalog.field.sharing_method": {"zh-CN": "共享方式", "en": "Sharing method"},
    "catalog.field.open_type": {"zh-CN": "开放类型", "en": "Opening"},
    "catalog.field.open_condition": {"zh-CN": "开放条件", "en": "Opening conditions"},
    "catalog.field.update_cycle": {"zh-CN": "更新周期", "en": "Update cycle"},
    "catalog.field.publish_date": {"zh-CN": "发布日期", "en": "Publish date"},
    "catalog.field.regions": {"zh-CN": "覆盖区域", "en": "Spatial coverage"},
    "catalog.field.keywords": {"zh-CN": "关键词", "en": "Keywords"},
    "catalog.field.related": {"zh-CN": "关联资源代码", "en": "Related resources"},
    "catalog.field.version": {"zh-CN": "版本", "en": "Version"},
    "catalog.field.status": {"zh-CN": "状态", "en": "Status"},
    "catalog.field.updated": {"zh-CN": "更新时间", "en": "Updated"},
    "catalog.field.items": {"zh-CN": "信息项", "en": "Information items"},
    "catalog.item.no": {"zh-CN": "序号", "en": "No."},
    "catalog.item.name": {"zh-CN": "信息项名称", "en": "Item"},
    "catalog.item.code": {"zh-CN": "字段代码", "en": "Code"},
    "catalog.item.data_type": {"zh-CN": "数据类型", "en": "Type"},
    "catalog.item.length": {"zh-CN": "长度", "en": "Length"},
    "catalog.item.element_ref": {"zh-CN": "数据元", "en": "Data element"},
    "catalog.item.sensitivity": {"zh-CN": "分级", "en": "Grading"},
    "catalog.item.masking": {"zh-CN": "脱敏规则", "en": "Masking"},
    "catalog.no_items": {"zh-CN": "未登记信息项。", "en": "No items registered."},
    "catalog.metadata": {"zh-CN": "核心元数据", "en": "Core metadata"},
    "catalog.how_to": {"zh-CN": "如何申请使用", "en": "How to get access"},
    "catalog.how.unconditional": {
        "zh-CN": "本资源为无条件共享：应用开发者为应用提交共享申请后即时获批并留痕，"
        "随后可通过数据查询接口调用。",
        "en": "Shared unconditionally: a developer's application that requests it is granted "
        "at once (and the grant is recorded), then reads it through the dataset API.",
    },
    "catalog.how.conditional": {
        "zh-CN": "本资源为有条件共享：请为应用提交共享申请，说明用途和使用期限，"
        "由{provider}的数据专员审批（默认 10 个工作日内）。",
        "en": "Shared on conditions: request it for your application with its purpose and "
        "period; the data officers of {provider} decide (within 10 working days by default).",
    },
    "catalog.how.none": {
        "zh-CN": "本资源不予共享，不能申请。",
        "en": "This resource is not shared and cannot be requested.",
    },
    "catalog.how.masked": {
        "zh-CN": "带脱敏规则的信息项默认以脱敏形式返回，如：{example}。",
        "en": "Items with a masking rule come back masked unless the grant allows clear "
        "text, e.g. {example}.",
    },
    "catalog.how.login": {
        "zh-CN": "登录后即可提交共享申请。",
        "en": "Log in to request access.",
    },
    "catalog.gateway_slot": {
        "zh-CN": "数据样例与共享申请（接口服务）",
        "en": "Sample rows and access requests (interface service)",
    },
    "catalog.versions": {"zh-CN": "版本历史", "en": "Version history"},
    "catalog.version.digest": {"zh-CN": "摘要值（SHA-256）", "en": "Digest (SHA-256)"},
    "catalog.version.by": {"zh-CN": "发布人", "en": "Published by"},
    "catalog.version.at": {"zh-CN": "发布时间", "en": "Published at"},
    "catalog.version.changes": {"zh-CN": "变更", "en": "Changes"},
    "catalog.version.initial": {"zh-CN": "首次发布", "en": "First publication"},
    "catalog.no_versions": {"zh-CN": "尚未发布。", "en": "Not published yet."},
    "catalog.history": {"zh-CN": "流转记录", "en": "Workflow history"},
    "catalog.step.at": {"zh-CN": "时间", "en": "When"},
    "catalog.step.actor": {"zh-CN": "操作人", "en": "Who"},
    "catalog.step.action": {"zh-CN": "操作", "en": "Action"},
    "catalog.step.comment": {"zh-CN": "意见", "en": "Comment"},
    "catalog.action.create": {"zh-CN": "登记", "en": "Registered"},
    "catalog.action.update": {"zh-CN": "修改", "en": "Changed"},
    "catalog.action.submit": {"zh-CN": "提交审核", "en": "Submit for review"},
    "catalog.action.approve": {"zh-CN": "审核通过并发布", "en": "Approve and publish"},
    "catalog.action.reject": {"zh-CN": "退回修改", "en": "Return for changes"},
    "catalog.action.withdraw": {"zh-CN": "撤回发布", "en": "Withdraw"},
    "catalog.done.submit": {"zh-CN": "已提交审核：{code}", "en": "Submitted for review: {code}"},
    "catalog.done.approve": {"zh-CN": "已发布：{code}", "en": "Published: {code}"},
    "catalog.done.reject": {"zh-CN": "已退回修改：{code}", "en": "Returned for changes: {code}"},
    "catalog.done.withdraw": {"zh-CN": "已撤回：{code}", "en": "Withdrawn: {code}"},
    "catalog.done.saved": {"zh-CN": "已保存：{code}", "en": "Saved: {code}"},
    "catalog.comment_placeholder": {"zh-CN": "意见或原因", "en": "Comment or reason"},
    "catalog.new": {"zh-CN": "登记新资源", "en": "Register a resource"},
    "catalog.edit": {"zh-CN": "编辑", "en": "Edit"},
    "catalog.edit_title": {"zh-CN": "编辑信息资源 {code}", "en": "Edit resource {code}"},
    "catalog.save": {"zh-CN": "保存", "en": "Save"},
    "catalog.cancel": {"zh-CN": "取消", "en": "Cancel"},
    "catalog.form_failed": {"zh-CN": "未保存：{reason}", "en": "Not saved: {reason}"},
    "catalog.action_failed": {"zh-CN": "操作未完成：{reason}", "en": "Not done: {reason}"},
    "catalog.code_hint": {
        "zh-CN": "格式：类(1位)项(2位)目(3位)[细目(3位)]-提供方代码-顺序号(6位)，"
        "如 101001-LYGA-000001",
        "en": "Format: class(1) subject(2) item(3) [detail(3)]-provider code-sequence(6), "
        "e.g. 101001-LYGA-000001",
    },
    "catalog.list_hint": {
        "zh-CN": "多个值以逗号或空格分隔",
        "en": "Separate several values with commas or spaces",
    },
    "catalog.items_hint": {
        "zh-CN": "名称和代码都留空的行将被忽略；需要更多行时请先保存再编辑。",
        "en": "Rows with neither name nor code are ignored; save, then edit again for more rows.",
    },
    "catalog.masking_hint": {
        "zh-CN": "脱敏规则：keep:first6,last4、name、phone、email、hide",
        "en": "Masking rules: keep:first6,last4, name, phone, email, hide",
    },
    "catalog.none_selected": {"zh-CN": "（无）", "en": "(none)"},
    "catalog.mine_empty": {
        "zh-CN": "本单位尚未登记信息资源。",
        "en": "Your organization has not registered any resource yet.",
    },
    "catalog.queue_empty": {
        "zh-CN": "没有待审核的信息资源。",
        "en": "No resource waits for review.",
    },
    "catalog.not_editor": {
        "zh-CN": "只有部门数据专员、部门管理员和平台管理员使用此页面。",
        "en": "This page is for data officers, department admins and platform admins.",
    },
    "catalog.all_statuses": {"zh-CN": "全部状态", "en": "All statuses"},
    "catalog.category.basic": {"zh-CN": "基础资源库", "en": "Base library"},
    "catalog.category.theme": {"zh-CN": "主题数据库", "en": "Theme database"},
    "catalog.category.topic": {"zh-CN": "专题数据库", "en": "Special-topic database"},
    "catalog.category.business": {"zh-CN": "通用业务库", "en": "Common business library"},
    "catalog.category.department": {"zh-CN": "部门信息资源", "en": "Department resource"},
    "catalog.format.table": {"zh-CN": "数据库表", "en": "Table"},
    "catalog.format.file": {"zh-CN": "文件", "en": "File"},
    "catalog.format.api": {"zh-CN": "接口", "en": "API"},
    "catalog.share_type.unconditional": {"zh-CN": "无条件共享", "en": "Shared unconditionally"},
    "catalog.share_type.conditional": {"zh-CN": "有条件共享", "en": "Shared on conditions"},
    "catalog.share_type.none": {"zh-CN": "不予共享", "en": "Not shared"},
    "catalog.sharing_method.database": {"zh-CN": "数据库", "en": "Database"},
    "catalog.sharing_method.api": {"zh-CN": "接口", "en": "API"},
    "catalog.sharing_method.file": {"zh-CN": "文件", "en": "File"},
    "catalog.open_type.open": {"zh-CN": "无条件开放", "en": "Open"},
    "catalog.open_type.conditional": {"zh-CN": "有条件开放", "en": "Open on conditions"},
    "catalog.open_type.closed": {"zh-CN": "不予开放", "en": "Not open"},
    "catalog.update_cycle.realtime": {"zh-CN": "实时", "en": "Real time"},
    "catalog.update_cycle.daily": {"zh-CN": "每日", "en": "Daily"},
    "catalog.update_cycle.weekly": {"zh-CN": "每周", "en": "Weekly"},
    "catalog.update_cycle.monthly": {"zh-CN": "每月", "en": "Monthly"},
    "catalog.update_cycle.quarterly": {"zh-CN": "每季", "en": "Quarterly"},
    "catalog.update_cycle.yearly": {"zh-CN": "每年", "en": "Yearly"},
    "catalog.status.draft": {"zh-CN": "草稿", "en": "Draft"},
    "catalog.status.in_review": {"zh-CN": "待审核", "en": "In review"},
    "catalog.status.published": {"zh-CN": "已发布", "en": "Published"},
    "catalog.status.withdrawn": {"zh-CN": "已撤回", "en": "Withdrawn"},
    "catalog.data_type.string": {"zh-CN": "字符型 C", "en": "String (C)"},
    "catalog.data_type.number": {"zh-CN": "数值型 N", "en": "Number (N)"},
    "catalog.data_type.currency": {"zh-CN": "货币型 Y", "en": "Currency (Y)"},
    "catalog.data_type.date": {"zh-CN": "日期型 D", "en": "Date (D)"},
    "catalog.data_type.datetime": {"zh-CN": "日期时间型 T", "en": "Date and time (T)"},
    "catalog.data_type.boolean": {"zh-CN": "逻辑型 L", "en": "Boolean (L)"},
    "catalog.data_type.text": {"zh-CN": "备注型 M", "en": "Text (M)"},
    "catalog.data_type.binary": {"zh-CN": "通用型 G", "en": "Binary (G)"},
    "catalog.data_type.double": {"zh-CN": "双精度型 B", "en": "Double (B)"},
    "catalog.data_type.integer": {"zh-CN": "整型 I", "en": "Integer (I)"},
    "catalog.data_type.float": {"zh-CN": "浮点型 F", "en": "Float (F)"},
    "catalog.sensitivity.public": {"zh-CN": "公开", "en": "Public"},
    "catalog.sensitivity.internal": {"zh-CN": "内部", "en": "Internal"},
    "catalog.sensitivity.sensitive": {"zh-CN": "敏感", "en": "Sensitive"},
    "catalog.sensitivity.restricted": {"zh-CN": "重要", "en": "Restricted"},
    "catalog.gateway_none": {
        "zh-CN": "接口服务启用后，这里显示数据样例和共享申请入口。",
        "en": "Sample rows and the access request appear here once the interface service runs.",
    },
    "catalog.login_to_see": {
        "zh-CN": "该信息资源不予开放，请登录后查看其元数据。",
        "en": "This resource is not open to the public; log in to see its metadata.",
    },
    # -- sensing -------------------------------------------------------------
    "nav.sensing": {"zh-CN": "感知设备", "en": "Devices"},
    "sensing.devices_title": {"zh-CN": "感知设备", "en": "Sensing devices"},
    "sensing.alarms_title": {"zh-CN": "告警中心", "en": "Alarm inbox"},
    "sensing.what": {
        "zh-CN": "城市感知层的终端、摄像头、卫星定位、传感器和采集器："
        "在线状态、分布地图与实时数据。",
        "en": "The city's terminals, cameras, GNSS locators, sensors and collectors: online "
        "status, map and live data.",
    },
    "sensing.total": {"zh-CN": "设备总数", "en": "Devices"},
    "sensing.online_rate": {"zh-CN": "在线率", "en": "Online rate"},
    "sensing.map": {"zh-CN": "设备分布", "en": "Device map"},
    "sensing.map_note": {
        "zh-CN": "区县边界与设备位置均为 GCJ-02 坐标；点击设备查看详情。",
        "en": "District boundaries and devices in GCJ-02; click a device for its details.",
    },
    "sensing.list": {"zh-CN": "设备列表", "en": "Device list"},
    "sensing.filter": {"zh-CN": "筛选", "en": "Filter"},
    "sensing.any": {"zh-CN": "全部", "en": "Any"},
    "sensing.more": {"zh-CN": "下一页", "en": "Next page"},
    "sensing.none": {"zh-CN": "没有符合条件的设备。", "en": "No device matches."},
    "sensing.json_twin": {"zh-CN": "数据接口：", "en": "JSON API:"},
    "sensing.col_code": {"zh-CN": "设备编码", "en": "Code"},
    "sensing.col_name": {"zh-CN": "名称", "en": "Name"},
    "sensing.col_kind": {"zh-CN": "类型", "en": "Kind"},
    "sensing.col_region": {"zh-CN": "所在区县", "en": "District"},
    "sensing.col_org": {"zh-CN": "权属单位", "en": "Owner"},
    "sensing.col_status": {"zh-CN": "状态", "en": "Status"},
    "sensing.col_last_seen": {"zh-CN": "最近上报", "en": "Last seen"},
    "sensing.kind.terminal": {"zh-CN": "终端", "en": "Terminal"},
    "sensing.kind.camera": {"zh-CN": "摄像头", "en": "Camera"},
    "sensing.kind.gnss": {"zh-CN": "卫星定位", "en": "GNSS"},
    "sensing.kind.sensor": {"zh-CN": "传感器", "en": "Sensor"},
    "sensing.kind.collector": {"zh-CN": "采集器", "en": "Collector"},
    "sensing.status.online": {"zh-CN": "在线", "en": "Online"},
    "sensing.status.offline": {"zh-CN": "离线", "en": "Offline"},
    "sensing.status.fault": {"zh-CN": "故障", "en": "Fault"},
    "sensing.status.maintenance": {"zh-CN": "检修", "en": "Maintenance"},
    "sensing.no_device": {
        "zh-CN": "没有编码为 {code} 的设备。",
        "en": "No device with code {code}.",
    },
    "sensing.charts": {"zh-CN": "近 24 小时数据", "en": "Last 24 hours"},
    "sensing.charts_note": {
        "zh-CN": "5 分钟平均值，来自分钟级汇总。",
        "en": "5-minute averages from the 1-minute rollups.",
    },
    "sensing.no_data": {"zh-CN": "暂无数据", "en": "No data yet"},
    "sensing.info": {"zh-CN": "设备信息", "en": "Device"},
    "sensing.location": {"zh-CN": "位置", "en": "Location"},
    "sensing.interval": {"zh-CN": "上报周期", "en": "Reporting interval"},
    "sensing.install_date": {"zh-CN": "安装日期", "en": "Installed"},
    "sensing.latest": {"zh-CN": "最新数据", "en": "Latest readings"},
    "sensing.open_alarms": {"zh-CN": "未关闭告警", "en": "Open alarms"},
    "sensing.no_alarms": {"zh-CN": "没有告警。", "en": "No alarms."},
    "sensing.rejections": {"zh-CN": "被拒数据", "en": "Refused data"},
    "sensing.no_rejections": {"zh-CN": "没有被拒数据。", "en": "Nothing refused."},
    "sensing.reason.unknown_device": {"zh-CN": "未登记设备", "en": "Unknown device"},
    "sensing.reason.malformed": {"zh-CN": "格式错误", "en": "Malformed"},
    "sensing.reason.too_large": {"zh-CN": "数据过多", "en": "Too large"},
    "sensing.reason.wrong_type": {"zh-CN": "类型错误", "en": "Wrong type"},
    "sensing.reason.unknown_metric": {"zh-CN": "未知指标", "en": "Unknown metric"},
    "sensing.reason.out_of_range": {"zh-CN": "超出量程", "en": "Out of range"},
    "sensing.reason.bad_timestamp": {"zh-CN": "时间戳无效", "en": "Bad timestamp"},
    "sensing.reason.future_timestamp": {"zh-CN": "时间超前", "en": "In the future"},
    "sensing.reason.stale_timestamp": {"zh-CN": "时间过旧", "en": "Too old"},
    "sensing.reason.duplicate": {"zh-CN": "重复或重放", "en": "Duplicate or replay"},
    "sensing.reason.rate_limited": {"zh-CN": "超出频率限制", "en": "Rate limited"},
    "sensing.severity.critical": {"zh-CN": "紧急", "en": "Critical"},
    "sensing.severity.major": {"zh-CN": "重要", "en": "Major"},
    "sensing.severity.minor": {"zh-CN": "次要", "en": "Minor"},
    "sensing.severity.info": {"zh-CN": "提示", "en": "Info"},
    "sensing.state.open": {"zh-CN": "未关闭", "en": "Open"},
    "sensing.state.raised": {"zh-CN": "待处理", "en": "Raised"},
    "sensing.state.acknowledged": {"zh-CN": "已确认", "en": "Acknowledged"},
    "sensing.state.cleared": {"zh-CN": "已恢复", "en": "Cleared"},
    "sensing.state.all": {"zh-CN": "全部", "en": "All"},
    "sensing.col_severity": {"zh-CN": "级别", "en": "Severity"},
    "sensing.col_rule": {"zh-CN": "规则", "en": "Rule"},
    "sensing.col_device": {"zh-CN": "设备", "en": "Device"},
    "sensing.col_message": {"zh-CN": "内容", "en": "Message"},
    "sensing.col_count": {"zh-CN": "次数", "en": "Count"},
    "sensing.col_raised": {"zh-CN": "发生时间", "en": "Raised"},
    "sensing.col_state": {"zh-CN": "状态", "en": "State"},
    "sensing.acknowledge": {"zh-CN": "确认", "en": "Acknowledge"},
    "sensing.acknowledged_notice": {
        "zh-CN": "告警 {id} 已确认。",
        "en": "Alarm {id} acknowledged.",
    },
    "sensing.ack_failed": {"zh-CN": "无法确认告警：", "en": "The alarm could not be acknowledged:"},
    # -- operations (ops) ------------------------------------------------------
    "nav.ops": {"zh-CN": "运维管理", "en": "Operations"},
    "ops.title": {"zh-CN": "运维管理", "en": "Operations"},
    "ops.nav.map": {"zh-CN": "系统地图", "en": "System map"},
    "ops.nav.availability": {"zh-CN": "可用性", "en": "Availability"},
    "ops.nav.incidents": {"zh-CN": "故障看板", "en": "Incidents"},
    "ops.nav.plans": {"zh-CN": "应急预案", "en": "Emergency plans"},
    "ops.nav.projects": {"zh-CN": "建设项目", "en": "Projects"},
    "ops.login_required": {
        "zh-CN": "运维管理需要登录后查看。",
        "en": "Log in to see operations.",
    },
    "ops.forbidden": {
        "zh-CN": "您的角色无权查看运维数据。",
        "en": "Your role may not see operations data.",
    },
    "ops.map.title": {"zh-CN": "业务系统运行状态", "en": "Systems at a glance"},
    "ops.map.what": {
        "zh-CN": "平台对接入的惠民、政务、产业应用及平台组件、网络、感知设施定时探测，"
        "发现问题先于用户。",
        "en": "The platform probes every connected application, platform component, network "
        "and sensing system on a schedule, to see problems before users do.",
    },
    "ops.map.systems": {"zh-CN": "监测系统", "en": "Monitored systems"},
    "ops.map.down": {"zh-CN": "中断系统", "en": "Systems down"},
    "ops.map.down_note": {
        "zh-CN": "任一探针失败即计为中断",
        "en": "Down while any of its probes fails",
    },
    "ops.map.open_incidents": {"zh-CN": "未结故障", "en": "Open incidents"},
    "ops.map.breached": {"zh-CN": "{n} 起已超出时限", "en": "{n} past their targets"},
    "ops.map.generated": {"zh-CN": "更新时间", "en": "As of"},
    "ops.map.refresh": {"zh-CN": "刷新页面获取最新状态", "en": "Reload for the latest status"},
    "ops.map.today": {"zh-CN": "今日可用率", "en": "Today"},
    "ops.map.incidents_n": {"zh-CN": "{n} 起故障", "en": "{n} incidents"},
    "ops.map.since": {"zh-CN": "自 {when}", "en": "since {when}"},
    "ops.map.empty": {
        "zh-CN": "尚未登记业务系统。运维人员可通过 POST /api/v1/ops/systems 登记。",
        "en": "No system is registered yet; operators register them with POST /api/v1/ops/systems.",
    },
    "ops.status.up": {"zh-CN": "正常", "en": "Up"},
    "ops.status.degraded": {"zh-CN": "缓慢", "en": "Degraded"},
    "ops.status.down": {"zh-CN": "中断", "en": "Down"},
    "ops.status.unknown": {"zh-CN": "未探测", "en": "Not probed yet"},
    "ops.status.inactive": {"zh-CN": "已停止监测", "en": "Not monitored"},
    "ops.kind.livelihood_app": {"zh-CN": "惠民应用", "en": "Public-service applications"},
    "ops.kind.government_app": {"zh-CN": "政务应用", "en": "Government applications"},
    "ops.kind.industry_app": {"zh-CN": "产业应用", "en": "Industry applications"},
    "ops.kind.platform": {"zh-CN": "平台组件", "en": "Platform components"},
    "ops.kind.network": {"zh-CN": "网络通讯", "en": "Networks"},
    "ops.kind.sensing": {"zh-CN": "感知设施", "en": "Sensing"},
    "ops.criticality.critical": {"zh-CN": "核心", "en": "Critical"},
    "ops.criticality.high": {"zh-CN": "重要", "en": "High"},
    "ops.criticality.medium": {"zh-CN": "一般", "en": "Medium"},
    "ops.criticality.low": {"zh-CN": "辅助", "en": "Low"},
    "ops.connection.standard": {"zh-CN": "标准接口", "en": "Standard interface"},
    "ops.connection.legacy": {"zh-CN": "原有接口", "en": "Legacy interface"},
    "ops.availability.title": {"zh-CN": "可用性与服务水平", "en": "Availability and SLA"},
    "ops.availability.what": {
        "zh-CN": "可用率 = 1 − 中断时长 ÷ 监测时长，按 {tz} 时区的自然日、自然月统计；"
        "月度可用率达到重要程度对应目标即达标。",
        "en": "Availability = 1 − downtime ÷ observed time, per calendar day and month in "
        "{tz}; a month meets its SLA when it reaches the criticality's target.",
    },
    "ops.availability.month": {"zh-CN": "月份", "en": "Month"},
    "ops.availability.show": {"zh-CN": "查看", "en": "Show"},
    "ops.availability.sla": {"zh-CN": "月度服务水平", "en": "Monthly SLA"},
    "ops.availability.met": {"zh-CN": "达标", "en": "Met"},
    "ops.availability.missed": {"zh-CN": "未达标", "en": "Missed"},
    "ops.availability.daily": {"zh-CN": "每日可用率（%）", "en": "Daily availability (%)"},
    "ops.availability.runs": {
        "zh-CN": "探测 {n} 次，失败 {down} 次",
        "en": "{n} runs, {down} failed",
    },
    "ops.availability.legend": {
        "zh-CN": "绿色：达到目标；黄色：低于目标；红色：低于 95%；灰色：未监测。",
        "en": "Green: target met; amber: below target; red: below 95%; grey: not observed.",
    },
    "ops.col.system": {"zh-CN": "业务系统", "en": "System"},
    "ops.col.criticality": {"zh-CN": "重要程度", "en": "Criticality"},
    "ops.col.target": {"zh-CN": "目标", "en": "Target"},
    "ops.col.availability": {"zh-CN": "可用率", "en": "Availability"},
    "ops.col.sla": {"zh-CN": "服务水平", "en": "SLA"},
    "ops.col.downtime": {"zh-CN": "中断时长", "en": "Downtime"},
    "ops.col.incidents": {"zh-CN": "故障", "en": "Incidents"},
    "ops.col.response_met": {"zh-CN": "按时响应", "en": "Answered in time"},
    "ops.col.resolution_met": {"zh-CN": "按时解决", "en": "Resolved in time"},
    "ops.col.plan": {"zh-CN": "预案", "en": "Plan"},
    "ops.col.level": {"zh-CN": "响应级别", "en": "Level"},
    "ops.col.scope": {"zh-CN": "适用范围", "en": "Applies to"},
    "ops.col.steps": {"zh-CN": "步骤", "en": "Steps"},
    "ops.col.contacts": {"zh-CN": "联系人", "en": "Contacts"},
    "ops.col.drills": {"zh-CN": "演练", "en": "Drills"},
    "ops.col.last_drill": {"zh-CN": "最近演练", "en": "Last drill"},
    "ops.incidents.title": {"zh-CN": "故障看板", "en": "Incident board"},
    "ops.incidents.what": {
        "zh-CN": "故障由连续失败的探针自动创建或人工登记，"
        "按“待响应 → 已确认 → 处理中 → 已解决 → 已关闭”流转，"
        "响应与解决时长按系统重要程度考核。",
        "en": "Incidents are opened by probes failing several times in a row or by hand, and "
        "move opened → acknowledged → in progress → resolved → closed; response and "
        "resolution are timed against the system's criticality.",
    },
    "ops.incidents.opened_at": {"zh-CN": "{when} 发生", "en": "opened {when}"},
    "ops.incidents.assignee": {"zh-CN": "处理人", "en": "Assignee"},
    "ops.incidents.breached": {"zh-CN": "已超出时限", "en": "Past its target"},
    "ops.incidents.none": {"zh-CN": "暂无", "en": "None"},
    "ops.incident.opened": {"zh-CN": "待响应", "en": "Opened"},
    "ops.incident.acknowledged": {"zh-CN": "已确认", "en": "Acknowledged"},
    "ops.incident.in_progress": {"zh-CN": "处理中", "en": "In progress"},
    "ops.incident.resolved": {"zh-CN": "已解决", "en": "Resolved"},
    "ops.incident.closed": {"zh-CN": "已关闭", "en": "Closed"},
    "ops.incident.facts": {"zh-CN": "故障信息", "en": "Facts"},
    "ops.incident.kind": {"zh-CN": "类型", "en": "Kind"},
    "ops.incident.opened_at": {"zh-CN": "发生时间", "en": "Opened"},
    "ops.incident.response": {"zh-CN": "响应时长 / 目标", "en": "Response / target"},
    "ops.incident.resolution": {"zh-CN": "解决时长 / 目标", "en": "Resolution / target"},
    "ops.incident.cause": {"zh-CN": "故障原因", "en": "Cause"},
    "ops.incident.fix": {"zh-CN": "处理措施", "en": "Fix"},
    "ops.incident.plan": {"zh-CN": "应急预案", "en": "Emergency plan"},
    "ops.incident.step_done": {"zh-CN": "{who} 于 {when} 完成", "en": "done by {who} at {when}"},
    "ops.incident.step_ready": {"zh-CN": "可以开始", "en": "Ready to start"},
    "ops.incident.step_waits": {"zh-CN": "等待：{keys}", "en": "Waits for: {keys}"},
    "ops.incident.no_plan": {"zh-CN": "没有匹配的应急预案。", "en": "No emergency plan applies."},
    "ops.incident.timeline": {"zh-CN": "处理记录", "en": "Timeline"},
    "ops.event.outage": {"zh-CN": "系统中断", "en": "Outage"},
    "ops.event.degradation": {"zh-CN": "性能下降", "en": "Degradation"},
    "ops.event.data_stale": {"zh-CN": "数据更新不及时", "en": "Stale data"},
    "ops.event.device_offline": {"zh-CN": "感知设备离线", "en": "Devices offline"},
    "ops.event.network": {"zh-CN": "网络故障", "en": "Network failure"},
    "ops.event.security": {"zh-CN": "安全事件", "en": "Security event"},
    "ops.event.disaster": {"zh-CN": "灾害与停电", "en": "Disaster or power loss"},
    "ops.source.probe": {"zh-CN": "探针发现", "en": "Found by a probe"},
    "ops.source.manual": {"zh-CN": "人工登记", "en": "Reported by hand"},
    "ops.level.I": {"zh-CN": "Ⅰ级（特别重大）", "en": "Level I (most severe)"},
    "ops.level.II": {"zh-CN": "Ⅱ级（重大）", "en": "Level II (severe)"},
    "ops.level.III": {"zh-CN": "Ⅲ级（较大）", "en": "Level III (major)"},
    "ops.level.IV": {"zh-CN": "Ⅳ级（一般）", "en": "Level IV (general)"},
    "ops.action.opened": {"zh-CN": "创建", "en": "Opened"},
    "ops.action.acknowledged": {"zh-CN": "确认", "en": "Acknowledged"},
    "ops.action.started": {"zh-CN": "开始处理", "en": "Work started"},
    "ops.action.resolved": {"zh-CN": "解决", "en": "Resolved"},
    "ops.action.closed": {"zh-CN": "关闭", "en": "Closed"},
    "ops.action.reopened": {"zh-CN": "重新打开", "en": "Reopened"},
    "ops.action.assigned": {"zh-CN": "指派", "en": "Assigned"},
    "ops.action.comment": {"zh-CN": "备注", "en": "Comment"},
    "ops.action.plan": {"zh-CN": "关联预案", "en": "Plan set"},
    "ops.action.step_done": {"zh-CN": "完成预案步骤", "en": "Plan step done"},
    "ops.plans.title": {"zh-CN": "应急预案库", "en": "Emergency plan library"},
    "ops.plans.what": {
        "zh-CN": "预案针对单个系统或一类事件，规定触发条件、响应级别（Ⅰ–Ⅳ）、处置步骤和联系人；"
        "故障匹配预案后逐步记录处置情况。",
        "en": "A plan covers one system or a kind of event, with trigger conditions, a level "
        "(I–IV), steps and contacts; an incident that matches it records each step as done.",
    },
    "ops.plans.inactive": {"zh-CN": "已停用", "en": "inactive"},
    "ops.plans.none": {"zh-CN": "尚未编制应急预案。", "en": "No emergency plan yet."},
    "ops.plan.steps": {"zh-CN": "处置步骤", "en": "Steps"},
    "ops.plan.minutes": {"zh-CN": "约 {n} 分钟", "en": "about {n} min"},
    "ops.plan.after": {"zh-CN": "前置步骤：{keys}", "en": "After: {keys}"},
    "ops.plan.trigger": {"zh-CN": "触发条件", "en": "Trigger conditions"},
    "ops.plan.drills": {"zh-CN": "演练记录", "en": "Drills"},
    "ops.plan.held_on": {"zh-CN": "日期", "en": "Date"},
    "ops.plan.scenario": {"zh-CN": "演练场景", "en": "Scenario"},
    "ops.plan.participants": {"zh-CN": "参演人数", "en": "Participants"},
    "ops.plan.outcome": {"zh-CN": "结果", "en": "Outcome"},
    "ops.plan.findings": {"zh-CN": "发现的问题", "en": "Findings"},
    "ops.plan.no_drills": {"zh-CN": "尚无演练记录。", "en": "No drill recorded yet."},
    "ops.drill.passed": {"zh-CN": "通过", "en": "Passed"},
    "ops.drill.partial": {"zh-CN": "部分通过", "en": "Partly passed"},
    "ops.drill.failed": {"zh-CN": "未通过", "en": "Failed"},
    "ops.projects.title": {"zh-CN": "建设项目看板", "en": "Construction projects"},
    "ops.projects.what": {
        "zh-CN": "部门提出需求及建设标准，经立项批复后由运营公司实施，"
        "验收通过后系统纳入运维监测、数据资源纳入目录。",
        "en": "A department states its requirement, the project is approved, the operating "
        "company builds it; on acceptance the system joins monitoring and its data the catalog.",
    },
    "ops.projects.budget": {"zh-CN": "预算 {n} 万元", "en": "budget ¥{n} × 10,000"},
    "ops.projects.finish": {"zh-CN": "计划完成 {date}", "en": "due {date}"},
    "ops.projects.overdue": {"zh-CN": "已逾期", "en": "overdue"},
    "ops.projects.joined": {"zh-CN": "已纳入运维：{code}", "en": "monitored as {code}"},
    "ops.projects.resources": {"zh-CN": "{n} 项数据资源入目录", "en": "{n} resources catalogued"},
    "ops.projects.none": {"zh-CN": "暂无", "en": "None"},
    "ops.projects.ended": {"zh-CN": "已驳回或撤销", "en": "Rejected or cancelled"},
    "ops.project.requirement": {"zh-CN": "需求提出", "en": "Requirement"},
    "ops.project.approved": {"zh-CN": "立项批复", "en": "Approved"},
    "ops.project.implementing": {"zh-CN": "实施中", "en": "Implementing"},
    "ops.project.accepted": {"zh-CN": "验收通过", "en": "Accepted"},
    "ops.project.rejected": {"zh-CN": "已驳回", "en": "Rejected"},
    "ops.project.cancelled": {"zh-CN": "已撤销", "en": "Cancelled"},
    # -- exchange ------------------------------------------------------------
    "nav.exchange": {"zh-CN": "数据交换", "en": "Exchange"},
    "exchange.batches_title": {"zh-CN": "交换批次", "en": "Delivery batches"},
    "exchange.what": {
        "zh-CN": "部门上传或拉取接入的数据批次：校验、标准化、问题数据隔离，"
        "合格数据并入公共数据库。",
        "en": "Batches delivered by departments (uploads and pull connectors): validated, "
        "standardized, rejected rows quarantined, accepted rows merged into the libraries.",
    },
    "exchange.quality_title": {"zh-CN": "数据质量", "en": "Data quality"},
    "exchange.quality_what": {
        "zh-CN": "按资源统计的完整性、有效性、唯一性、及时性（对照更新周期）"
        "与多源一致性，满分 100。",
        "en": "Per resource: completeness, validity, uniqueness, timeliness (against the "
        "update cycle) and consistency across sources; the score is out of 100.",
    },
    "exchange.col_id": {"zh-CN": "批次", "en": "Batch"},
    "exchange.col_resource": {"zh-CN": "信息资源", "en": "Resource"},
    "exchange.col_source": {"zh-CN": "来源", "en": "Source"},
    "exchange.col_status": {"zh-CN": "状态", "en": "Status"},
    "exchange.col_rows_in": {"zh-CN": "接收行数", "en": "Rows in"},
    "exchange.col_accepted": {"zh-CN": "入库", "en": "Accepted"},
    "exchange.col_rejected": {"zh-CN": "隔离", "en": "Rejected"},
    "exchange.col_score": {"zh-CN": "质量得分", "en": "Quality score"},
    "exchange.col_time": {"zh-CN": "时间", "en": "Time"},
    "exchange.col_row": {"zh-CN": "行号", "en": "Row"},
    "exchange.col_reasons": {"zh-CN": "原因", "en": "Reasons"},
    "exchange.col_state": {"zh-CN": "处理", "en": "State"},
    "exchange.any": {"zh-CN": "全部", "en": "Any"},
    "exchange.filter": {"zh-CN": "筛选", "en": "Filter"},
    "exchange.no_batches": {"zh-CN": "暂无交换批次。", "en": "No batches yet."},
    "exchange.json_twin": {"zh-CN": "数据接口：", "en": "JSON API:"},
    "exchange.source.upload": {"zh-CN": "上传", "en": "Upload"},
    "exchange.source.resubmit": {"zh-CN": "更正重报", "en": "Resubmission"},
    "exchange.source.http": {"zh-CN": "接口拉取", "en": "HTTP pull"},
    "exchange.source.sql": {"zh-CN": "数据库拉取", "en": "SQL pull"},
    "exchange.status.pending": {"zh-CN": "排队中", "en": "Pending"},
    "exchange.status.running": {"zh-CN": "处理中", "en": "Running"},
    "exchange.status.completed": {"zh-CN": "已完成", "en": "Completed"},
    "exchange.status.failed": {"zh-CN": "失败", "en": "Failed"},
    "exchange.status.duplicate": {"zh-CN": "重复", "en": "Duplicate"},
    "exchange.batch_title": {"zh-CN": "交换批次 {id}", "en": "Batch {id}"},
    "exchange.bytes": {"zh-CN": "{n} 字节", "en": "{n} bytes"},
    "exchange.merge_counts": {
        "zh-CN": "新增 {inserted} · 更新 {updated} · 未变 {unchanged} · 删除 {deleted}",
        "en": "{inserted} new · {updated} updated · {unchanged} unchanged · {deleted} deleted",
    },
    "exchange.open_rows": {"zh-CN": "{n} 行待更正", "en": "{n} rows to correct"},
    "exchange.duration": {"zh-CN": "耗时 {ms} 毫秒", "en": "{ms} ms"},
    "exchange.quarantine": {"zh-CN": "隔离数据", "en": "Quarantine"},
    "exchange.download": {"zh-CN": "下载待更正数据（CSV）", "en": "Download rows to correct (CSV)"},
    "exchange.no_quarantine": {"zh-CN": "没有被隔离的数据。", "en": "No rejected rows."},
    "exchange.qstatus.open": {"zh-CN": "待更正", "en": "Open"},
    "exchange.qstatus.resubmitted": {"zh-CN": "已重报", "en": "Resubmitted"},
    "exchange.corrected_file": {"zh-CN": "更正后的文件", "en": "Corrected file"},
    "exchange.resubmit": {"zh-CN": "重新报送", "en": "Resubmit"},
    "exchange.resubmit_note": {
        "zh-CN": "更正下载文件中的数据后上传，作为与本批次关联的新批次处理。",
        "en": "Correct the downloaded rows and upload them: they become a new batch linked "
        "to this one.",
    },
    "exchange.quality": {"zh-CN": "质量报告", "en": "Quality report"},
    "exchange.dim.completeness": {"zh-CN": "完整性", "en": "Completeness"},
    "exchange.dim.validity": {"zh-CN": "有效性", "en": "Validity"},
    "exchange.dim.uniqueness": {"zh-CN": "唯一性", "en": "Uniqueness"},
    "exchange.dim.timeliness": {"zh-CN": "及时性", "en": "Timeliness"},
    "exchange.dim.consistency": {"zh-CN": "一致性", "en": "Consistency"},
    "exchange.details": {"zh-CN": "批次信息", "en": "Details"},
    "exchange.mode": {"zh-CN": "交换方式", "en": "Mode"},
    "exchange.mode.full": {"zh-CN": "全量", "en": "Full"},
    "exchange.mode.incremental": {"zh-CN": "增量", "en": "Incremental"},
    "exchange.file": {"zh-CN": "文件", "en": "File"},
    "exchange.parent": {"zh-CN": "更正自批次", "en": "Corrects batch"},
    "exchange.resubmitted_as": {"zh-CN": "已重报为批次", "en": "Resubmitted as"},
    "exchange.last_delivery": {"zh-CN": "最近交换", "en": "Last delivery"},
    "nav.library": {"zh-CN": "公共数据库", "en": "Public databases"},
    "library.title": {"zh-CN": "公共数据库", "en": "Public databases"},
    "library.what": {
        "zh-CN": "基础资源库由法定管理单位提供，多部门数据按身份证号或统一社会信用代码"
        "融合为一条标准记录，每个字段保留来源、批次和时间；主题库、专题库和通用业务库由"
        "基础库派生并增量更新。",
        "en": "Base libraries come from their authoritative providers; data about one person "
        "or entity from several departments becomes one golden record keyed by ID number or "
        "credit code, and every field keeps its source, batch and time. Theme, special-topic "
        "and common-business libraries are derived from them and rebuilt incrementally.",
    },
    "library.name": {"zh-CN": "名称", "en": "Name"},
    "library.category": {"zh-CN": "类别", "en": "Category"},
    "library.records": {"zh-CN": "记录数", "en": "Records"},
    "library.digest": {"zh-CN": "内容摘要（SM3）", "en": "Content digest (SM3)"},
    "library.registrar": {"zh-CN": "法定管理单位", "en": "Authoritative provider"},
    "library.feeds": {"zh-CN": "汇交部门", "en": "Contributing departments"},
    "library.inputs": {"zh-CN": "来源库", "en": "Derived from"},
    "library.conflicts": {"zh-CN": "冲突记录", "en": "Conflicts"},
    "library.dirty": {"zh-CN": "待更新", "en": "Pending keys"},
    "library.last_merges": {"zh-CN": "最近融合", "en": "Last merges"},
    "library.no_merges": {"zh-CN": "尚无数据汇入", "en": "Nothing merged yet"},
    "library.batch": {"zh-CN": "批次", "en": "Batch"},
    "library.provider": {"zh-CN": "提供部门", "en": "Provider"},
    "library.resource": {"zh-CN": "资源", "en": "Resource"},
    "library.counts": {
        "zh-CN": "新增 {inserted} · 更新 {updated} · 未变 {unchanged} · 删除 {deleted} · "
        "冲突 {conflicts}",
        "en": "{inserted} new · {updated} updated · {unchanged} unchanged · {deleted} deleted · "
        "{conflicts} conflicts",
    },
    "library.time": {"zh-CN": "时间", "en": "Time"},
    "library.lookup": {"zh-CN": "查询标准记录", "en": "Look up a golden record"},
    "library.key": {"zh-CN": "主键（身份证号 / 信用代码）", "en": "Key (ID number / credit code)"},
    "library.find": {"zh-CN": "查询", "en": "Find"},
    "library.record": {"zh-CN": "标准记录", "en": "Golden record"},
    "library.field": {"zh-CN": "字段", "en": "Field"},
    "library.value": {"zh-CN": "值", "en": "Value"},
    "library.source": {"zh-CN": "来源", "en": "Source"},
    "library.authority": {"zh-CN": "权威来源", "en": "Authority"},
    "library.masked": {"zh-CN": "已脱敏", "en": "masked"},
    "library.kept": {"zh-CN": "采用值", "en": "Kept"},
    "library.rejected": {"zh-CN": "未采用值", "en": "Rejected"},
    "library.resolution": {"zh-CN": "处理", "en": "Resolution"},
    "library.resolution.authority_kept": {
        "zh-CN": "保留权威来源的值",
        "en": "authority's value kept",
    },
    "library.resolution.authority_applied": {
        "zh-CN": "采用权威来源的值",
        "en": "authority's value applied",
    },
    "library.resolution.latest_applied": {
        "zh-CN": "无权威来源，采用最新值",
        "en": "no authority: latest applied",
    },
    "library.no_conflicts": {"zh-CN": "没有冲突", "en": "No conflicts"},
    "library.older": {"zh-CN": "更早", "en": "Older"},
    "library.json": {"zh-CN": "JSON 接口", "en": "JSON API"},
    "library.login_needed": {
        "zh-CN": "查看标准记录和冲突需要登录，并具有该资源的授权"
        "（或为提供部门人员、平台管理员、审计员）。",
        "en": "Golden records and conflicts need a login with a grant on the resource "
        "(or being staff of its provider, a platform admin or an auditor).",
    },
    "library.category.basic": {"zh-CN": "基础资源库", "en": "Base library"},
    "library.category.theme": {"zh-CN": "主题数据库", "en": "Theme library"},
    "library.category.topic": {"zh-CN": "专题数据库", "en": "Special-topic library"},
    "library.category.business": {"zh-CN": "通用业务库", "en": "Common-business library"},
    # -- gateway: interface service (applications, keys, requests, inbox, usage) --------
    "nav.gateway": {"zh-CN": "接口服务", "en": "Interface service"},
    "gateway.title": {"zh-CN": "接口服务", "en": "Interface service"},
    "gateway.tab.apps": {"zh-CN": "我的应用", "en": "My applications"},
    "gateway.tab.requests": {"zh-CN": "我的申请", "en": "My requests"},
    "gateway.tab.inbox": {"zh-CN": "审批待办", "en": "Approval inbox"},
    "gateway.tab.usage": {"zh-CN": "调用统计", "en": "Usage"},
    "gateway.json_twin": {"zh-CN": "本页数据接口：", "en": "This page as JSON:"},
    "gateway.apps.title": {"zh-CN": "本单位的应用", "en": "My organization's applications"},
    "gateway.apps.lead": {
        "zh-CN": "应用使用自己的接口密钥调用数据接口，按申请获批的信息项读取数据，"
        "并受频率与每日配额限制。",
        "en": "Applications call the data API with their own keys, read the items they were "
        "granted, and are held to a rate limit and a daily quota.",
    },
    "gateway.apps.none": {"zh-CN": "尚未登记应用。", "en": "No application registered yet."},
    "gateway.apps.register": {"zh-CN": "登记应用", "en": "Register an application"},
    "gateway.apps.developers_only": {
        "zh-CN": "仅应用开发者可以登记应用和提出共享申请。",
        "en": "Only developers register applications and request data.",
    },
    "gateway.app.name": {"zh-CN": "应用名称", "en": "Name"},
    "gateway.app.purpose": {"zh-CN": "用途", "en": "Purpose"},
    "gateway.app.description": {"zh-CN": "说明", "en": "Description"},
    "gateway.app.contact": {"zh-CN": "联系人", "en": "Contact"},
    "gateway.app.phone": {"zh-CN": "联系电话", "en": "Phone"},
    "gateway.app.email": {"zh-CN": "电子邮箱", "en": "E-mail"},
    "gateway.app.owner": {"zh-CN": "登记人", "en": "Owner"},
    "gateway.app.organization": {"zh-CN": "所属单位", "en": "Organization"},
    "gateway.app.status": {"zh-CN": "状态", "en": "Status"},
    "gateway.app.rate": {"zh-CN": "频率上限（次/秒）", "en": "Rate limit (req/s)"},
    "gateway.app.burst": {"zh-CN": "突发", "en": "burst"},
    "gateway.app.quota": {"zh-CN": "今日用量 / 每日配额", "en": "Today / daily quota"},
    "gateway.app.calls": {"zh-CN": "次调用", "en": "calls"},
    "gateway.app.rows": {"zh-CN": "行数据", "en": "rows"},
    "gateway.app.calls_today": {"zh-CN": "今日调用", "en": "Calls today"},
    "gateway.keys.title": {"zh-CN": "接口密钥", "en": "API keys"},
    "gateway.keys.prefix": {"zh-CN": "密钥前缀", "en": "Prefix"},
    "gateway.keys.name": {"zh-CN": "备注", "en": "Label"},
    "gateway.keys.created": {"zh-CN": "签发时间", "en": "Issued"},
    "gateway.keys.expires": {"zh-CN": "失效时间", "en": "Expires"},
    "gateway.keys.last_used": {"zh-CN": "最近使用", "en": "Last used"},
    "gateway.keys.none": {"zh-CN": "尚无密钥。", "en": "No keys yet."},
    "gateway.keys.issue": {"zh-CN": "签发新密钥", "en": "Issue a key"},
    "gateway.keys.rotate": {"zh-CN": "轮换", "en": "Rotate"},
    "gateway.keys.revoke": {"zh-CN": "吊销", "en": "Revoke"},
    "gateway.keys.issued": {"zh-CN": "新密钥已签发", "en": "New key issued"},
    "gateway.keys.once": {
        "zh-CN": "密钥只显示这一次，平台仅保存其 SHA-256 摘要，请立即妥善保存。",
        "en": "The key is shown this once; the platform keeps only its SHA-256 digest. "
        "Store it safely now.",
    },
    "gateway.keys.grace": {
        "zh-CN": "旧密钥 {prefix} 在宽限期内仍可使用，至 {until} 失效。",
        "en": "The old key {prefix} keeps working until {until} (grace period).",
    },
    "gateway.keys.usage": {"zh-CN": "调用时请携带：", "en": "Send it as:"},
    "gateway.status.active": {"zh-CN": "有效", "en": "active"},
    "gateway.status.suspended": {"zh-CN": "已停用", "en": "suspended"},
    "gateway.status.expiring": {"zh-CN": "宽限期", "en": "in grace period"},
    "gateway.status.revoked": {"zh-CN": "已吊销", "en": "revoked"},
    "gateway.status.expired": {"zh-CN": "已过期", "en": "expired"},
    "gateway.status.pending": {"zh-CN": "待审批", "en": "pending"},
    "gateway.status.granted": {"zh-CN": "已授权（无条件共享）", "en": "granted"},
    "gateway.status.approved": {"zh-CN": "已批准", "en": "approved"},
    "gateway.status.rejected": {"zh-CN": "已驳回", "en": "rejected"},
    "gateway.status.withdrawn": {"zh-CN": "已撤回", "en": "withdrawn"},
    "gateway.requests.title": {"zh-CN": "本单位的共享申请", "en": "My organization's requests"},
    "gateway.requests.lead": {
        "zh-CN": "无条件共享资源即时授权；有条件共享资源由提供部门的数据专员在规定工作日内审批。",
        "en": "Unconditionally shared resources are granted at once; conditional ones are "
        "decided by the provider's data officers within a deadline of working days.",
    },
    "gateway.requests.none": {"zh-CN": "尚无共享申请。", "en": "No requests yet."},
    "gateway.requests.new": {"zh-CN": "提出共享申请", "en": "Request a resource"},
    "gateway.requests.submit": {"zh-CN": "提交申请", "en": "Submit"},
    "gateway.requests.rules": {
        "zh-CN": "不予共享的资源不能申请；申请脱敏信息项的明文，需经提供部门批准。",
        "en": "Resources that are not shared cannot be requested; clear text of masked "
        "items is always decided by the provider.",
    },
    "gateway.requests.register_first": {
        "zh-CN": "请先登记应用：",
        "en": "Register an application first:",
    },
    "gateway.req.resource": {"zh-CN": "信息资源", "en": "Resource"},
    "gateway.req.application": {"zh-CN": "申请应用", "en": "Application"},
    "gateway.req.requester": {"zh-CN": "申请人", "en": "Requested by"},
    "gateway.req.items": {"zh-CN": "信息项", "en": "Items"},
    "gateway.req.items_hint": {
        "zh-CN": "留空表示全部信息项，多个用逗号分隔",
        "en": "Empty for all items; several separated by commas",
    },
    "gateway.req.all_items": {"zh-CN": "全部信息项", "en": "All items"},
    "gateway.req.clear": {"zh-CN": "申请明文", "en": "In clear"},
    "gateway.req.deadline": {"zh-CN": "审批时限", "en": "Deadline"},
    "gateway.req.days_left": {"zh-CN": "剩余 {n} 个工作日", "en": "{n} working days left"},
    "gateway.req.period": {"zh-CN": "使用期限", "en": "Period"},
    "gateway.req.period_end": {"zh-CN": "使用截止日期", "en": "Last day of access"},
    "gateway.req.reason": {"zh-CN": "审批意见", "en": "Decision note"},
    "gateway.req.overdue": {"zh-CN": "已超期", "en": "Overdue"},
    "gateway.req.decided_late": {"zh-CN": "超期办结", "en": "Decided late"},
    "gateway.inbox.title": {"zh-CN": "待审批的共享申请", "en": "Requests waiting for you"},
    "gateway.inbox.lead": {
        "zh-CN": "请在审批时限内办理；超期申请计入本部门的共享考核。",
        "en": "Decide before the deadline; overdue requests count against your department.",
    },
    "gateway.inbox.overdue": {"zh-CN": "{n} 件已超期", "en": "{n} overdue"},
    "gateway.inbox.empty": {"zh-CN": "没有待审批的申请。", "en": "Nothing to decide."},
    "gateway.inbox.approve": {"zh-CN": "批准", "en": "Approve"},
    "gateway.inbox.reject": {"zh-CN": "驳回", "en": "Reject"},
    "gateway.inbox.note": {"zh-CN": "审批意见（可选）", "en": "Note (optional)"},
    "gateway.inbox.reason": {"zh-CN": "驳回理由（必填）", "en": "Reason (required)"},
    "gateway.inbox.decided": {"zh-CN": "近期已办结", "en": "Recently decided"},
    "gateway.usage.title": {
        "zh-CN": "近 {days} 天接口调用统计",
        "en": "API usage, last {days} days",
    },
    "gateway.usage.lead": {
        "zh-CN": "每次数据调用均计量：应用、资源、返回行数、字节数、耗时与结果。",
        "en": "Every data call is metered: application, resource, rows, bytes, latency "
        "and outcome.",
    },
    "gateway.usage.calls": {"zh-CN": "调用次数", "en": "Calls"},
    "gateway.usage.rows": {"zh-CN": "返回行数", "en": "Rows"},
    "gateway.usage.errors": {"zh-CN": "失败次数", "en": "Errors"},
    "gateway.usage.latency": {"zh-CN": "平均耗时", "en": "Mean latency"},
    "gateway.usage.chart": {"zh-CN": "每日调用次数", "en": "Calls per day"},
    "gateway.usage.by_app": {"zh-CN": "按应用", "en": "By application"},
    "gateway.usage.by_resource": {"zh-CN": "按资源", "en": "By resource"},
    "gateway.usage.no_app": {"zh-CN": "（部门自用）", "en": "(provider's own)"},
    "gateway.sample.title": {"zh-CN": "数据样例", "en": "Sample rows"},
    "gateway.sample.masked": {"zh-CN": "脱敏", "en": "masked"},
    "gateway.sample.back": {"zh-CN": "返回资源目录", "en": "Back to the resource"},
    "gateway.sample.access.provider": {
        "zh-CN": "本部门提供的数据，明文显示。",
        "en": "Your department's own data, shown in clear.",
    },
    "gateway.sample.access.granted": {
        "zh-CN": "按本单位应用获得的授权显示。",
        "en": "As your organization's applications were granted.",
    },
    "gateway.sample.access.preview": {
        "zh-CN": "无条件共享资源预览，敏感信息项已脱敏。",
        "en": "Preview of an unconditionally shared resource; sensitive items masked.",
    },
    "gateway.sample.access.none": {
        "zh-CN": "需经共享申请获批后才能查看数据。",
        "en": "Rows are shown once a sharing request is granted.",
    },
    "gateway.panel.share.unconditional": {
        "zh-CN": "无条件共享：申请即时授权。",
        "en": "Shared unconditionally: requests are granted at once.",
    },
    "gateway.panel.share.conditional": {
        "zh-CN": "有条件共享：由提供部门审批。",
        "en": "Shared on conditions: the provider decides each request.",
    },
    "gateway.panel.share.none": {
        "zh-CN": "不予共享：不能申请。",
        "en": "Not shared: it cannot be requested.",
    },
    "gateway.panel.sample": {"zh-CN": "查看数据样例", "en": "See sample rows"},
    "gateway.panel.login": {
        "zh-CN": "登录后可查看数据样例并提出申请。",
        "en": "Log in to see sample rows and request access.",
    },
    "gateway.panel.request": {"zh-CN": "申请使用", "en": "Request access"},
    "gateway.panel.api": {
        "zh-CN": "数据接口：GET /api/v1/resources/{code}/rows",
        "en": "Data API: GET /api/v1/resources/{code}/rows",
    },
    "gateway.panel.no_rows": {
        "zh-CN": "该资源不是已发布的数据库表，没有可查询的数据行。",
        "en": "This resource is not a published table; it has no rows to query.",
    },
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
