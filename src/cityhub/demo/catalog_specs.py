"""The Linyi demo catalog: what each department registers (declarative, no logic).

`catalog.py` turns these into resources: codes are made from the category, the subject
(项), a running item number (目) per subject and the provider's sequence number. The codes
therefore follow the order below, and other packages rely on them (the library aligns its
base libraries with 101001-LYGA-000001 人口基础信息 and 102007-LYSJ-000001 法人基础信息):
append new specs at the end, never reorder or remove one.
"""

from __future__ import annotations

from dataclasses import dataclass

from cityhub.catalog.vocab import (
    Category,
    DataType,
    OpenType,
    ResourceFormat,
    Sensitivity,
    ShareType,
    SharingMethod,
    Status,
    UpdateCycle,
)

C, D, T, N, IN, F, Y, M, L = (
    DataType.string,
    DataType.date,
    DataType.datetime,
    DataType.number,
    DataType.integer,
    DataType.double,
    DataType.currency,
    DataType.text,
    DataType.boolean,
)
PUB, INT, SEN, RES = (
    Sensitivity.public,
    Sensitivity.internal,
    Sensitivity.sensitive,
    Sensitivity.restricted,
)
BASIC, THEME, TOPIC, BUSINESS, DEPT = (
    Category.basic,
    Category.theme,
    Category.topic,
    Category.business,
    Category.department,
)
UNCOND, COND, NOSHARE = ShareType.unconditional, ShareType.conditional, ShareType.none
OPEN, OPEN_COND, CLOSED = OpenType.open, OpenType.conditional, OpenType.closed
RT, DAY, WEEK, MONTH, QUARTER, YEAR = (
    UpdateCycle.realtime,
    UpdateCycle.daily,
    UpdateCycle.weekly,
    UpdateCycle.monthly,
    UpdateCycle.quarterly,
    UpdateCycle.yearly,
)
LINYI = ("371300",)
COUNTIES = (
    "371302",
    "371311",
    "371312",
    "371321",
    "371322",
    "371323",
    "371324",
    "371325",
    "371326",
    "371327",
    "371328",
    "371329",
)


@dataclass(frozen=True)
class ItemSpec:
    name: str
    code: str
    data_type: DataType = DataType.string
    length: int | None = None
    sensitivity: Sensitivity = Sensitivity.internal
    masking: str = ""
    element_ref: str = ""


def it(
    name: str,
    code: str,
    data_type: DataType = DataType.string,
    length: int | None = None,
    sensitivity: Sensitivity = Sensitivity.internal,
    masking: str = "",
    element_ref: str = "",
) -> ItemSpec:
    return ItemSpec(name, code, data_type, length, sensitivity, masking, element_ref)


@dataclass(frozen=True)
class ResourceSpec:
    org: str
    name: str
    category: Category
    subject: str  # 项
    summary: str
    items: tuple[ItemSpec, ...]
    share: ShareType = ShareType.conditional
    condition: str = "用于本部门法定职责范围内的政务服务和监管，不得向第三方提供"
    method: SharingMethod | None = SharingMethod.api
    open: OpenType = OpenType.closed
    open_condition: str = ""
    cycle: UpdateCycle = UpdateCycle.daily
    fmt: ResourceFormat = ResourceFormat.table
    keywords: tuple[str, ...] = ()
    regions: tuple[str, ...] = LINYI
    related: tuple[str, ...] = ()  # names of resources declared before
    status: Status = Status.published


# -- reusable item groups ---------------------------------------------------------------
ID = it("公民身份号码", "gmsfhm", C, 18, SEN, "keep:first6,last4", "DE00001")
NAME = it("姓名", "xm", C, 50, SEN, "name", "DE00002")
SEX = it("性别", "xb", C, 1, INT, "", "DE00007")
BIRTH = it("出生日期", "csrq", D, None, SEN, "keep:first4", "DE00008")
NATION = it("民族", "mz", C, 2, INT, "", "DE00012")
ADDRESS = it("户籍地址", "hjdz", C, 200, SEN, "keep:first6", "DE00070")
PHONE = it("联系电话", "lxdh", C, 20, SEN, "phone", "DE00216")
PERSON = (ID, NAME, SEX, BIRTH, NATION, ADDRESS, PHONE)
CREDIT = it("统一社会信用代码", "tyshxydm", C, 18, PUB, "", "DE00385")
ORG_NAME = it("单位名称", "dwmc", C, 200, PUB)
LEGAL_REP = it("法定代表人", "fddbr", C, 50, INT, "name")
REG_ADDR = it("注册地址", "zcdz", C, 200, PUB)
FOUNDED = it("成立日期", "clrq", D, None, PUB)
ENTITY = (CREDIT, ORG_NAME, LEGAL_REP, REG_ADDR, FOUNDED)
REGION = it("行政区划代码", "xzqhdm", C, 6, PUB, "", "DE00071")
STATION = (
    it("站点编码", "zdbm", C, 20, PUB),
    it("站点名称", "zdmc", C, 100, PUB),
    it("经度", "jd", F, None, PUB),
    it("纬度", "wd", F, None, PUB),
    it("监测时间", "jcsj", T, None, PUB),
)
PERIOD = (it("统计年度", "tjnd", IN, None, PUB), REGION)

COND_GOV = "仅限政务部门履行法定职责使用，须说明用途并经提供部门审批"
BASIS_SECRET = "《中华人民共和国保守国家秘密法》及公安工作国家秘密范围的规定"
BASIS_PRIVACY = "《中华人民共和国个人信息保护法》第二十八条（敏感个人信息）"
OPEN_RESEARCH = "面向科研机构和企业，签署数据使用协议后开放"

