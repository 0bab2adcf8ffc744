"""Theme (主题), special-topic (专题) and common-business (通用业务) libraries, declared as
derivations of the base libraries: inputs, which output keys a change of an input row
affects, and a transform computing the output rows of given keys (Polars, or SQL
aggregates where a group spans millions of rows).

They are compiled by the big-data bureau (the platform's operator of public databases)
and published in the catalog like any resource; `derive` keeps them up to date.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

import polars as pl
from sqlalchemy import Connection, bindparam, text

from cityhub.catalog.vocab import Category, DataType, Sensitivity
from cityhub.library import datastore as ds
from cityhub.library import golden
from cityhub.library.specs import LEGAL_ENTITIES, POIS, POPULATION, FieldSpec

OWNER = "LYDSJ"  # 临沂市大数据局
SHELTER = "避难场所"

# (input stored resource code, changed rows) → output keys they affect
Affected = Callable[[str, pl.DataFrame], pl.Series]
# (connection, output keys or None for all) → output rows, in chunks
Compute = Callable[[Connection, pl.Series | None], Iterator[pl.DataFrame]]


@dataclass(frozen=True)
class DerivationSpec:
    slug: str
    resource_code: str
    category: Category
    name_zh: str
    name_en: str
    summary_zh: str
    key: tuple[str, ...]
    fields: tuple[FieldSpec, ...]
    inputs: tuple[str, ...]  # stored resource codes
    affected: Affected
    compute: Compute
    owner: str = OWNER
    keywords: tuple[str, ...] = ()

    @property
    def table_spec(self) -> ds.TableSpec:
        return ds.TableSpec(self.resource_code, tuple(f.column_spec for f in self.fields))


def _f(code: str, zh: str, en: str, dt: DataType = DataType.string, **kw: object) -> FieldSpec:
    return FieldSpec(code, zh, en, dt, **kw)  # type: ignore[arg-type]


_SENS = Sensitivity.sensitive
_POP = POPULATION.layout
_LEGAL = LEGAL_ENTITIES.layout


def _inputs(
    conn: Connection, layout: golden.Layout, keys: pl.Series | None
) -> Iterator[pl.DataFrame]:
    """Input rows of `keys` (all rows, in chunks, when None)."""
    if not ds.exists(conn, layout.spec.resource_code):
        return
    if keys is None:
        names = [ds.ROW_ID, *(c.name for c in layout.spec.columns)]
        yield from golden.iterate(conn, layout, names)
    elif keys.len():
        yield golden.fetch(conn, layout, keys)


def _age(born: pl.Expr, today: date) -> pl.Expr:
    """Whole years since `born` on `today`."""
    had_birthday = (born.dt.month() < today.month) | (
        (born.dt.month() == today.month) & (born.dt.day() <= today.day)
    )
    return (pl.lit(today.year) - born.dt.year() - (~had_birthday).cast(pl.Int32)).cast(pl.Int64)


# -- 主题库: 社会保障 ----------------------------------------------------------------------


def _social_rows(people: pl.DataFrame, today: date) -> pl.DataFrame:
    age = _age(pl.col("csrq"), today)
    pension_age = pl.when(pl.col("xb") == "2").then(55).otherwise(60)
    status = (
        pl.when(pl.col("sbzt").is_null())
        .then(pl.lit("未参保"))
        .when(pl.col("swrq").is_not_null())
        .then(pl.lit("停发"))
        .when(pl.col("sbzt") != "参保")
        .then(pl.lit("中断"))
        .when(age >= pension_age)
        .then(pl.lit("领取"))
        .otherwise(pl.lit("缴费"))
    )
    return people.select(
        "gmsfhm", "xm", "xb", age.alias("nl"), "hjqh", "sbzt", "cbrq",
        pl.col("swrq").is_not_null().alias("sfsw"), status.alias("dyzt"),
    )  # fmt: skip


def _social_compute(conn: Connection, keys: pl.Series | None) -> Iterator[pl.DataFrame]:
    today = date.today()
    for people in _inputs(conn, _POP, keys):
        yield _social_rows(people, today)


SOCIAL_SECURITY = DerivationSpec(
    slug="social_security",
    resource_code="203011-LYDSJ-000011",
    category=Category.theme,
    name_zh="社会保障主题库",
    name_en="Social security theme library",
    summary_zh="由人口基础库派生：参保状态、年龄和养老待遇状态（缴费/领取/停发），随人口库变化增量更新。",
    key=("gmsfhm",),
    fields=(
        _f("gmsfhm", "公民身份号码", "ID number", length=18, sensitivity=_SENS,
           masking="keep:first6,last4"),
        _f("xm", "姓名", "Name", length=32, sensitivity=_SENS, masking="name"),
        _f("xb", "性别", "Sex", length=1),
        _f("nl", "年龄", "Age", DataType.integer),
        _f("hjqh", "户籍地区划", "Registered region", length=6),
        _f("sbzt", "社保状态", "Social insurance status", length=8),
        _f("cbrq", "参保日期", "Insured since", DataType.date),
        _f("sfsw", "是否死亡", "Deceased", DataType.boolean),
        _f("dyzt", "养老待遇状态", "Pension status", length=8),
    ),
    inputs=(POPULATION.resource_code,),
    affected=lambda _code, rows: rows.get_column("gmsfhm"),
    compute=_social_compute,
    keywords=("社会保障", "社保", "养老"),
)  # fmt: skip


# -- 主题库: 市场主体信用 -------------------------------------------------------------------

_TAX_POINTS = {"A": 25, "B": 15, "M": 5, "C": -10, "D": -30}


def _credit_rows(firms: pl.DataFrame, today: date) -> pl.DataFrame:
    years = _age(pl.col("clrq"), today).fill_null(0).clip(0, 10)
    score = (
        pl.lit(50)
        + pl.col("nsxydj").replace_strict(_TAX_POINTS, default=0, return_dtype=pl.Int64)
        + pl.when(pl.col("cbrs").fill_null(0) > 0).then(5).otherwise(0)
        + pl.when(pl.col("djzt") == "存续").then(10).otherwise(-40)
        + years
    ).clip(0, 100)
    grade = (
        pl.when(score >= 90)
        .then(pl.lit("A"))
        .when(score >= 75)
        .then(pl.lit("B"))
        .when(score >= 60)
        .then(pl.lit("C"))
        .otherwise(pl.lit("D"))
    )
    return firms.select(
        "tyshxydm", "dwmc", "hydm", "djzt", "nsxydj", "cbrs",
        score.cast(pl.Int64).alias("xypf"), grade.alias("xydj"),
    )  # fmt: skip


def _credit_compute(conn: Connection, keys: pl.Series | None) -> Iterator[pl.DataFrame]:
    today = date.today()
    for firms in _inputs(conn, _LEGAL, keys):
        yield _credit_rows(firms, today)


MARKET_CREDIT = DerivationSpec(
    slug="market_credit",
    resource_code="208011-LYDSJ-000012",
    category=Category.theme,
    name_zh="市场主体信用主题库",
    name_en="Market entity credit theme library",
    summary_zh="由法人基础库派生：登记状态、纳税信用、参保人数综合评分，形成市场主体信用等级。",
    key=("tyshxydm",),
    fields=(
        _f("tyshxydm", "统一社会信用代码", "Unified social credit code", length=18),
        _f("dwmc", "机构名称", "Name", length=128),
        _f("hydm", "行业代码", "Industry (GB/T 4754)", length=5),
        _f("djzt", "登记状态", "Registration status", length=8),
        _f("nsxydj", "纳税信用等级", "Tax credit grade", length=2),
        _f("cbrs", "参保人数", "Insured employees", DataType.integer),
        _f("xypf", "信用评分", "Credit score", DataType.integer),
        _f("xydj", "信用等级", "Credit grade", length=1),
    ),
    inputs=(LEGAL_ENTITIES.resource_code,),
    affected=lambda _code, rows: rows.get_column("tyshxydm"),
    compute=_credit_compute,
    keywords=("信用", "市场主体"),
)


# -- 专题库: 防汛 ---------------------------------------------------------------------------


def _years_before(today: date, years: int) -> str:
    try:
        return today.replace(year=today.year - years).isoformat()
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28).isoformat()


def _grouped(
    conn: Connection, sql: str, column: str, keys: pl.Series | None, **params: object
) -> list[tuple[object, ...]]:
    """Rows of an aggregate `sql` whose `{where}` narrows `column` to `keys` (if given)."""
    stmt = text(sql.replace("{where}", f" AND {column} IN :keys" if keys is not None else ""))
    if keys is not None:
        stmt = stmt.bindparams(bindparam("keys", expanding=True))
        params["keys"] = keys.to_list()
    return [tuple(r) for r in conn.execute(stmt, params)]


def _flood_compute(conn: Connection, keys: pl.Series | None) -> Iterator[pl.DataFrame]:
    today = date.today()
    schema = {"qhdm": pl.String, "hjrk": pl.Int64, "lnrk": pl.Int64, "etrk": pl.Int64}
    people = pl.DataFrame(schema=schema)
    if keys is not None and keys.len() == 0:
        return
    if ds.exists(conn, POPULATION.resource_code):
        table = ds.table_name(POPULATION.resource_code)
        sql = (
            "SELECT hjqh, count(*), sum(CASE WHEN csrq <= :elder THEN 1 ELSE 0 END), "
            f"sum(CASE WHEN csrq > :child THEN 1 ELSE 0 END) FROM {table} "
            "WHERE swrq IS NULL AND hjqh IS NOT NULL{where} GROUP BY hjqh"
        )
        rows = _grouped(
            conn, sql, "hjqh", keys,
            elder=_years_before(today, 65), child=_years_before(today, 14),
        )  # fmt: skip
        people = pl.DataFrame(rows, schema=schema, orient="row")
    shelters = pl.DataFrame(schema={"qhdm": pl.String, "bnzc": pl.Int64})
    if ds.exists(conn, POIS.resource_code):
        sql = (
            f"SELECT qhdm, count(*) FROM {ds.table_name(POIS.resource_code)} "
            "WHERE lb = :kind AND qhdm IS NOT NULL{where} GROUP BY qhdm"
        )
        rows = _grouped(conn, sql, "qhdm", keys, kind=SHELTER)
        shelters = pl.DataFrame(rows, schema=shelters.schema, orient="row")
    out = people.join(shelters, on="qhdm", how="full", coalesce=True).with_columns(
        pl.col("hjrk", "lnrk", "etrk", "bnzc").fill_null(0)
    )
    vulnerable = pl.col("lnrk") + pl.col("etrk")
    per_shelter = vulnerable / pl.max_horizontal(pl.col("bnzc"), pl.lit(1))
    risk = (
        pl.when(per_shelter > 5000)
        .then(pl.lit("高"))
        .when(per_shelter > 2000)
        .then(pl.lit("中"))
        .otherwise(pl.lit("低"))
    )
    yield out.select(
        "qhdm", "hjrk", "lnrk", "etrk", "bnzc",
        vulnerable.alias("zdrq"), risk.alias("fxdj"),
    )  # fmt: skip


def _flood_affected(code: str, rows: pl.DataFrame) -> pl.Series:
    column = "hjqh" if code == POPULATION.resource_code else "qhdm"
    return rows.get_column(column).drop_nulls().alias("key")


FLOOD = DerivationSpec(
    slug="flood",
    resource_code="404011-LYDSJ-000013",
    category=Category.topic,
    name_zh="防汛专题库",
    name_en="Flood control special-topic library",
    summary_zh="按区县汇总户籍人口、老年人和儿童等重点转移人群、避难场所，评估防汛转移安置风险。",
    key=("qhdm",),
    fields=(
        _f("qhdm", "区划代码", "Region code", length=6),
        _f("hjrk", "户籍人口", "Registered residents", DataType.integer),
        _f("lnrk", "65岁以上人口", "Residents aged 65+", DataType.integer),
        _f("etrk", "14岁以下人口", "Residents under 14", DataType.integer),
        _f("bnzc", "避难场所数", "Shelters", DataType.integer),
        _f("zdrq", "重点转移人群", "Priority evacuees", DataType.integer),
        _f("fxdj", "转移安置风险", "Evacuation risk", length=2),
    ),
    inputs=(POPULATION.resource_code, POIS.resource_code),
    affected=_flood_affected,
    compute=_flood_compute,
    keywords=("防汛", "应急", "转移安置"),
)


# -- 通用业务库: 电子证照 --------------------------------------------------------------------

_ID_CARD, _MARRIAGE, _LICENCE = "SFZ-", "JHZ-", "YYZZ-"


def _person_licences(people: pl.DataFrame) -> pl.DataFrame:
    status = pl.when(pl.col("swrq").is_null()).then(pl.lit("有效")).otherwise(pl.lit("注销"))
    cards = people.select(
        (pl.lit(_ID_CARD) + pl.col("gmsfhm")).alias("zzbh"),
        pl.lit("居民身份证").alias("zzlx"),
        pl.col("xm").alias("chr"),
        pl.col("gmsfhm").alias("chrzjhm"),
        pl.lit("临沂市公安局").alias("fzjg"),
        status.alias("zt"),
    )
    married = people.filter(pl.col("hyzk") == "20").select(
        (pl.lit(_MARRIAGE) + pl.col("gmsfhm")).alias("zzbh"),
        pl.lit("结婚证").alias("zzlx"),
        pl.col("xm").alias("chr"),
        pl.col("gmsfhm").alias("chrzjhm"),
        pl.lit("临沂市民政局").alias("fzjg"),
        status.alias("zt"),
    )
    return pl.concat([cards, married])


def _firm_licences(firms: pl.DataFrame) -> pl.DataFrame:
    return firms.select(
        (pl.lit(_LICENCE) + pl.col("tyshxydm")).alias("zzbh"),
        pl.lit("营业执照").alias("zzlx"),
        pl.col("dwmc").alias("chr"),
        pl.col("tyshxydm").alias("chrzjhm"),
        pl.lit("临沂市市场监督管理局").alias("fzjg"),
        pl.when(pl.col("djzt") == "存续")
        .then(pl.lit("有效"))
        .otherwise(pl.lit("注销"))
        .alias("zt"),
    )


def _strip(keys: pl.Series, prefix: str) -> pl.Series:
    return keys.filter(keys.str.starts_with(prefix)).str.strip_prefix(prefix).unique()


def _licence_compute(conn: Connection, keys: pl.Series | None) -> Iterator[pl.DataFrame]:
    people_keys = (
        None
        if keys is None
        else pl.concat([_strip(keys, _ID_CARD), _strip(keys, _MARRIAGE)]).unique()
    )
    firm_keys = None if keys is None else _strip(keys, _LICENCE)
    for people in _inputs(conn, _POP, people_keys):
        rows = _person_licences(people)
        yield rows if keys is None else rows.filter(pl.col("zzbh").is_in(keys.implode()))
    for firms in _inputs(conn, _LEGAL, firm_keys):
        yield _firm_licences(firms)


def _licence_affected(code: str, rows: pl.DataFrame) -> pl.Series:
    if code == LEGAL_ENTITIES.resource_code:
        return (_LICENCE + rows.get_column("tyshxydm")).alias("key")
    ids = rows.get_column("gmsfhm")
    return pl.concat([_ID_CARD + ids, _MARRIAGE + ids]).alias("key")


E_LICENCES = DerivationSpec(
    slug="e_licences",
    resource_code="505011-LYDSJ-000014",
    category=Category.business,
    name_zh="电子证照库",
    name_en="E-licence library",
    summary_zh="居民身份证、结婚证、营业执照等电子证照，由人口和法人基础库派生，证照状态随之更新。",
    key=("zzbh",),
    fields=(
        _f("zzbh", "证照编号", "Licence number", length=32),
        _f("zzlx", "证照类型", "Licence type", length=16),
        _f("chr", "持证主体", "Holder", length=128, sensitivity=_SENS, masking="name"),
        _f("chrzjhm", "持证主体代码", "Holder ID", length=18, sensitivity=_SENS,
           masking="keep:first6,last4"),
        _f("fzjg", "发证机关", "Issued by", length=64),
        _f("zt", "证照状态", "Status", length=4),
    ),
    inputs=(POPULATION.resource_code, LEGAL_ENTITIES.resource_code),
    affected=_licence_affected,
    compute=_licence_compute,
    keywords=("电子证照", "证照"),
)  # fmt: skip

DERIVATIONS: tuple[DerivationSpec, ...] = (SOCIAL_SECURITY, MARKET_CREDIT, FLOOD, E_LICENCES)
BY_SLUG: dict[str, DerivationSpec] = {d.slug: d for d in DERIVATIONS}
BY_RESOURCE: dict[str, DerivationSpec] = {d.resource_code: d for d in DERIVATIONS}
