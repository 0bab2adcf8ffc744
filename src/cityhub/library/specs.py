"""The base libraries (基础资源库), declared: their fields, keys, authoritative providers
(法定管理单位) and the department resources that feed them.

A base library is published in the catalog as one resource owned by its registrar (公安
for population, 市场监管 for legal entities...). Other departments deliver their own
resources (`FeedSpec`), whose items are a subset of the library's fields; the merge
resolves every delivery into one golden record per key. A conflict on a field is
resolved in favour of the field's `authority`, and recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import polars as pl

from cityhub.catalog.vocab import DataType, Sensitivity, UpdateCycle
from cityhub.library import datastore as ds
from cityhub.library.golden import Layout
from cityhub.library.keys import credit_code_key, id_number_key

# Provider organization codes (GB/T 2260 Linyi demo codes; any city declares its own).
GA = "LYGA"  # 公安局: household registration
WJ = "LYWJ"  # 卫生健康委员会: births and deaths
MZ = "LYMZ"  # 民政局: marriages
RS = "LYRS"  # 人力资源和社会保障局: social insurance
SJ = "LYSJ"  # 市场监督管理局: company registration
SWJ = "LYSWJ"  # 税务局: taxpayers
TJ = "LYTJ"  # 统计局: economic indicators
ZRZY = "LYZRZY"  # 自然资源和规划局: spatial data

_KIND_OF = {
    DataType.string: ds.ColumnKind.string,
    DataType.number: ds.ColumnKind.decimal,
    DataType.currency: ds.ColumnKind.decimal,
    DataType.date: ds.ColumnKind.date,
    DataType.datetime: ds.ColumnKind.datetime,
    DataType.boolean: ds.ColumnKind.boolean,
    DataType.text: ds.ColumnKind.text,
    DataType.integer: ds.ColumnKind.integer,
    DataType.float: ds.ColumnKind.float,
    DataType.double: ds.ColumnKind.float,
}


@dataclass(frozen=True)
class FieldSpec:
    """One field of a library; `code` is the catalog item code, `authority` the org whose
    value wins a conflict ("" when none: the latest delivery wins)."""

    code: str
    name_zh: str
    name_en: str
    data_type: DataType = DataType.string
    length: int | None = None
    authority: str = ""
    sensitivity: Sensitivity = Sensitivity.internal
    masking: str = ""  # a catalog.masking rule
    indexed: bool = False  # derivations select by it (e.g. the region of residence)

    @property
    def column(self) -> str:
        return ds.column_name(self.code)

    @property
    def column_spec(self) -> ds.ColumnSpec:
        # Exactly what the gateway derives from the catalog item (gateway.resources).
        kind = _KIND_OF[self.data_type]
        return ds.ColumnSpec(
            self.column,
            kind,
            length=self.length if kind is ds.ColumnKind.string else None,
            scale=2 if self.data_type is DataType.currency else 4,
            label=self.name_zh,
            indexed=self.indexed,
        )


@dataclass(frozen=True)
class FeedSpec:
    """A department resource whose deliveries feed a library."""

    resource_code: str
    provider: str
    name_zh: str
    name_en: str
    fields: tuple[str, ...]  # library field codes it carries, the key first


# A key normalizer: raw key values → canonical keys (null where the key is invalid).
KeyNormalizer = Callable[[pl.Series], pl.Series]


@dataclass(frozen=True)
class LibrarySpec:
    """A base library: one golden record per key, fields with lineage."""

    slug: str  # URL name: /api/v1/library/{slug}/...
    resource_code: str  # the catalog resource serving the golden records
    registrar: str  # the org that owns the resource and whose deletions remove records
    name_zh: str
    name_en: str
    key: tuple[str, ...]  # field codes forming the key
    fields: tuple[FieldSpec, ...]
    feeds: tuple[FeedSpec, ...] = ()
    normalize_key: KeyNormalizer | None = None  # for single keys (ID numbers, credit codes)
    region_of_key: tuple[int, int] | None = None  # slice of the key holding a GB/T 2260 code
    update_cycle: UpdateCycle = UpdateCycle.daily
    summary_zh: str = ""
    keywords: tuple[str, ...] = field(default_factory=tuple)

    @cached_property
    def by_code(self) -> dict[str, FieldSpec]:
        return {f.code: f for f in self.fields}

    @property
    def value_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.code not in self.key)

    @property
    def providers(self) -> tuple[str, ...]:
        return (self.registrar, *(f.provider for f in self.feeds if f.provider != self.registrar))

    @property
    def table_spec(self) -> ds.TableSpec:
        return ds.TableSpec(self.resource_code, tuple(f.column_spec for f in self.fields))

    @cached_property
    def layout(self) -> Layout:
        """Golden records: keyed, with lineage, partitioned by the key's region if any."""
        return Layout(
            self.table_spec,
            tuple(self.by_code[k].column for k in self.key),
            lineage=True,
            region_slice=self.region_of_key,
        )


