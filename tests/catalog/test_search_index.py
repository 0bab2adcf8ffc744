"""The in-memory search index: it follows every write (from another engine, as another
process would, and inside the writer's own transaction), and what it answers equals a
plain reading of the rules over every resource: visibility, filters, terms, facet
counts, every sort, keyset and offset pages."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from cityhub.catalog.models import Resource, ResourceKeyword
from cityhub.catalog.search import SORTS, SearchQuery, search
from cityhub.catalog.service import Actor, can_see
from cityhub.catalog.vocab import (
    FACETS,
    Category,
    OpenType,
    ResourceFormat,
    ShareType,
    Status,
    UpdateCycle,
)
from cityhub.directory.models import Organization
from cityhub.security.models import Role

from .helpers import AIR, POPULATION, Headers

Publish = Callable[..., dict[str, Any]]


def _names(client: TestClient, headers: Headers, **params: Any) -> list[str]:
    answer = client.get("/api/v1/resources", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return [item["name"] for item in answer.json()["items"]]


def test_a_write_from_another_engine_is_seen_by_the_next_search(
    client: TestClient, people: dict[str, Headers], publish: Publish, db: sessionmaker[Session]
) -> None:
    publish(POPULATION)
    publish(AIR, "draft")
    viewer = people["viewer"]
    assert _names(client, viewer, q="人口基础") == ["人口基础信息"]  # the app's index is built
    # `db` is an engine of its own, as another process's would be; plain SQL, no service.
    with db.begin() as session:
        session.execute(
            update(Resource)
            .where(Resource.code == POPULATION["code"])
            .values(name="常住人口信息", search_text="常住人口信息")
        )
        session.execute(
            update(Resource).where(Resource.code == AIR["code"]).values(status=Status.published)
        )
        session.execute(delete(ResourceKeyword).where(ResourceKeyword.keyword == "户籍"))
    assert _names(client, viewer, q="人口基础") == []
    assert _names(client, viewer, q="常住人口") == ["常住人口信息"]
    assert _names(client, viewer, q="空气质量") == ["空气质量监测数据"]  # now published
    assert _names(client, viewer, keyword="户籍") == []
    with db.begin() as session:
        session.execute(
            update(Resource).where(Resource.code == AIR["code"]).values(status=Status.withdrawn)
        )
    assert _names(client, viewer, q="空气质量") == []


def test_a_transaction_sees_its_own_writes_and_a_rollback_leaves_no_trace(
    publish: Publish, db: sessionmaker[Session]
) -> None:
    publish(POPULATION)
    admin = Actor("admin", None, frozenset({Role.platform_admin}))
    query = SearchQuery(q="流动人口")
    with db() as session:
        assert search(session, query, admin, limit=10).total == 0
        resource = session.scalars(select(Resource)).one()
        resource.search_text += "\n流动人口"  # flushed by the search, not committed
        assert search(session, query, admin, limit=10).total == 1
        session.rollback()
    with db() as session:  # the index made inside that transaction does not pass for current
        assert search(session, query, admin, limit=10).total == 0
        assert search(session, SearchQuery(q="人口基础"), admin, limit=10).total == 1


# -- a plain reading of the rules, to compare with ------------------------------------------

WORDS = ["人口", "法人", "信用", "统一社会信用代码", "空气质量", "交通", "水", "Ab", "ab", "企业"]
REGIONS = ["371300", "371302", "371311", "371312"]


def _random_catalog(session: Session, rng: random.Random, n: int) -> None:
    orgs = list(session.scalars(select(Organization)))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(n):
        words = rng.sample(WORDS, rng.randint(0, 3))
        name = "".join(words[:2]) + rng.choice(["信息", "数据", "", "Ab"]) + str(i % 7)
        published = rng.random() < 0.6
        resource = Resource(
            code=f"101001-X-{i:06d}",
            name=name,
            provider_id=rng.choice(orgs).id,
            summary=" ".join(words),
            category=rng.choice(list(Category)),
            format=rng.choice(list(ResourceFormat)),
            share_type=rng.choice(list(ShareType)),
            open_type=rng.choice(list(OpenType)),
            update_cycle=rng.choice(list(UpdateCycle)),
            status=Status.published if published else rng.choice(list(Status)),
            publish_date=rng.choice([None, date(2026, 3, rng.randint(1, 3))]),
            # Few distinct times: ties, broken by id, in every sort.
            updated_at=start + timedelta(hours=rng.randint(0, 5)),
            created_by="test",
            updated_by="test",
        )
        resource.search_text = f"{name}\n{resource.summary}".lower()
        resource.keyword_rows = [
            ResourceKeyword(keyword=k, position=p) for p, k in enumerate(rng.sample(WORDS, 2))
        ]
        resource.set_regions(rng.sample(REGIONS, rng.randint(0, 2)))
        session.add(resource)


def _expected(
    resources: list[Resource], orgs: dict[int, str], query: SearchQuery, actor: Actor | None
) -> tuple[list[int], dict[str, Counter[Any]]]:
    """(ids in order, facet counts) by the rules, resource by resource."""
    terms = [t.lower() for t in query.terms]
    hits = [
        r
        for r in resources
        if can_see(actor, r)
        and all(t in r.search_text for t in terms)
        and (not query.providers or orgs[r.provider_id] in query.providers)
        and (not query.categories or r.category in query.categories)
        and (not query.share_types or r.share_type in query.share_types)
        and (not query.statuses or r.status in query.statuses)
        and (not query.regions or set(query.regions) & set(r.region_codes))
        and all(k in r.keywords for k in query.keywords)
    ]
    sort = query.effective_sort
    longest = max(terms, key=len) if terms else ""

    def key(r: Resource) -> Any:
        if sort == "relevance":
            if not terms:
                return 0
            name = r.name.lower()
            tier = (
                0
                if name == longest
                else 1
                if name.startswith(longest)
                else 2
                if longest in name
                else 3
            )
            return tier * 1000 + min(len(r.name), 999)
        if sort == "publish_date":
            return r.publish_date or date(1, 1, 1)
        if sort == "updated":
            return r.updated_at.replace(tzinfo=None)
        return getattr(r, sort)

    ordered = sorted(
        hits, key=lambda r: (key(r), r.id), reverse=sort in ("publish_date", "updated")
    )
    counts: dict[str, Counter[Any]] = {
        "provider": Counter(orgs[r.provider_id] for r in hits),
        "category": Counter(r.category.value for r in hits),
        "share_type": Counter(r.share_type.value for r in hits),
        "open_type": Counter(r.open_type.value for r in hits),
        "update_cycle": Counter(r.update_cycle.value for r in hits),
        "format": Counter(r.format.value for r in hits),
        "region": Counter(c for r in hits for c in r.region_codes),
        "keyword": Counter(k for r in hits for k in r.keywords),
    }
    return [r.id for r in ordered], counts


@pytest.mark.usefixtures("people")  # its organizations provide the resources
def test_searches_equal_the_rules_applied_resource_by_resource(
    db: sessionmaker[Session],
) -> None:
    rng = random.Random(20)
    with db.begin() as session:
        _random_catalog(session, rng, 120)
    with db() as session:
        resources = list(session.scalars(select(Resource)))
        orgs = {o.id: o.code for o in session.scalars(select(Organization))}
        some_org = next(iter(orgs))
        actors = [
            None,
            Actor("viewer", some_org, frozenset({Role.viewer})),
            Actor("nobody", None, frozenset()),
            Actor("auditor", None, frozenset({Role.auditor})),
        ]
        queries = [SearchQuery(facets=FACETS)]
        queries += [SearchQuery(q=w, facets=FACETS) for w in WORDS]
        queries += [
            SearchQuery(q="人口 信息", facets=FACETS),
            SearchQuery(q="信用", categories=(Category.basic, Category.topic), facets=FACETS),
            SearchQuery(providers=(orgs[some_org],), regions=("371302",), facets=FACETS),
            SearchQuery(q="数据", share_types=(ShareType.none,), statuses=(Status.draft,)),
            SearchQuery(keywords=("交通",), facets=FACETS),
            SearchQuery(q="ab", keywords=("人口", "水"), facets=FACETS),
        ]
        for base in queries:
            for sort in SORTS:
                query = SearchQuery(**{**base.__dict__, "sort": sort})
                for actor in actors:
                    ids, counts = _expected(resources, orgs, query, actor)
                    first = search(session, query, actor, limit=20)
                    assert first.total == len(ids), (query, actor)
                    for name, values in first.facets.items():
                        got = {v["value"]: v["count"] for v in values}
                        assert got == dict(counts[name]), (query, actor, name)
                    seen, page = [], first
                    while True:  # keyset pages
                        seen += [r.id for r in page.resources]
                        if page.next_key is None:
                            break
                        page = search(session, query, actor, limit=20, after=page.next_key)
                    assert seen == ids, (query, actor)
                    for offset in (7, len(ids) - 3):  # offset pages (CKAN's start)
                        if offset >= 0:
                            got_ids = search(session, query, actor, limit=7, offset=offset)
                            assert [r.id for r in got_ids.resources] == ids[offset : offset + 7]
