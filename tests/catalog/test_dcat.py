"""The DCAT-AP 3 export, parsed with rdflib: titles, publishers and the vocabularies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from rdflib import Graph, Literal, URIRef
from rdflib import namespace as ns

from .helpers import AIR, ENTITIES, POPULATION, Headers, body

# rdflib namespaces are used as ns.X: pytest inspects module globals, and a closed
# namespace warns when asked for a name it does not define.
FREQ = "http://publications.europa.eu/resource/authority/frequency/"
ACCESS = "http://publications.europa.eu/resource/authority/access-right/"
BASE = "http://testserver"


@pytest.fixture
def catalog(publish: Callable[..., dict[str, Any]]) -> None:
    publish(POPULATION)
    publish(AIR)
    publish(ENTITIES)
    publish(body(AIR, code="402001-LYSTHJ-000002", name="地表水水质监测数据"), "in_review")


def _graph(text: str, fmt: str) -> Graph:
    graph = Graph()
    graph.parse(data=text, format=fmt)
    return graph


def _titles(graph: Graph) -> dict[str, str]:
    return {
        str(graph.value(ds, ns.DCTERMS.identifier)): str(graph.value(ds, ns.DCTERMS.title))
        for ds in graph.subjects(ns.RDF.type, ns.DCAT.Dataset)
    }


def _publisher_names(graph: Graph, dataset: URIRef) -> set[Literal]:
    agent = graph.value(dataset, ns.DCTERMS.publisher)
    assert agent is not None
    assert (agent, ns.RDF.type, ns.FOAF.Agent) in graph
    assert (agent, ns.RDF.type, ns.FOAF.Organization) in graph
    return set(graph.objects(agent, ns.FOAF.name))  # type: ignore[arg-type]


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize(
    ("path", "fmt"), [("/api/v1/catalog.jsonld", "json-ld"), ("/api/v1/catalog.ttl", "turtle")]
)
def test_the_catalog_in_json_ld_and_turtle(
    client: TestClient, people: dict[str, Headers], path: str, fmt: str
) -> None:
    answer = client.get(path, headers=people["viewer"])
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith(
        "application/ld+json" if fmt == "json-ld" else "text/turtle"
    )
    graph = _graph(answer.text, fmt)
    catalogs = list(graph.subjects(ns.RDF.type, ns.DCAT.Catalog))
    assert catalogs == [URIRef(f"{BASE}/api/v1/catalog")]
    assert Literal("临沂市城市大脑公共信息平台数据目录", lang="zh") in set(
        graph.objects(catalogs[0], ns.DCTERMS.title)
    )
    assert len(list(graph.objects(catalogs[0], ns.DCAT.dataset))) == 3  # published only
    assert _titles(graph) == {
        "101001-LYGA-000001": "人口基础信息",
        "402001-LYSTHJ-000001": "空气质量监测数据",
        "102001-LYSJ-000001": "法人基础信息",
    }
    air = URIRef(f"{BASE}/api/v1/resources/402001-LYSTHJ-000001")
    assert _publisher_names(graph, air) == {Literal("临沂市生态环境局", lang="zh")}
    assert graph.value(air, ns.DCTERMS.accrualPeriodicity) == URIRef(FREQ + "UPDATE_CONT")
    assert graph.value(air, ns.DCTERMS.accessRights) == URIRef(ACCESS + "PUBLIC")
    people_ds = URIRef(f"{BASE}/api/v1/resources/101001-LYGA-000001")
    assert graph.value(people_ds, ns.DCTERMS.accrualPeriodicity) == URIRef(FREQ + "DAILY")
    assert graph.value(people_ds, ns.DCTERMS.accessRights) == URIRef(ACCESS + "NON_PUBLIC")
    keywords = {str(k) for k in graph.objects(people_ds, ns.DCAT.keyword)}
    assert keywords == {"人口", "户籍"}
    spatial = {str(s) for s in graph.objects(people_ds, ns.DCTERMS.spatial)}
    assert spatial == {f"{BASE}/api/v1/regions/371300", f"{BASE}/api/v1/regions/371302"}
    assert graph.value(people_ds, ns.DCTERMS.issued) is not None
    assert graph.value(people_ds, ns.DCTERMS.modified) is not None
    distribution = graph.value(people_ds, ns.DCAT.distribution)
    assert (distribution, ns.RDF.type, ns.DCAT.Distribution) in graph
    assert str(graph.value(distribution, ns.DCAT.accessURL)).endswith(
        "/api/v1/resources/101001-LYGA-000001/rows"
    )
    assert str(graph.value(people_ds, ns.DCAT.landingPage)) == f"{BASE}/catalog/101001-LYGA-000001"


@pytest.mark.usefixtures("catalog")
def test_anonymous_export_holds_only_the_open_part(client: TestClient) -> None:
    graph = _graph(client.get("/api/v1/catalog.ttl").text, "turtle")
    assert set(_titles(graph)) == {"402001-LYSTHJ-000001", "102001-LYSJ-000001"}


@pytest.mark.usefixtures("catalog")
def test_one_resource_by_suffix_and_by_content_negotiation(
    client: TestClient, people: dict[str, Headers]
) -> None:
    code = ENTITIES["code"]
    dataset = URIRef(f"{BASE}/api/v1/resources/{code}")
    for path, headers, fmt in (
        (f"/api/v1/resources/{code}.jsonld", {}, "json-ld"),
        (f"/api/v1/resources/{code}.ttl", {}, "turtle"),
        (f"/api/v1/resources/{code}", {"Accept": "text/turtle"}, "turtle"),
        (f"/api/v1/resources/{code}", {"Accept": "application/ld+json"}, "json-ld"),
        ("/api/v1/catalog", {"Accept": "text/turtle;q=0.9, application/json;q=0.1"}, "turtle"),
    ):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 200, (path, answer.text)
        graph = _graph(answer.text, fmt)
        assert graph.value(dataset, ns.DCTERMS.title) == Literal("法人基础信息", lang="zh")
        assert _publisher_names(graph, dataset) == {Literal("临沂市市场监督管理局", lang="zh")}
        assert graph.value(dataset, ns.DCTERMS.accessRights) == URIRef(ACCESS + "RESTRICTED")
    plain = client.get(f"/api/v1/resources/{code}", headers={"Accept": "application/json"})
    assert plain.headers["content-type"] == "application/json"
    closed = client.get(f"/api/v1/resources/{POPULATION['code']}.ttl")
    assert closed.status_code == 401
    draft = client.get("/api/v1/resources/402001-LYSTHJ-000002.jsonld", headers=people["viewer"])
    assert draft.status_code == 404