def _f(code: str, zh: str, en: str, dt: DataType = DataType.string, **kw: object) -> FieldSpec:
    return FieldSpec(code, zh, en, dt, **kw)  # type: ignore[arg-type]


_S, _D, _I, _N = DataType.string, DataType.date, DataType.integer, DataType.number
_SENS = Sensitivity.sensitive

# Aligned with the demo catalog's 人口基础信息 (its items first, in its order; the library's
# own fields after them are added to the resource by `register.align`).
POPULATION = LibrarySpec(
    slug="population",
    resource_code="101001-LYGA-000001",
    registrar=GA,
    name_zh="人口基础信息",
    name_en="Population base library",
    key=("gmsfhm",),
    fields=(
        _f("gmsfhm", "公民身份号码", "ID number", length=18, sensitivity=_SENS,
           masking="keep:first6,last4"),
        _f("xm", "姓名", "Name", length=50, authority=GA, sensitivity=_SENS, masking="name"),
        _f("xb", "性别", "Sex", length=1, authority=GA),
        _f("csrq", "出生日期", "Date of birth", _D, authority=GA, sensitivity=_SENS,
           masking="keep:first4"),
        _f("mz", "民族", "Ethnic group", length=2, authority=GA),
        _f("hjdz", "户籍地址", "Registered address", length=200, authority=GA,
           sensitivity=_SENS, masking="keep:first6"),
        _f("lxdh", "联系电话", "Phone", length=20, sensitivity=_SENS, masking="phone"),
        _f("hyzk", "婚姻状况", "Marital status", length=2, authority=MZ),
        _f("whcd", "文化程度", "Education", length=2, authority=GA),
        _f("hh", "户号", "Household number", length=20, authority=GA, sensitivity=_SENS,
           masking="keep:last4"),
        _f("hjqh", "户籍地区划", "Registered region", length=6, authority=GA, indexed=True),
        _f("swrq", "死亡日期", "Date of death", _D, authority=WJ),
        _f("sbzt", "社保状态", "Social insurance status", length=8, authority=RS),
        _f("cbrq", "参保日期", "Insured since", _D, authority=RS),
    ),
    feeds=(
        FeedSpec("301001-LYWJ-000011", WJ, "出生和死亡登记（人口库汇交）",
                 "Births and deaths (to the population library)",
                 ("gmsfhm", "xm", "xb", "csrq", "swrq")),
        FeedSpec("301002-LYMZ-000011", MZ, "婚姻状况（人口库汇交）",
                 "Marital status (to the population library)",
                 ("gmsfhm", "xm", "csrq", "hyzk")),
        FeedSpec("301003-LYRS-000011", RS, "个人参保状态（人口库汇交）",
                 "Social insurance status (to the population library)",
                 ("gmsfhm", "xm", "lxdh", "sbzt", "cbrq")),
    ),
    normalize_key=id_number_key,
    region_of_key=(0, 6),
    summary_zh="全市户籍人口基础信息，公安户籍为基础，卫健、民政、人社数据融合。",
    keywords=("人口", "户籍", "身份证"),
)  # fmt: skip