# fmt: off
CATALOG: tuple[ResourceSpec, ...] = (
    # == 市公安局 ========================================================================
    ResourceSpec(
        "LYGA", "人口基础信息", BASIC, "01",
        "全市户籍人口和常住人口的基础信息，是人口基础库的权威来源（法定管理单位：市公安局）",
        (*PERSON, it("婚姻状况", "hyzk", C, 2), it("文化程度", "whcd", C, 2),
         it("户号", "hh", C, 20, SEN, "keep:last4")),
        COND, COND_GOV, SharingMethod.api, CLOSED, "", DAY, ResourceFormat.table,
        ("人口", "户籍", "身份证"), LINYI + COUNTIES,
    ),
    ResourceSpec(
        "LYGA", "户籍迁移登记信息", BASIC, "01",
        "户口迁入、迁出、出生登记和死亡注销记录",
        (ID, NAME, it("迁移类型", "qylx", C, 2), it("迁出地", "qcd", C, 200),
         it("迁入地", "qrd", C, 200), it("办理日期", "blrq", D)),
        COND, COND_GOV, SharingMethod.api, CLOSED, "", DAY, ResourceFormat.table,
        ("人口", "户籍", "迁移"), LINYI, ("人口基础信息",),
    ),
    ResourceSpec(
        "LYGA", "居民身份证签发信息", DEPT, "01",
        "居民身份证申领、签发和有效期信息",
        (ID, NAME, it("签发机关", "qfjg", C, 100), it("有效期起始日期", "yxqqsrq", D),
         it("有效期截止日期", "yxqjzrq", D)),
        COND, COND_GOV, SharingMethod.api, CLOSED, "", DAY, ResourceFormat.api, ("身份证", "证件"),
    ),
    ResourceSpec(
        "LYGA", "机动车登记信息", THEME, "01",
        "本市登记机动车的号牌、车辆类型、使用性质和检验有效期",
        (it("号牌号码", "hphm", C, 15, INT, "keep:first2,last2"), it("号牌种类", "hpzl", C, 2),
         it("车辆类型", "cllx", C, 4), it("使用性质", "syxz", C, 2),
         it("所有人", "syr", C, 100, SEN, "name"), it("检验有效期止", "yxqz", D)),
        COND, COND_GOV, SharingMethod.api, CLOSED, "", DAY, ResourceFormat.table,
        ("机动车", "交通"),
    ),
    ResourceSpec(
        "LYGA", "道路交通事故统计", TOPIC, "01",
        "按月、按区县统计的道路交通事故起数和伤亡人数",
        (it("统计月份", "tjyf", C, 7, PUB), REGION, it("事故起数", "sgqs", IN, None, PUB),
         it("死亡人数", "swrs", IN, None, PUB), it("受伤人数", "ssrs", IN, None, PUB)),
        UNCOND, "", SharingMethod.file, OPEN, "", MONTH, ResourceFormat.table, ("交通事故", "统计"),
        LINYI + COUNTIES,
    ),
    ResourceSpec(
        "LYGA", "重点人员管控信息", DEPT, "01",
        "涉及国家安全和社会稳定的重点人员信息",
        (ID, NAME, it("管控类别", "gklb", C, 4, RES)),
        NOSHARE, BASIS_SECRET, None, CLOSED, "", RT, ResourceFormat.table, ("公安",),
    ),
    # == 市民政局 ========================================================================
    ResourceSpec(
        "LYMZ", "婚姻登记信息", BASIC, "01",
        "结婚登记、离婚登记和补发婚姻登记证记录",
        (it("男方公民身份号码", "nfsfhm", C, 18, SEN, "keep:first6,last4"),
         it("男方姓名", "nfxm", C, 50, SEN, "name"),
         it("女方公民身份号码", "vfsfhm", C, 18, SEN, "keep:first6,last4"),
         it("女方姓名", "vfxm", C, 50, SEN, "name"), it("登记类型", "djlx", C, 2),
         it("登记日期", "djrq", D), it("登记机关", "djjg", C, 100)),
        COND, COND_GOV, SharingMethod.api, CLOSED, "", DAY, ResourceFormat.api, ("婚姻", "人口"),
        LINYI, ("人口基础信息",),
    ),
    ResourceSpec(
        "LYMZ", "城乡最低生活保障对象信息", THEME, "03",
        "城市和农村低保对象、保障人数和月保障金额",
        (ID, NAME, REGION, it("保障类别", "bzlb", C, 2), it("保障人数", "bzrs", IN),
         it("月保障金额", "ybzje", Y)),
        COND, "用于社会救助资格核查和惠民政策落实", SharingMethod.api, CLOSED, "", MONTH,
        ResourceFormat.table, ("低保", "社会救助"), LINYI + COUNTIES,
    ),
    ResourceSpec(
        "LYMZ", "养老服务机构信息", THEME, "01",
        "全市养老院、日间照料中心的名称、地址、床位数和等级",
        (ORG_NAME, it("机构地址", "jgdz", C, 200, PUB), REGION, it("床位数", "cws", IN, None, PUB),
         it("机构等级", "jgdj", C, 2, PUB), it("联系电话", "lxdh", C, 20, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", MONTH, ResourceFormat.table, ("养老", "公共服务"),
        LINYI + COUNTIES,
    ),
    ResourceSpec(
        "LYMZ", "社会组织登记信息", BASIC, "02",
        "社会团体、民办非企业单位和基金会的登记信息",
        (*ENTITY, it("组织类型", "zzlx", C, 2, PUB), it("业务主管单位", "ywzgdw", C, 100, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", WEEK, ResourceFormat.table, ("社会组织", "法人"),
    ),
    ResourceSpec(
        "LYMZ", "地名信息", BASIC, "03",
        "全市标准地名、罗马字母拼写和所在行政区划",
        (it("标准地名", "bzdm", C, 100, PUB), it("罗马字母拼写", "lmzmpx", C, 200, PUB),
         it("地名类别", "dmlb", C, 4, PUB), REGION, it("经度", "jd", F, None, PUB),
         it("纬度", "wd", F, None, PUB)),
        UNCOND, "", SharingMethod.file, OPEN, "", QUARTER, ResourceFormat.table,
        ("地名", "空间地理"),
    ),
    ResourceSpec(
        "LYMZ", "殡葬服务信息", DEPT, "02",
        "火化、公墓安葬和惠民殡葬补贴记录",
        (ID, NAME, it("火化日期", "hhrq", D), it("殡仪馆", "byg", C, 100)),
        COND, COND_GOV, SharingMethod.api, CLOSED, "", DAY, ResourceFormat.table, ("殡葬",), LINYI,
        (), Status.in_review,
    ),
    # == 市人力资源和社会保障局 ==========================================================
    ResourceSpec(
        "LYRS", "社会保险参保信息", THEME, "03",
        "企业职工养老、失业、工伤保险和城乡居民养老保险参保信息",
        (ID, NAME, it("险种类型", "xzlx", C, 3), it("参保状态", "cbzt", C, 1),
         it("参保单位", "cbdw", C, 200), it("缴费基数", "jfjs", Y, None, SEN, "hide")),
        COND, "用于社会保险待遇资格认证和政务服务事项办理", SharingMethod.api, CLOSED, "", DAY,
        ResourceFormat.api, ("社保", "参保"), LINYI, ("人口基础信息",),
    ),
    ResourceSpec(
        "LYRS", "就业登记信息", THEME, "01",
        "劳动者就业登记、失业登记和就业困难人员认定",
        (ID, NAME, it("就业状态", "jyzt", C, 2), it("用人单位", "yrdw", C, 200),
         it("登记日期", "djrq", D)),
        COND, COND_GOV, SharingMethod.api, CLOSED, "", DAY, ResourceFormat.table, ("就业", "失业"),
    ),
    ResourceSpec(
        "LYRS", "职业技能等级证书信息", BASIC, "05",
        "职业技能等级认定和证书核发信息",
        (ID, NAME, it("证书编号", "zsbh", C, 30, PUB), it("职业名称", "zymc", C, 100, PUB),
         it("技能等级", "jndj", C, 2, PUB), it("发证日期", "fzrq", D, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN_COND, "个人查询本人证书须实名认证", DAY,
        ResourceFormat.api, ("电子证照", "技能"),
    ),
    ResourceSpec(
        "LYRS", "招聘岗位信息", TOPIC, "02",
        "公共就业服务平台发布的招聘岗位",
        (ORG_NAME, it("岗位名称", "gwmc", C, 100, PUB), it("招聘人数", "zprs", IN, None, PUB),
         it("薪资待遇", "xzdy", C, 50, PUB), it("工作地点", "gzdd", C, 200, PUB),
         it("发布日期", "fbrq", D, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", DAY, ResourceFormat.table, ("招聘", "就业"),
    ),
    ResourceSpec(
        "LYRS", "劳动保障监察案件信息", BUSINESS, "03",
        "拖欠工资等劳动保障监察投诉和处理结果",
        (CREDIT, ORG_NAME, it("案件类型", "ajlx", C, 4), it("立案日期", "larq", D),
         it("处理结果", "cljg", M)),
        COND, COND_GOV, SharingMethod.database, CLOSED, "", WEEK, ResourceFormat.table,
        ("劳动监察", "欠薪"),
    ),
    # == 市自然资源和规划局 ==============================================================
    ResourceSpec(
        "LYZRZY", "基础地理信息数据", BASIC, "03",
        "1:2000 至 1:10000 基础地理信息（道路、水系、居民地、境界）",
        (it("要素编码", "ysbm", C, 10, PUB), it("要素名称", "ysmc", C, 100, PUB),
         it("要素类别", "yslb", C, 4, PUB), it("几何", "jh", M, None, PUB)),
        COND, "涉密比例尺数据按测绘成果管理规定审批使用", SharingMethod.file, OPEN_COND,
        "公开版地图数据经审图后开放", QUARTER, ResourceFormat.file, ("空间地理", "地图", "测绘"),
        LINYI + COUNTIES,
    ),
    ResourceSpec(
        "LYZRZY", "不动产登记信息", BASIC, "03",
        "不动产权利人、坐落、面积和权利类型",
        (it("不动产单元号", "bdcdyh", C, 28, INT), it("权利人", "qlr", C, 100, SEN, "name"),
         it("证件号码", "zjhm", C, 18, SEN, "keep:first6,last4"), it("坐落", "zl", C, 200, INT),
         it("建筑面积", "jzmj", F), it("权利类型", "qllx", C, 4), it("登记日期", "djrq", D)),
        COND, "依《不动产登记暂行条例》用于政务部门办理相关业务", SharingMethod.api, CLOSED, "",
        DAY, ResourceFormat.api, ("不动产", "房产"),
    ),
    ResourceSpec(
        "LYZRZY", "国土空间规划数据", THEME, "09",
        "市级国土空间总体规划的用地分区和控制线",
        (it("规划分区编码", "ghfqbm", C, 10, PUB), it("规划分区名称", "ghfqmc", C, 50, PUB),
         it("面积", "mj", F, None, PUB), REGION),
        UNCOND, "", SharingMethod.file, OPEN, "", YEAR, ResourceFormat.file, ("规划", "国土空间"),
    ),
    ResourceSpec(
        "LYZRZY", "土地供应信息", DEPT, "04",
        "国有建设用地出让、划拨的宗地信息",
        (it("宗地编号", "zdbh", C, 20, PUB), it("土地用途", "tdyt", C, 10, PUB),
         it("供地面积", "gdmj", F, None, PUB), it("成交价款", "cjjk", Y, None, PUB),
         it("受让单位", "srdw", C, 200, PUB), it("签订日期", "qdrq", D, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", MONTH, ResourceFormat.table, ("土地", "出让"),
    ),
    ResourceSpec(
        "LYZRZY", "地质灾害隐患点信息", TOPIC, "04",
        "地质灾害隐患点位置、类型、威胁人数和监测责任人",
        (it("隐患点编号", "yhdbh", C, 20, PUB), it("灾害类型", "zhlx", C, 10, PUB),
         it("经度", "jd", F, None, PUB), it("纬度", "wd", F, None, PUB),
         it("威胁人数", "wxrs", IN, None, PUB), it("监测责任人", "jczrr", C, 50, INT, "name")),
        UNCOND, "", SharingMethod.api, OPEN_COND, "用于防灾减灾研究，须说明用途", MONTH,
        ResourceFormat.table, ("地质灾害", "应急"), LINYI + COUNTIES,
    ),
    # == 市生态环境局 ====================================================================
    ResourceSpec(
        "LYSTHJ", "空气质量监测数据", TOPIC, "03",
        "国控、省控空气质量自动监测站的小时浓度和空气质量指数",
        (*STATION, it("PM2.5浓度", "pm25", F, None, PUB), it("PM10浓度", "pm10", F, None, PUB),
         it("二氧化硫浓度", "so2", F, None, PUB), it("二氧化氮浓度", "no2", F, None, PUB),
         it("臭氧浓度", "o3", F, None, PUB), it("空气质量指数", "aqi", IN, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", RT, ResourceFormat.table,
        ("空气质量", "环境监测", "AQI"), LINYI + COUNTIES,
    ),
    ResourceSpec(
        "LYSTHJ", "地表水水质监测数据", TOPIC, "03",
        "沂河、沭河等河流断面水质自动监测数据",
        (*STATION, it("水质类别", "szlb", C, 4, PUB), it("溶解氧", "rjy", F, None, PUB),
         it("高锰酸盐指数", "gmsyzs", F, None, PUB), it("氨氮", "ad", F, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", RT, ResourceFormat.table,
        ("水质", "环境监测", "沂河"),
    ),
    ResourceSpec(
        "LYSTHJ", "排污许可证信息", THEME, "11",
        "排污单位的许可证编号、排放口和许可排放量",
        (*ENTITY[:2], it("许可证编号", "xkzbh", C, 30, PUB), it("行业类别", "hylb", C, 10, PUB),
         it("有效期至", "yxqz", D, None, PUB), it("许可排放量", "xkpfl", F, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", WEEK, ResourceFormat.table,
        ("排污许可", "生态环保"),
    ),
    ResourceSpec(
        "LYSTHJ", "重点排污单位在线监测数据", THEME, "11",
        "重点排污单位废气、废水排放口的在线监测数据",
        (CREDIT, ORG_NAME, it("排放口编号", "pfkbh", C, 20, PUB),
         it("监测时间", "jcsj", T, None, PUB), it("污染物", "wrw", C, 20, PUB),
         it("排放浓度", "pfnd", F, None, PUB), it("是否超标", "sfcb", L, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN_COND, "实时数据面向公众开放，历史数据经申请开放", RT,
        ResourceFormat.api, ("在线监测", "排污"),
    ),
    ResourceSpec(
        "LYSTHJ", "环境行政处罚信息", BUSINESS, "03",
        "环境违法行为行政处罚决定",
        (*ENTITY[:2], it("处罚决定书文号", "cfjdswh", C, 50, PUB),
         it("违法事实", "wfss", M, None, PUB), it("罚款金额", "fkje", Y, None, PUB),
         it("处罚日期", "cfrq", D, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", WEEK, ResourceFormat.table, ("行政处罚", "信用"),
    ),
    ResourceSpec(
        "LYSTHJ", "建设项目环评审批信息", DEPT, "05",
        "建设项目环境影响评价文件审批结果",
        (it("项目名称", "xmmc", C, 200, PUB), CREDIT, it("审批文号", "spwh", C, 50, PUB),
         it("审批日期", "sprq", D, None, PUB), it("审批结果", "spjg", C, 10, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", WEEK, ResourceFormat.table, ("环评", "审批"),
        LINYI, (), Status.draft,
    ),
    # == 市住房和城乡建设局 ==============================================================
    ResourceSpec(
        "LYZJ", "商品房预售许可信息", THEME, "09",
        "商品房预售许可证号、项目、预售面积和套数",
        (it("预售许可证号", "ysxkzh", C, 30, PUB), it("项目名称", "xmmc", C, 200, PUB), CREDIT,
         it("预售面积", "ysmj", F, None, PUB), it("预售套数", "ysts", IN, None, PUB),
         it("发证日期", "fzrq", D, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", DAY, ResourceFormat.table, ("房地产", "预售"),
        LINYI + COUNTIES[:3],
    ),
    ResourceSpec(
        "LYZJ", "住房公积金缴存信息", THEME, "03",
        "职工住房公积金账户、缴存基数和缴存状态",
        (ID, NAME, it("个人账号", "grzh", C, 20, SEN, "keep:last4"),
         it("缴存单位", "jcdw", C, 200), it("缴存基数", "jcjs", Y, None, SEN, "hide"),
         it("账户状态", "zhzt", C, 1)),
        COND, "用于住房保障资格审核和个人住房贷款审批", SharingMethod.api, CLOSED, "", MONTH,
        ResourceFormat.api, ("公积金", "住房"),
    ),
    ResourceSpec(
        "LYZJ", "建筑施工企业资质信息", BASIC, "02",
        "建筑业企业资质类别、等级和安全生产许可证",
        (*ENTITY, it("资质类别", "zzlb", C, 50, PUB), it("资质等级", "zzdj", C, 10, PUB),
         it("安全生产许可证号", "aqsc", C, 30, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", WEEK, ResourceFormat.table, ("建筑业", "资质"),
    ),
    ResourceSpec(
        "LYZJ", "城镇老旧小区改造项目信息", TOPIC, "05",
        "老旧小区改造项目清单、投资和进度",
        (it("小区名称", "xqmc", C, 100, PUB), REGION, it("改造户数", "gzhs", IN, None, PUB),
         it("总投资", "ztz", Y, None, PUB), it("开工日期", "kgrq", D, None, PUB),
         it("完工进度", "wgjd", F, None, PUB)),
        UNCOND, "", SharingMethod.file, OPEN, "", MONTH, ResourceFormat.table,
        ("老旧小区", "城市更新"), LINYI + COUNTIES[:3],
    ),
    ResourceSpec(
        "LYZJ", "房屋建筑工程质量监督信息", DEPT, "06",
        "在建房屋建筑工程的质量监督登记和竣工验收备案",
        (it("工程名称", "gcmc", C, 200), CREDIT, it("监督登记号", "jddjh", C, 30),
         it("竣工验收日期", "jgysrq", D)),
        COND, COND_GOV, SharingMethod.database, CLOSED, "", WEEK, ResourceFormat.table,
        ("工程质量",),
    ),
    # == 市交通运输局 ====================================================================
    ResourceSpec(
        "LYJT", "公交线路与站点信息", TOPIC, "01",
        "城市公交线路、站点位置和首末班时间",
        (it("线路编号", "xlbh", C, 10, PUB), it("线路名称", "xlmc", C, 50, PUB),
         it("站点名称", "zdmc", C, 50, PUB), it("经度", "jd", F, None, PUB),
         it("纬度", "wd", F, None, PUB), it("首班时间", "sbsj", C, 5, PUB),
         it("末班时间", "mbsj", C, 5, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", WEEK, ResourceFormat.table,
        ("公交", "交通", "出行"), LINYI + COUNTIES[:3],
    ),
    ResourceSpec(
        "LYJT", "公交车辆实时位置", TOPIC, "01",
        "公交车辆北斗/GPS 实时定位数据",
        (it("车辆编号", "clbh", C, 20, PUB), it("线路编号", "xlbh", C, 10, PUB),
         it("定位时间", "dwsj", T, None, PUB), it("经度", "jd", F, None, PUB),
         it("纬度", "wd", F, None, PUB), it("速度", "sd", F, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", RT, ResourceFormat.api, ("公交", "实时", "北斗"),
    ),
    ResourceSpec(
        "LYJT", "道路运输经营许可信息", BASIC, "02",
        "道路客运、货运经营业户和许可证信息",
        (*ENTITY, it("经营许可证号", "jyxkzh", C, 30, PUB), it("经营范围", "jyfw", M, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", WEEK, ResourceFormat.table, ("道路运输", "物流"),
    ),
    ResourceSpec(
        "LYJT", "出租汽车驾驶员从业资格信息", THEME, "01",
        "出租汽车和网约车驾驶员从业资格证信息",
        (ID, NAME, it("从业资格证号", "cyzgzh", C, 30), it("发证日期", "fzrq", D),
         it("服务单位", "fwdw", C, 200)),
        COND, COND_GOV, SharingMethod.api, CLOSED, "", DAY, ResourceFormat.table,
        ("出租车", "网约车"),
    ),
    ResourceSpec(
        "LYJT", "高速公路路况信息", TOPIC, "01",
        "辖区高速公路施工、管制和拥堵事件",
        (it("路段名称", "ldmc", C, 100, PUB), it("事件类型", "sjlx", C, 10, PUB),
         it("开始时间", "kssj", T, None, PUB), it("结束时间", "jssj", T, None, PUB),
         it("事件描述", "sjms", M, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", RT, ResourceFormat.api, ("路况", "高速"),
    ),
    # == 市农业农村局 ====================================================================
    ResourceSpec(
        "LYNY", "农业经营主体信息", BASIC, "02",
        "家庭农场、农民专业合作社和农业产业化龙头企业",
        (*ENTITY, it("主体类型", "ztlx", C, 2, PUB), it("主营产品", "zycp", C, 100, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", MONTH, ResourceFormat.table, ("农业", "合作社"),
        LINYI + COUNTIES,
    ),
    ResourceSpec(
        "LYNY", "耕地地力监测数据", TOPIC, "05",
        "耕地质量监测点土壤养分和地力等级",
        (*STATION, it("有机质", "yjz", F, None, PUB), it("全氮", "qd", F, None, PUB),
         it("有效磷", "yxl", F, None, PUB), it("地力等级", "dldj", IN, None, PUB)),
        UNCOND, "", SharingMethod.file, OPEN_COND, OPEN_RESEARCH, YEAR, ResourceFormat.table,
        ("耕地", "土壤", "智慧农业"), COUNTIES,
    ),
    ResourceSpec(
        "LYNY", "农产品质量安全检测信息", THEME, "04",
        "农产品例行监测和监督抽检结果",
        (it("样品名称", "ypmc", C, 50, PUB), it("抽检地点", "cjdd", C, 200, PUB),
         it("检测项目", "jcxm", C, 100, PUB), it("检测结果", "jcjg", C, 10, PUB),
         it("抽检日期", "cjrq", D, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", MONTH, ResourceFormat.table,
        ("农产品", "食品安全"),
    ),
    ResourceSpec(
        "LYNY", "惠农补贴发放信息", DEPT, "08",
        "耕地地力保护补贴等惠农补贴发放记录",
        (ID, NAME, REGION, it("补贴项目", "btxm", C, 50), it("补贴金额", "btje", Y),
         it("发放日期", "ffrq", D)),
        COND, "用于惠民惠农财政补贴资金监管", SharingMethod.database, CLOSED, "", QUARTER,
        ResourceFormat.table, ("补贴", "惠农"), COUNTIES,
    ),
    # == 市商务局 ========================================================================
    ResourceSpec(
        "LYSW", "对外贸易经营者备案信息", BASIC, "02",
        "对外贸易经营者备案登记",
        (*ENTITY, it("备案登记表编号", "badjbbh", C, 20, PUB),
         it("进出口企业代码", "jckqydm", C, 20, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", WEEK, ResourceFormat.table, ("外贸", "进出口"),
    ),
    ResourceSpec(
        "LYSW", "商贸物流园区信息", TOPIC, "07",
        "临沂商城物流园区、专业批发市场的位置、面积和经营户数",
        (it("园区名称", "yqmc", C, 100, PUB), it("地址", "dz", C, 200, PUB), REGION,
         it("占地面积", "zdmj", F, None, PUB), it("经营户数", "jyhs", IN, None, PUB),
         it("物流线路数", "wlxls", IN, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", QUARTER, ResourceFormat.table,
        ("商贸物流", "临沂商城"), COUNTIES[:3],
    ),
    ResourceSpec(
        "LYSW", "重要商品价格监测数据", THEME, "06",
        "粮油、肉蛋、蔬菜等重要生活必需品零售价格",
        (it("商品名称", "spmc", C, 50, PUB), it("规格等级", "gg", C, 50, PUB),
         it("价格", "jg", Y, None, PUB), it("监测日期", "jcrq", D, None, PUB),
         it("监测点", "jcd", C, 100, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", DAY, ResourceFormat.table, ("价格", "民生"),
    ),
    ResourceSpec(
        "LYSW", "单用途预付卡备案信息", DEPT, "09",
        "发行单用途商业预付卡企业的备案和资金存管信息",
        (*ENTITY[:2], it("备案编号", "babh", C, 20),
         it("预付卡余额", "yfkye", Y, None, SEN, "hide")),
        COND, COND_GOV, SharingMethod.api, CLOSED, "", MONTH, ResourceFormat.table, ("预付卡",),
    ),
    # == 市文化和旅游局 ==================================================================
    ResourceSpec(
        "LYWL", "A级旅游景区信息", TOPIC, "06",
        "全市 A 级旅游景区名称、等级、开放时间和票价",
        (it("景区名称", "jqmc", C, 100, PUB), it("景区等级", "jqdj", C, 4, PUB), REGION,
         it("地址", "dz", C, 200, PUB), it("开放时间", "kfsj", C, 100, PUB),
         it("门票价格", "mpjg", Y, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", MONTH, ResourceFormat.table,
        ("旅游", "景区", "蒙山", "沂蒙"), LINYI + COUNTIES,
    ),
    ResourceSpec(
        "LYWL", "景区实时客流数据", TOPIC, "06",
        "重点景区实时在园人数和最大承载量",
        (it("景区名称", "jqmc", C, 100, PUB), it("统计时间", "tjsj", T, None, PUB),
         it("在园人数", "zyrs", IN, None, PUB), it("最大承载量", "zdczl", IN, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", RT, ResourceFormat.api, ("客流", "旅游"), LINYI,
        ("A级旅游景区信息",),
    ),
    ResourceSpec(
        "LYWL", "旅行社信息", BASIC, "02",
        "旅行社经营许可和质量保证金信息",
        (*ENTITY, it("许可证号", "xkzh", C, 30, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", MONTH, ResourceFormat.table, ("旅行社",),
    ),
    ResourceSpec(
        "LYWL", "公共文化设施信息", THEME, "01",
        "图书馆、文化馆、博物馆和乡镇综合文化站",
        (it("设施名称", "ssmc", C, 100, PUB), it("设施类型", "sslx", C, 10, PUB), REGION,
         it("地址", "dz", C, 200, PUB), it("开放时间", "kfsj", C, 100, PUB)),
        UNCOND, "", SharingMethod.file, OPEN, "", QUARTER, ResourceFormat.file,
        ("公共文化", "图书馆"), LINYI + COUNTIES,
    ),
    ResourceSpec(
        "LYWL", "文化市场经营单位信息", DEPT, "10",
        "网吧、娱乐场所等文化市场经营单位许可信息",
        (*ENTITY[:3], it("许可证号", "xkzh", C, 30), it("经营场所", "jycs", C, 200)),
        COND, COND_GOV, SharingMethod.api, CLOSED, "", MONTH, ResourceFormat.table, ("文化市场",),
        LINYI, (), Status.withdrawn,
    ),
    # == 市卫生健康委员会 ================================================================
    ResourceSpec(
        "LYWJ", "出生医学证明信息", BASIC, "05",
        "新生儿出生医学证明签发信息",
        (it("出生医学证明编号", "csyxzmbh", C, 20, INT),
         it("新生儿姓名", "xsexm", C, 50, SEN, "name"), it("性别", "xb", C, 1),
         it("出生日期", "csrq", D, None, SEN, "keep:first4"),
         it("母亲公民身份号码", "mqsfhm", C, 18, SEN, "keep:first6,last4"),
         it("签发机构", "qfjg", C, 100)),
        COND, "用于出生登记、医保参保等“出生一件事”联办", SharingMethod.api, CLOSED, "", DAY,
        ResourceFormat.api, ("出生", "电子证照", "人口"), LINYI, ("人口基础信息",),
    ),
    ResourceSpec(
        "LYWJ", "医疗机构执业信息", THEME, "02",
        "医院、卫生院和诊所的执业许可、床位和诊疗科目",
        (*ENTITY[:2], it("机构类别", "jglb", C, 10, PUB), it("床位数", "cws", IN, None, PUB),
         it("诊疗科目", "zlkm", M, None, PUB), it("地址", "dz", C, 200, PUB), REGION),
        UNCOND, "", SharingMethod.api, OPEN, "", MONTH, ResourceFormat.table, ("医疗机构", "医院"),
        LINYI + COUNTIES,
    ),
    ResourceSpec(
        "LYWJ", "居民电子健康档案", THEME, "02",
        "居民基本信息、健康体检和慢病随访记录",
        (ID, NAME, it("血型", "xx", C, 2, SEN), it("慢病类型", "mblx", C, 20, RES),
         it("最近随访日期", "zjsfrq", D, None, SEN)),
        NOSHARE, BASIS_PRIVACY, None, CLOSED, "", DAY, ResourceFormat.table, ("健康档案", "医疗"),
    ),
    ResourceSpec(
        "LYWJ", "预防接种信息", THEME, "02",
        "儿童预防接种记录",
        (it("受种者姓名", "szzxm", C, 50, SEN, "name"),
         it("受种者身份号码", "szzsfhm", C, 18, SEN, "keep:first6,last4"),
         it("疫苗名称", "ymmc", C, 50), it("接种日期", "jzrq", D), it("接种单位", "jzdw", C, 100)),
        COND, "用于入托入学查验接种证", SharingMethod.api, CLOSED, "", DAY, ResourceFormat.api,
        ("疫苗", "接种"),
    ),
    ResourceSpec(
        "LYWJ", "医师执业注册信息", BASIC, "05",
        "医师执业证书和注册信息",
        (NAME, it("执业证书编码", "zyzsbm", C, 30, PUB), it("执业类别", "zylb", C, 10, PUB),
         it("执业范围", "zyfw", C, 50, PUB), it("执业机构", "zyjg", C, 100, PUB)),
        UNCOND, "", SharingMethod.api, OPEN_COND, "公众可按姓名和证书编码查询", WEEK,
        ResourceFormat.api, ("医师", "电子证照"),
    ),
    # == 市应急管理局 ====================================================================
    ResourceSpec(
        "LYYJ", "危险化学品企业信息", THEME, "05",
        "危险化学品生产、经营、储存企业及重大危险源",
        (*ENTITY, it("许可证号", "xkzh", C, 30, PUB),
         it("危险化学品名称", "wxhxpmc", M, None, INT), it("重大危险源等级", "zdwxydj", C, 2, INT),
         it("经度", "jd", F, None, INT), it("纬度", "wd", F, None, INT)),
        COND, "用于安全生产监管和应急救援", SharingMethod.api, CLOSED, "", WEEK,
        ResourceFormat.table, ("危化品", "安全生产", "重大危险源"), LINYI + COUNTIES,
    ),
    ResourceSpec(
        "LYYJ", "应急避难场所信息", THEME, "12",
        "应急避难场所位置、面积和可容纳人数",
        (it("场所名称", "csmc", C, 100, PUB), REGION, it("地址", "dz", C, 200, PUB),
         it("经度", "jd", F, None, PUB), it("纬度", "wd", F, None, PUB),
         it("可容纳人数", "krnrs", IN, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", QUARTER, ResourceFormat.table,
        ("避难场所", "应急"), LINYI + COUNTIES,
    ),
    ResourceSpec(
        "LYYJ", "应急物资储备信息", TOPIC, "04",
        "市县两级应急物资储备库和物资数量",
        (it("储备库名称", "cbkmc", C, 100), REGION, it("物资名称", "wzmc", C, 50),
         it("数量", "sl", IN), it("计量单位", "jldw", C, 10)),
        COND, "用于突发事件应急处置调度", SharingMethod.database, CLOSED, "", MONTH,
        ResourceFormat.table, ("应急物资",), LINYI + COUNTIES,
    ),
    ResourceSpec(
        "LYYJ", "安全生产行政执法信息", BUSINESS, "03",
        "安全生产监督检查和行政处罚",
        (*ENTITY[:2], it("检查日期", "jcrq", D, None, PUB),
         it("发现隐患数", "fxyhs", IN, None, PUB), it("处罚金额", "cfje", Y, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", WEEK, ResourceFormat.table, ("执法", "安全生产"),
    ),
    ResourceSpec(
        "LYYJ", "自然灾害灾情信息", TOPIC, "04",
        "洪涝、干旱、风雹等自然灾害受灾人口和经济损失",
        (it("灾害类型", "zhlx", C, 10, PUB), REGION, it("发生日期", "fsrq", D, None, PUB),
         it("受灾人口", "szrk", IN, None, PUB), it("直接经济损失", "zjjjss", Y, None, PUB)),
        UNCOND, "", SharingMethod.file, OPEN_COND, OPEN_RESEARCH, MONTH, ResourceFormat.table,
        ("灾情", "防汛"), LINYI + COUNTIES, ("地质灾害隐患点信息",), Status.in_review,
    ),
    # == 市市场监督管理局 ================================================================
    ResourceSpec(
        "LYSJ", "法人基础信息", BASIC, "02",
        "企业、个体工商户和农民专业合作社的登记信息，是法人基础库的权威来源",
        (*ENTITY, it("市场主体类型", "sczlx", C, 4, PUB), it("注册资本", "zczb", Y, None, PUB),
         it("经营范围", "jyfw", M, None, PUB), it("登记机关", "djjg", C, 100, PUB),
         it("行业代码", "hydm", C, 5, PUB, "", "GB/T4754"), it("登记状态", "djzt", C, 2, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", DAY, ResourceFormat.table,
        ("法人", "企业", "市场主体"), LINYI + COUNTIES,
    ),
    ResourceSpec(
        "LYSJ", "企业经营异常名录", BASIC, "04",
        "列入和移出经营异常名录的企业",
        (*ENTITY[:2], it("列入原因", "lryy", C, 200, PUB), it("列入日期", "lrrq", D, None, PUB),
         it("移出日期", "ycrq", D, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", DAY, ResourceFormat.table, ("信用", "经营异常"),
        LINYI, ("法人基础信息",),
    ),
    ResourceSpec(
        "LYSJ", "食品生产经营许可信息", THEME, "04",
        "食品生产许可证和食品经营许可证",
        (*ENTITY[:3], it("许可证编号", "xkzbh", C, 30, PUB), it("经营项目", "jyxm", M, None, PUB),
         it("有效期至", "yxqz", D, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", DAY, ResourceFormat.table, ("食品安全", "许可"),
        LINYI, ("法人基础信息",),
    ),
    ResourceSpec(
        "LYSJ", "食品安全抽检信息", THEME, "04",
        "食品安全监督抽检和风险监测结果",
        (it("食品名称", "spmc", C, 100, PUB), it("被抽样单位", "bcydw", C, 200, PUB),
         it("抽检项目", "cjxm", C, 100, PUB), it("检验结论", "jyjl", C, 10, PUB),
         it("抽样日期", "cyrq", D, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", WEEK, ResourceFormat.table,
        ("食品安全", "抽检", "智慧食安"),
    ),
    ResourceSpec(
        "LYSJ", "特种设备登记信息", DEPT, "13",
        "电梯、锅炉、压力容器等特种设备使用登记和定期检验",
        (it("设备注册代码", "sbzcdm", C, 30), it("设备类别", "sblb", C, 10), CREDIT,
         it("使用地点", "sydd", C, 200), it("下次检验日期", "xcjyrq", D)),
        COND, "用于特种设备安全监管和应急救援", SharingMethod.api, CLOSED, "", WEEK,
        ResourceFormat.table, ("特种设备", "电梯"),
    ),
    ResourceSpec(
        "LYSJ", "投诉举报信息", BUSINESS, "02",
        "12315 消费投诉和举报处理记录",
        (it("投诉人", "tsr", C, 50, SEN, "name"), PHONE, it("被投诉单位", "btsdw", C, 200),
         it("投诉内容", "tsnr", M), it("办结日期", "bjrq", D)),
        NOSHARE, BASIS_PRIVACY, None, CLOSED, "", DAY, ResourceFormat.table, ("投诉", "消费"),
    ),
    # == 市统计局 ========================================================================
    ResourceSpec(
        "LYTJ", "地区生产总值", BASIC, "06",
        "全市及各县区地区生产总值和三次产业增加值",
        (*PERIOD, it("地区生产总值", "dqsczz", Y, None, PUB),
         it("第一产业增加值", "dycy", Y, None, PUB), it("第二产业增加值", "decy", Y, None, PUB),
         it("第三产业增加值", "dscy", Y, None, PUB)),
        UNCOND, "", SharingMethod.file, OPEN, "", QUARTER, ResourceFormat.table,
        ("GDP", "经济", "统计"), LINYI + COUNTIES,
    ),
    ResourceSpec(
        "LYTJ", "常住人口统计数据", BASIC, "01",
        "年末常住人口、城镇化率和人口自然增长率",
        (*PERIOD, it("常住人口", "czrk", IN, None, PUB), it("城镇化率", "czhl", F, None, PUB),
         it("自然增长率", "zrzzl", F, None, PUB)),
        UNCOND, "", SharingMethod.file, OPEN, "", YEAR, ResourceFormat.table, ("人口", "统计"),
        LINYI + COUNTIES, ("人口基础信息",),
    ),
    ResourceSpec(
        "LYTJ", "规模以上工业企业主要指标", BASIC, "06",
        "规模以上工业企业营业收入、利润总额和工业增加值增速",
        (it("统计月份", "tjyf", C, 7, PUB), it("行业", "hy", C, 50, PUB),
         it("营业收入", "yysr", Y, None, PUB), it("利润总额", "lrze", Y, None, PUB),
         it("增加值增速", "zjzzs", F, None, PUB)),
        UNCOND, "", SharingMethod.file, OPEN, "", MONTH, ResourceFormat.table,
        ("工业", "经济", "统计"),
    ),
    ResourceSpec(
        "LYTJ", "统计调查单位名录", DEPT, "14",
        "经济普查和常规统计调查的基本单位名录",
        (*ENTITY[:2], it("行业代码", "hydm", C, 5, INT),
         it("从业人员数", "cyrys", IN, None, SEN, "hide"), REGION),
        COND, "依《统计法》仅用于统计目的，不得用于行政处罚", SharingMethod.database, CLOSED, "",
        YEAR, ResourceFormat.table, ("名录", "统计"),
    ),
    # == 市教育局 ========================================================================
    ResourceSpec(
        "LYJY", "中小学校信息", THEME, "01",
        "全市中小学、幼儿园的名称、地址、办学类型和学区",
        (it("学校名称", "xxmc", C, 100, PUB), it("办学类型", "bxlx", C, 10, PUB), REGION,
         it("地址", "dz", C, 200, PUB), it("学区范围", "xqfw", M, None, PUB),
         it("在校生数", "zxss", IN, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", YEAR, ResourceFormat.table,
        ("学校", "教育", "学区"), LINYI + COUNTIES,
    ),
    ResourceSpec(
        "LYJY", "学生学籍信息", THEME, "01",
        "中小学生学籍、就读学校和年级",
        (it("学籍号", "xjh", C, 20, SEN, "keep:last4"), NAME, ID, it("就读学校", "jdxx", C, 100),
         it("年级", "nj", C, 10)),
        COND, "用于入学资格审核、学生资助和教育统计", SharingMethod.api, CLOSED, "", MONTH,
        ResourceFormat.api, ("学籍", "学生"), LINYI, ("人口基础信息",),
    ),
    ResourceSpec(
        "LYJY", "教师资格证书信息", BASIC, "05",
        "教师资格认定和证书信息",
        (NAME, it("证书号码", "zshm", C, 30, PUB), it("资格种类", "zgzl", C, 20, PUB),
         it("任教学科", "rjxk", C, 20, PUB), it("认定日期", "rdrq", D, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN_COND, "公众可按姓名和证书号码查询", WEEK,
        ResourceFormat.api, ("教师资格", "电子证照"),
    ),
    ResourceSpec(
        "LYJY", "校外培训机构信息", TOPIC, "08",
        "经审批的校外培训机构和收费标准",
        (*ENTITY[:2], it("培训类别", "pxlb", C, 20, PUB), it("办学地址", "bxdz", C, 200, PUB),
         it("收费标准", "sfbz", C, 200, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", MONTH, ResourceFormat.table,
        ("培训机构", "智慧教育"),
    ),
    # == 市城市管理局 ====================================================================
    ResourceSpec(
        "LYCG", "数字城管案件信息", TOPIC, "02",
        "数字化城市管理平台上报、派遣和结案的城市管理问题",
        (it("案件编号", "ajbh", C, 20, PUB), it("问题类型", "wtlx", C, 20, PUB), REGION,
         it("发生地点", "fsdd", C, 200, PUB), it("上报时间", "sbsj", T, None, PUB),
         it("结案时间", "jasj", T, None, PUB), it("处置部门", "czbm", C, 100, PUB)),
        UNCOND, "", SharingMethod.api, OPEN_COND, "按月汇总后向公众开放", RT, ResourceFormat.table,
        ("城管", "案件", "智慧城管"), LINYI + COUNTIES[:3],
    ),
    ResourceSpec(
        "LYCG", "城市部件普查数据", TOPIC, "02",
        "井盖、路灯、垃圾桶等城市部件的位置和权属",
        (it("部件编码", "bjbm", C, 20, PUB), it("部件类型", "bjlx", C, 10, PUB),
         it("经度", "jd", F, None, PUB), it("纬度", "wd", F, None, PUB),
         it("权属单位", "qsdw", C, 100, PUB)),
        UNCOND, "", SharingMethod.file, OPEN, "", YEAR, ResourceFormat.table,
        ("城市部件", "市政设施"), COUNTIES[:3],
    ),
    ResourceSpec(
        "LYCG", "生活垃圾分类处理数据", THEME, "11",
        "生活垃圾收运量和分类处理量",
        (it("统计日期", "tjrq", D, None, PUB), REGION, it("收运量", "syl", F, None, PUB),
         it("可回收物", "khsw", F, None, PUB), it("厨余垃圾", "cylj", F, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", DAY, ResourceFormat.table, ("垃圾分类", "环卫"),
        LINYI + COUNTIES[:3],
    ),
    ResourceSpec(
        "LYCG", "户外广告设置许可信息", BUSINESS, "02",
        "户外广告和招牌设置审批",
        (*ENTITY[:2], it("设置地点", "szdd", C, 200, PUB), it("许可期限至", "xkqxz", D, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", WEEK, ResourceFormat.table, ("户外广告", "审批"),
        LINYI, (), Status.draft,
    ),
    # == 市大数据局 ======================================================================
    ResourceSpec(
        "LYDSJ", "电子证照目录信息", BASIC, "05",
        "全市电子证照种类、签发部门和证照数量",
        (it("证照类型代码", "zzlxdm", C, 20, PUB), it("证照名称", "zzmc", C, 100, PUB),
         it("签发部门", "qfbm", C, 100, PUB), it("证照数量", "zzsl", IN, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", WEEK, ResourceFormat.table,
        ("电子证照", "一网通办"),
    ),
    ResourceSpec(
        "LYDSJ", "政务服务事项办件信息", BUSINESS, "02",
        "一网通办平台受理、办结的政务服务事项办件",
        (it("办件编号", "bjbh", C, 30), it("事项名称", "sxmc", C, 200, PUB),
         it("申请人", "sqr", C, 100, SEN, "name"), it("受理部门", "slbm", C, 100, PUB),
         it("受理时间", "slsj", T), it("办结时间", "bjsj", T), it("办理结果", "bljg", C, 10)),
        COND, "用于政务服务效能评估和“好差评”分析", SharingMethod.database, CLOSED, "", RT,
        ResourceFormat.table, ("政务服务", "办件", "一网通办"),
    ),
    ResourceSpec(
        "LYDSJ", "政务服务事项清单", BUSINESS, "02",
        "市县两级政务服务事项的名称、办理条件和承诺时限",
        (it("事项编码", "sxbm", C, 30, PUB), it("事项名称", "sxmc", C, 200, PUB),
         it("实施主体", "sszt", C, 100, PUB), it("办理条件", "blbj", M, None, PUB),
         it("承诺时限", "cnsx", IN, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", WEEK, ResourceFormat.table,
        ("政务服务", "事项清单"), LINYI + COUNTIES,
    ),
    ResourceSpec(
        "LYDSJ", "公共信用综合评价信息", BASIC, "04",
        "市场主体公共信用综合评价等级",
        (*ENTITY[:2], it("信用等级", "xydj", C, 2, PUB), it("评价日期", "pjrq", D, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", MONTH, ResourceFormat.api, ("信用", "评价"), LINYI,
        ("法人基础信息", "企业经营异常名录"),
    ),
    ResourceSpec(
        "LYDSJ", "12345政务服务热线工单", THEME, "10",
        "12345 热线受理的诉求工单、承办单位和办理结果",
        (it("工单编号", "gdbh", C, 20, PUB), it("诉求类型", "sqlx", C, 20, PUB), REGION,
         it("诉求内容", "sqnr", M, None, INT), it("来电号码", "ldhm", C, 20, SEN, "phone"),
         it("承办单位", "cbdw", C, 100, PUB), it("办结时间", "bjsj", T, None, PUB)),
        COND, "用于诉求办理、社会治理分析和绩效考核", SharingMethod.api, OPEN_COND,
        "诉求类型和办结情况按月汇总开放", RT, ResourceFormat.table, ("12345", "热线", "社区治理"),
        LINYI + COUNTIES,
    ),
    ResourceSpec(
        "LYDSJ", "网格化社会治理事件", THEME, "10",
        "网格员上报的矛盾纠纷、安全隐患和民生诉求事件",
        (it("事件编号", "sjbh", C, 20), it("网格编码", "wgbm", C, 20), REGION,
         it("事件类型", "sjlx", C, 20), it("上报人", "sbr", C, 50, SEN, "name"),
         it("上报时间", "sbsj", T), it("处置状态", "czzt", C, 10)),
        COND, "用于基层社会治理和网格化服务管理", SharingMethod.api, CLOSED, "", RT,
        ResourceFormat.table, ("网格化", "社会治理"), COUNTIES,
    ),
    ResourceSpec(
        "LYDSJ", "政务数据共享交换统计", DEPT, "17",
        "各部门数据共享交换量、接口调用次数和数据质量评分",
        (it("部门名称", "bmmc", C, 100, PUB), it("统计月份", "tjyf", C, 7, PUB),
         it("交换量", "jhl", IN, None, PUB), it("接口调用次数", "jkdycs", IN, None, PUB),
         it("质量评分", "zlpf", F, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", MONTH, ResourceFormat.table,
        ("数据共享", "绩效评估"),
    ),
    # == 区县部门 ========================================================================
    ResourceSpec(
        "LSDSJ", "兰山区便民服务中心信息", THEME, "01",
        "兰山区街道和社区便民服务中心的地址、办理事项和开放时间",
        (it("中心名称", "zxmc", C, 100, PUB), it("地址", "dz", C, 200, PUB),
         it("办理事项", "blsx", M, None, PUB), it("开放时间", "kfsj", C, 100, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", MONTH, ResourceFormat.table,
        ("便民服务", "兰山区"), ("371302",),
    ),
    ResourceSpec(
        "LZDSJ", "罗庄区工业园区企业信息", TOPIC, "09",
        "罗庄区工业园区入驻企业和主导产业",
        (*ENTITY[:2], it("所属园区", "ssyq", C, 100, PUB), it("主导产业", "zdcy", C, 50, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", QUARTER, ResourceFormat.table,
        ("工业园区", "智慧制造", "罗庄区"), ("371311",),
    ),
    ResourceSpec(
        "HDDSJ", "河东区智慧社区设施信息", TOPIC, "10",
        "河东区智慧社区门禁、充电桩和社区食堂等设施",
        (it("社区名称", "sqmc", C, 100, PUB), it("设施类型", "sslx", C, 20, PUB),
         it("数量", "sl", IN, None, PUB), it("运营单位", "yydw", C, 100, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", MONTH, ResourceFormat.table,
        ("智慧社区", "河东区"), ("371312",),
    ),
    ResourceSpec(
        "LSGA", "兰山区流动人口居住登记信息", DEPT, "01",
        "兰山区流动人口居住登记和居住证办理",
        (ID, NAME, it("居住地址", "jzdz", C, 200, SEN, "keep:first6"), it("登记日期", "djrq", D),
         PHONE),
        COND, COND_GOV, SharingMethod.api, CLOSED, "", DAY, ResourceFormat.table,
        ("流动人口", "居住证"), ("371302",), ("人口基础信息",),
    ),
    # == 运营公司 ========================================================================
    ResourceSpec(
        "LYZHYY", "城市物联感知设备目录", TOPIC, "11",
        "接入城市大脑的摄像头、传感器和采集器等感知设备",
        (it("设备编码", "sbbm", C, 30, PUB), it("设备类型", "sblx", C, 20, PUB),
         it("所属部门", "ssbm", C, 100, PUB), it("经度", "jd", F, None, INT),
         it("纬度", "wd", F, None, INT), it("在线状态", "zxzt", L, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN_COND, "设备位置经审批后开放", RT, ResourceFormat.api,
        ("物联网", "感知设备"),
    ),
    ResourceSpec(
        "LYZHYY", "公共信息平台运行监测指标", BUSINESS, "04",
        "平台接口可用率、响应时间和数据交换量",
        (it("指标名称", "zbmc", C, 50, PUB), it("统计时间", "tjsj", T, None, PUB),
         it("指标值", "zbz", F, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", RT, ResourceFormat.api, ("运维", "平台运行"),
    ),
    # == more theme and special-topic resources =========================================
    ResourceSpec(
        "LYRS", "企业职工养老保险待遇领取信息", THEME, "03",
        "养老保险待遇领取人员和月领取金额",
        (ID, NAME, it("待遇类型", "dylx", C, 4), it("月领取金额", "ylqje", Y, None, SEN, "hide"),
         it("领取状态", "lqzt", C, 1)),
        COND, "用于待遇资格认证和防止重复领取", SharingMethod.api, CLOSED, "", MONTH,
        ResourceFormat.api, ("养老金", "社保"), LINYI, ("社会保险参保信息",),
    ),
    ResourceSpec(
        "LYJT", "网约车平台订单数据", TOPIC, "01",
        "网约车平台订单起讫点、里程和时长（按小时汇总）",
        (it("统计时间", "tjsj", T, None, PUB), REGION, it("订单量", "ddl", IN, None, PUB),
         it("平均里程", "pjlc", F, None, PUB), it("平均时长", "pjsc", F, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN_COND, OPEN_RESEARCH, DAY, ResourceFormat.table,
        ("网约车", "出行", "智慧交通"), LINYI + COUNTIES[:3],
    ),
    ResourceSpec(
        "LYNY", "农机作业监测数据", TOPIC, "05",
        "农机北斗终端上报的深松、收获作业面积",
        (it("终端编号", "zdbh", C, 20, PUB), REGION, it("作业类型", "zylx", C, 10, PUB),
         it("作业面积", "zymj", F, None, PUB), it("作业日期", "zyrq", D, None, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", DAY, ResourceFormat.table,
        ("农机", "北斗", "智慧农业"), COUNTIES,
    ),
    ResourceSpec(
        "LYSW", "电子商务企业运行数据", TOPIC, "07",
        "重点电商企业网络零售额和快递业务量",
        (*ENTITY[:2], it("统计月份", "tjyf", C, 7, PUB), it("网络零售额", "wllse", Y, None, INT),
         it("快递业务量", "kdywl", IN, None, PUB)),
        COND, "用于电商产业运行分析", SharingMethod.file, CLOSED, "", MONTH, ResourceFormat.table,
        ("电商", "智慧物流"),
    ),
    ResourceSpec(
        "LYWJ", "医疗卫生资源统计", TOPIC, "02",
        "各县区医疗机构数、床位数和卫生技术人员数",
        (*PERIOD, it("医疗机构数", "yljgs", IN, None, PUB), it("床位数", "cws", IN, None, PUB),
         it("卫生技术人员数", "wsjsrys", IN, None, PUB)),
        UNCOND, "", SharingMethod.file, OPEN, "", YEAR, ResourceFormat.table, ("医疗资源", "统计"),
        LINYI + COUNTIES,
    ),
    # == 市税务局 (added later: new specs go last, so earlier codes never change) =========
    ResourceSpec(
        "LYSWJ", "纳税信用等级评价信息", THEME, "08",
        "纳税人年度纳税信用等级（A、B、M、C、D 级）评价结果",
        (CREDIT, it("纳税人名称", "nsrmc", C, 200, PUB), it("评价年度", "pjnd", IN, None, PUB),
         it("信用等级", "xydj", C, 1, PUB)),
        UNCOND, "", SharingMethod.api, OPEN, "", YEAR, ResourceFormat.table,
        ("纳税信用", "信用体系", "税务"),
    ),
)
# fmt: on
