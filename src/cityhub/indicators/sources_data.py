"""Built-in indicators of the data platform: base libraries, catalog, sharing, metering,
exchange and ledger. Each reads its package's tables (read-only), in the recompute job."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import Table, func, inspect, select
from sqlalchemy.orm import Session

from cityhub.catalog.models import Resource
from cityhub.catalog.vocab import Status
from cityhub.exchange.models import Batch
from cityhub.exchange.vocab import BatchStatus
from cityhub.gateway.models import RequestStatus, SharingRequest, UsageRecord
from cityhub.indicators.registry import (
    Compute,
    Context,
    Granularity,
    Indicator,
    Reading,
    Refresh,
)
from cityhub.ledger.models import Ledger, LedgerHead
from cityhub.library import golden
from cityhub.library.specs import ECONOMY, LEGAL_ENTITIES, POPULATION, LibrarySpec

HOURLY = 3600.0
MINUTE = 60.0


def _library_table(session: Session, spec: LibrarySpec, *needed: str) -> Table | None:
    """The golden-record table of a library, or None before anything was delivered (or
    while a resource of that code holds a plain table without the `needed` columns)."""
    inspector = inspect(session.connection())
    if not inspector.has_table(spec.table_spec.name):
        return None
    present = {c["name"] for c in inspector.get_columns(spec.table_spec.name)}
    return golden.table(spec.layout) if set(needed) <= present else None


def by_district(
    ctx: Context, counts: Iterable[tuple[str | None, float]], total: float | None = None
) -> Iterator[Reading]:
    """Readings of every district (zero when absent) and the city total."""
    found = {code: float(n) for code, n in counts if code}
    for code in ctx.districts:
        yield Reading(code, found.get(code, 0.0))
    yield Reading(ctx.city_code, float(sum(found.values()) if total is None else total))


def residents(session: Session, ctx: Context) -> Iterator[Reading]:
    table = _library_table(session, POPULATION, "hjqh", "swrq")
    if table is None:
        return
    region, died = table.c.hjqh, table.c.swrq
    rows = session.execute(select(region, func.count()).where(died.is_(None)).group_by(region))
    pairs = [(code, n) for code, n in rows]
    yield from by_district(ctx, pairs, total=sum(n for _, n in pairs))


def market_entities(session: Session, ctx: Context) -> Iterator[Reading]:
    table = _library_table(session, LEGAL_ENTITIES, golden.REGION, "djzt")
    if table is None:
        return
    region, status = table.c[golden.REGION], table.c.djzt
    alive = status.is_(None) | status.not_in(("注销", "吊销"))  # deregistered, revoked
    rows = session.execute(select(region, func.count()).where(alive).group_by(region))
    pairs = [(code, n) for code, n in rows]
    yield from by_district(ctx, pairs, total=sum(n for _, n in pairs))


def economy(code: str) -> Compute:
    """The latest statistical period of one 统计局 indicator, per region."""

    def compute(session: Session, ctx: Context) -> Iterator[Reading]:
        table = _library_table(session, ECONOMY, "tjq", "zbdm", "qhdm", "zbz")
        if table is None:
            return
        latest = session.scalar(select(func.max(table.c.tjq)).where(table.c.zbdm == code))
        if latest is None:
            return
        rows = session.execute(
            select(table.c.qhdm, table.c.zbz).where(table.c.zbdm == code, table.c.tjq == latest)
        )
        wanted = {*ctx.districts, ctx.city_code}
        for region, value in rows:
            if region in wanted and value is not None:
                yield Reading(region, float(value), note=str(latest))

    return compute


def published_resources(session: Session, ctx: Context) -> Iterator[Reading]:
    n = session.scalar(select(func.count()).where(Resource.status == Status.published))
    yield Reading(ctx.city_code, float(n or 0))


def requests_handled(session: Session, ctx: Context) -> Iterator[Reading]:
    done = (RequestStatus.granted, RequestStatus.approved, RequestStatus.rejected)
    n = session.scalar(select(func.count()).where(SharingRequest.status.in_(done)))
    yield Reading(ctx.city_code, float(n or 0))


def calls_today(session: Session, ctx: Context) -> Iterator[Reading]:
    day = ctx.today
    n = session.scalar(select(func.count()).where(UsageRecord.day == day))
    yield Reading(ctx.city_code, float(n or 0))


def _batches_today(ctx: Context) -> list[object]:
    return [
        Batch.status == BatchStatus.completed,
        Batch.finished_at >= ctx.day_start,
        Batch.finished_at < ctx.day_end,
    ]


def deliveries_today(session: Session, ctx: Context) -> Iterator[Reading]:
    n = session.scalar(select(func.count()).where(*_batches_today(ctx)))  # type: ignore[arg-type]
    yield Reading(ctx.city_code, float(n or 0))


def rows_accepted_today(session: Session, ctx: Context) -> Iterator[Reading]:
    stmt = select(func.coalesce(func.sum(Batch.accepted), 0)).where(*_batches_today(ctx))  # type: ignore[arg-type]
    yield Reading(ctx.city_code, float(session.scalar(stmt) or 0))


def ledger_size(session: Session, ctx: Context) -> Iterator[Reading]:
    n = session.scalar(select(func.coalesce(func.sum(Ledger.size), 0)))
    yield Reading(ctx.city_code, float(n or 0))


def signed_head(session: Session, ctx: Context) -> Iterator[Reading]:
    head = session.scalars(select(LedgerHead).order_by(LedgerHead.id.desc()).limit(1)).first()
    if head is not None:
        yield Reading(ctx.city_code, float(head.size), note=head.root.hex())


def _ind(code: str, zh: str, en: str, unit: str, d_zh: str, d_en: str, **kw: object) -> Indicator:
    return Indicator(code, zh, en, unit, d_zh, d_en, **kw)  # type: ignore[arg-type]


_D = Granularity.district
_ECON = (
    ("GDP", "gdp", "地区生产总值", "GDP", "亿元", "100M CNY", 40),
    ("SHXFP", "retail", "社会消费品零售总额", "Retail sales of consumer goods", "亿元",
     "100M CNY", 41),
    ("YBGGYS", "budget_revenue", "一般公共预算收入", "General public budget revenue", "亿元",
     "100M CNY", 42),
    ("GYZJZ", "industry_growth", "规模以上工业增加值增速", "Industrial value added growth",
     "%", "%", 43),
)  # fmt: skip

INDICATORS: tuple[Indicator, ...] = (
    _ind("library.residents", "户籍人口", "Registered residents", "人",
         "人口基础库中在世人员数，按户籍地区划统计。",
         "Living people in the population base library, by registered region.",
         source="library: 101001-LYGA-000001 (hjqh, swrq)", granularity=_D, compute=residents,
         refresh=Refresh(("library.merged",), every=HOURLY, debounce=5.0),
         link="/library/population", unit_en="people", order=10),
    _ind("library.market_entities", "市场主体", "Market entities", "户",
         "法人基础库中未注销、未吊销的市场主体数，按登记机关区划统计。",
         "Legal entities not deregistered or revoked, by registering region.",
         source="library: 102007-LYSJ-000001 (_region, djzt)", granularity=_D,
         compute=market_entities,
         refresh=Refresh(("library.merged",), every=HOURLY, debounce=5.0),
         link="/library/legal_entities", unit_en="entities", order=20),
    *(
        _ind(f"economy.{slug}", zh, en, unit, f"统计局最新统计期的{zh}。",
             f"{en}, latest statistical period (统计局).",
             source=f"library: 106003-LYTJ-000011 (zbdm={code})", granularity=_D,
             refresh=Refresh(("library.merged",), every=HOURLY, debounce=5.0),
             compute=economy(code), link="/library/economy", unit_en=unit_en, order=order)
        for code, slug, zh, en, unit, unit_en, order in _ECON
    ),
    _ind("catalog.published", "已发布资源", "Published resources", "个",
         "目录中已发布的信息资源数。", "Information resources published in the catalog.",
         source="catalog: catalog_resources (status)", compute=published_resources,
         refresh=Refresh(("catalog.resource.*",), every=HOURLY), link="/catalog",
         unit_en="resources", order=50),
    _ind("gateway.requests_handled", "共享申请办结", "Sharing requests handled", "件",
         "已批准、无条件共享或不予共享的共享申请数。",
         "Sharing requests granted, approved or rejected.",
         source="gateway: gateway_requests (status)", compute=requests_handled,
         refresh=Refresh(("gateway.request.*",), every=HOURLY), link="/inbox",
         unit_en="requests", order=60),
    _ind("gateway.calls_today", "今日接口调用", "API calls today", "次",
         "本地时间今日经接口网关计量的调用次数。",
         "Calls metered by the gateway today (local time).",
         source="gateway: gateway_usage (day)", compute=calls_today,
         refresh=Refresh(every=MINUTE), link="/usage", unit_en="calls", daily=True, order=70),
    _ind("exchange.deliveries_today", "今日数据交付", "Deliveries today", "批",
         "本地时间今日完成的交换批次数。", "Exchange batches completed today (local time).",
         source="exchange: exchange_batches (status, finished_at)", compute=deliveries_today,
         refresh=Refresh(("exchange.batch.*",), every=MINUTE, debounce=1.0),
         link="/exchange", unit_en="batches", daily=True, order=80),
    _ind("exchange.rows_accepted_today", "今日入库数据", "Rows accepted today", "条",
         "本地时间今日完成的交换批次中通过校验的数据行数。",
         "Rows accepted by the exchange batches completed today (local time).",
         source="exchange: exchange_batches (accepted)", compute=rows_accepted_today,
         refresh=Refresh(("exchange.batch.*",), every=MINUTE, debounce=1.0),
         link="/exchange", unit_en="rows", daily=True, order=90),
    _ind("ledger.size", "存证记录", "Ledger entries", "条",
         "区块链存证日志中的记录总数。", "Entries in the notarization logs.",
         source="ledger: ledgers (size)", compute=ledger_size,
         refresh=Refresh(("ledger.head.*",), every=MINUTE), link="/ledger",
         unit_en="entries", order=130),
    _ind("ledger.signed_head", "最新签名树头", "Latest signed tree head", "条",
         "最新签名树头覆盖的记录数；备注为其根哈希。",
         "Entries covered by the latest signed tree head; the note is its root hash.",
         source="ledger: ledger_heads (size, root)", compute=signed_head,
         refresh=Refresh(("ledger.head.*",), every=MINUTE), link="/ledger",
         unit_en="entries", order=140),
)  # fmt: skip