# Aligned with the demo catalog's 法人基础信息.
LEGAL_ENTITIES = LibrarySpec(
    slug="legal_entities",
    resource_code="102007-LYSJ-000001",
    registrar=SJ,
    name_zh="法人基础信息",
    name_en="Legal entities base library",
    key=("tyshxydm",),
    fields=(
        _f("tyshxydm", "统一社会信用代码", "Unified social credit code", length=18,
           sensitivity=Sensitivity.public),
        _f("dwmc", "单位名称", "Name", length=200, authority=SJ, sensitivity=Sensitivity.public),
        _f("fddbr", "法定代表人", "Legal representative", length=50, authority=SJ,
           masking="name"),
        _f("zcdz", "注册地址", "Registered address", length=200, authority=SJ,
           sensitivity=Sensitivity.public),
        _f("clrq", "成立日期", "Founded", _D, authority=SJ, sensitivity=Sensitivity.public),
        _f("sczlx", "市场主体类型", "Entity type", length=4, authority=SJ,
           sensitivity=Sensitivity.public),
        _f("zczb", "注册资本", "Registered capital (10k CNY)", DataType.currency, authority=SJ,
           sensitivity=Sensitivity.public),
        _f("jyfw", "经营范围", "Business scope", DataType.text, authority=SJ,
           sensitivity=Sensitivity.public),
        _f("djjg", "登记机关", "Registered by", length=100, authority=SJ,
           sensitivity=Sensitivity.public),
        _f("hydm", "行业代码", "Industry (GB/T 4754)", length=5, authority=SJ,
           sensitivity=Sensitivity.public),
        _f("djzt", "登记状态", "Registration status", length=2, authority=SJ,
           sensitivity=Sensitivity.public),
        _f("nsrzt", "纳税人状态", "Taxpayer status", length=8, authority=SWJ),
        _f("nsxydj", "纳税信用等级", "Tax credit grade", length=2, authority=SWJ),
        _f("cbrs", "参保人数", "Insured employees", _I, authority=RS),
    ),
    feeds=(
        FeedSpec("302001-LYSWJ-000001", SWJ, "纳税人登记（法人库汇交）",
                 "Taxpayers (to the legal-entity library)",
                 ("tyshxydm", "dwmc", "nsrzt", "nsxydj")),
        FeedSpec("302002-LYRS-000012", RS, "单位参保（法人库汇交）",
                 "Employer social insurance (to the legal-entity library)",
                 ("tyshxydm", "dwmc", "cbrs")),
    ),
    normalize_key=credit_code_key,
    region_of_key=(2, 8),
    summary_zh="全市市场主体和法人基础信息，市场监管登记为基础，税务、人社数据融合。",
    keywords=("法人", "市场主体", "信用代码"),
)  # fmt: skip

ECONOMY = LibrarySpec(
    slug="economy",
    resource_code="106003-LYTJ-000011",
    registrar=TJ,
    name_zh="宏观经济指标",
    name_en="Economy base library",
    key=("qhdm", "tjq", "zbdm"),
    fields=(
        _f("qhdm", "区划代码", "Region code", length=6),
        _f("tjq", "统计期", "Period", length=8),
        _f("zbdm", "指标代码", "Indicator code", length=16),
        _f("zbmc", "指标名称", "Indicator", length=64, authority=TJ),
        _f("zbz", "指标值", "Value", _N, authority=TJ),
        _f("jldw", "计量单位", "Unit", length=16, authority=TJ),
    ),
    update_cycle=UpdateCycle.quarterly,
    summary_zh="全市及各区县主要经济指标（地区生产总值、常住人口、社会消费品零售总额等），按季度。",
    keywords=("经济", "GDP", "统计"),
)

REGIONS = LibrarySpec(
    slug="regions",
    resource_code="103004-LYZRZY-000011",
    registrar=ZRZY,
    name_zh="行政区划",
    name_en="Administrative regions",
    key=("qhdm",),
    fields=(
        _f("qhdm", "区划代码", "Region code", length=6),
        _f("qhmc", "区划名称", "Name", length=64, authority=ZRZY),
        _f("sjqhdm", "上级区划代码", "Parent code", length=6, authority=ZRZY),
        _f("zxjd", "中心经度", "Centre longitude", DataType.double, authority=ZRZY),
        _f("zxwd", "中心纬度", "Centre latitude", DataType.double, authority=ZRZY),
    ),
    update_cycle=UpdateCycle.yearly,
    keywords=("空间地理", "行政区划"),
)

GRIDS = LibrarySpec(
    slug="grids",
    resource_code="103005-LYZRZY-000012",
    registrar=ZRZY,
    name_zh="网格",
    name_en="Management grids",
    key=("wgbm",),
    fields=(
        _f("wgbm", "网格编码", "Grid code", length=20),
        _f("wgmc", "网格名称", "Name", length=64, authority=ZRZY),
        _f("qhdm", "区划代码", "Region code", length=6, authority=ZRZY),
        _f("zxjd", "中心经度", "Centre longitude", DataType.double, authority=ZRZY),
        _f("zxwd", "中心纬度", "Centre latitude", DataType.double, authority=ZRZY),
        _f("mj", "面积（平方公里）", "Area (km²)", _N, authority=ZRZY),
    ),
    region_of_key=(0, 6),
    update_cycle=UpdateCycle.monthly,
    keywords=("空间地理", "网格"),
)

ADDRESSES = LibrarySpec(
    slug="addresses",
    resource_code="103006-LYZRZY-000013",
    registrar=ZRZY,
    name_zh="地址和楼栋",
    name_en="Addresses and buildings",
    key=("dzbm",),
    fields=(
        _f("dzbm", "地址编码", "Address code", length=24),
        _f("bzdz", "标准地址", "Standard address", length=128, authority=ZRZY),
        _f("qhdm", "区划代码", "Region code", length=6, authority=ZRZY),
        _f("wgbm", "网格编码", "Grid code", length=20, authority=ZRZY),
        _f("ldcs", "楼栋层数", "Floors", _I, authority=ZRZY),
        _f("jd", "经度", "Longitude", DataType.double, authority=ZRZY),
        _f("wd", "纬度", "Latitude", DataType.double, authority=ZRZY),
    ),
    region_of_key=(0, 6),
    update_cycle=UpdateCycle.monthly,
    keywords=("空间地理", "地址", "楼栋"),
)

POIS = LibrarySpec(
    slug="pois",
    resource_code="103007-LYZRZY-000014",
    registrar=ZRZY,
    name_zh="兴趣点",
    name_en="Points of interest",
    key=("poibm",),
    fields=(
        _f("poibm", "兴趣点编码", "POI code", length=24),
        _f("mc", "名称", "Name", length=128, authority=ZRZY),
        _f("lb", "类别", "Category", length=16, authority=ZRZY),
        _f("qhdm", "区划代码", "Region code", length=6, authority=ZRZY, indexed=True),
        _f("jd", "经度", "Longitude", DataType.double, authority=ZRZY),
        _f("wd", "纬度", "Latitude", DataType.double, authority=ZRZY),
    ),
    region_of_key=(0, 6),
    update_cycle=UpdateCycle.monthly,
    keywords=("空间地理", "兴趣点", "POI"),
)

LIBRARIES: tuple[LibrarySpec, ...] = (
    POPULATION,
    LEGAL_ENTITIES,
    ECONOMY,
    REGIONS,
    GRIDS,
    ADDRESSES,
    POIS,
)
BY_SLUG: dict[str, LibrarySpec] = {lib.slug: lib for lib in LIBRARIES}
BY_RESOURCE: dict[str, LibrarySpec] = {lib.resource_code: lib for lib in LIBRARIES}
FEEDS: dict[str, tuple[LibrarySpec, FeedSpec]] = {
    feed.resource_code: (lib, feed) for lib in LIBRARIES for feed in lib.feeds
}
