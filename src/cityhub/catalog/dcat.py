"""DCAT-AP 3 export of the catalog, serialized by rdflib as JSON-LD or Turtle.

Mapping:
    catalog                 dcat:Catalog (dct:title, dct:description, dct:publisher, dcat:dataset)
    resource                dcat:Dataset
      code                  dct:identifier
      name / summary        dct:title / dct:description (@zh)
      provider              dct:publisher → foaf:Agent, foaf:Organization (foaf:name @zh, @en)
      keywords              dcat:keyword (@zh)
      spatial coverage      dct:spatial → dct:Location (skos:prefLabel; /api/v1/regions/{code})
      update cycle          dct:accrualPeriodicity (EU frequency vocabulary)
      open type             dct:accessRights (EU access-right vocabulary)
      category              dcat:theme → skos:Concept of cityhub's category scheme
      publish date          dct:issued (xsd:date); last publication dct:modified (xsd:dateTime)
      sharing method        dcat:distribution → dcat:Distribution (dcat:accessURL, dct:format)
      portal page           dcat:landingPage
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, SKOS, XSD

from cityhub.catalog.labels import labels
from cityhub.catalog.models import Resource
from cityhub.catalog.vocab import OpenType, ResourceFormat, UpdateCycle
from cityhub.core.times import as_utc

DCAT_VERSION: Final = URIRef(f"{DCAT}version")  # DCAT 3; newer than rdflib's namespace
FREQUENCY: Final = Namespace("http://publications.europa.eu/resource/authority/frequency/")
ACCESS_RIGHT: Final = Namespace("http://publications.europa.eu/resource/authority/access-right/")
FILE_TYPE: Final = Namespace("http://publications.europa.eu/resource/authority/file-type/")

FREQUENCIES: Final = {
    UpdateCycle.realtime: FREQUENCY.UPDATE_CONT,
    UpdateCycle.daily: FREQUENCY.DAILY,
    UpdateCycle.weekly: FREQUENCY.WEEKLY,
    UpdateCycle.monthly: FREQUENCY.MONTHLY,
    UpdateCycle.quarterly: FREQUENCY.QUARTERLY,
    UpdateCycle.yearly: FREQUENCY.ANNUAL,
}
ACCESS_RIGHTS: Final = {
    OpenType.open: ACCESS_RIGHT.PUBLIC,
    OpenType.conditional: ACCESS_RIGHT.RESTRICTED,
    OpenType.closed: ACCESS_RIGHT.NON_PUBLIC,
}
JSONLD_CONTEXT: Final = {
    "dcat": str(DCAT),
    "dct": str(DCTERMS),
    "foaf": str(FOAF),
    "skos": str(SKOS),
    "xsd": str(XSD),
}
MEDIA_TYPES: Final = {"jsonld": "application/ld+json", "ttl": "text/turtle; charset=utf-8"}


class Links:
    """Absolute URLs of the things the graph names, from the server's base URL."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")

    def catalog(self) -> URIRef:
        return URIRef(f"{self.base}/api/v1/catalog")

    def dataset(self, code: str) -> URIRef:
        return URIRef(f"{self.base}/api/v1/resources/{code}")

    def page(self, code: str) -> URIRef:
        return URIRef(f"{self.base}/catalog/{code}")

    def rows(self, code: str) -> URIRef:
        return URIRef(f"{self.base}/api/v1/resources/{code}/rows")

    def organization(self, code: str) -> URIRef:
        return URIRef(f"{self.base}/api/v1/organizations/{code}")

    def region(self, code: str) -> URIRef:
        return URIRef(f"{self.base}/api/v1/regions/{code}")

    def category(self, value: str) -> URIRef:
        return URIRef(f"{self.base}/catalog?category={value}")


def _graph() -> Graph:
    graph = Graph()
    for prefix, uri in JSONLD_CONTEXT.items():
        graph.bind(prefix, uri)
    return graph


def _add_dataset(graph: Graph, resource: Resource, links: Links, regions: dict[str, str]) -> URIRef:
    node = links.dataset(resource.code)
    graph.add((node, RDF.type, DCAT.Dataset))
    graph.add((node, DCTERMS.identifier, Literal(resource.code)))
    graph.add((node, DCTERMS.title, Literal(resource.name, lang="zh")))
    if resource.summary:
        graph.add((node, DCTERMS.description, Literal(resource.summary, lang="zh")))
    provider = resource.provider
    agent = links.organization(provider.code)
    graph.add((node, DCTERMS.publisher, agent))
    graph.add((agent, RDF.type, FOAF.Agent))
    graph.add((agent, RDF.type, FOAF.Organization))
    graph.add((agent, FOAF.name, Literal(provider.name_zh, lang="zh")))
    if provider.name_en:
        graph.add((agent, FOAF.name, Literal(provider.name_en, lang="en")))
    graph.add((agent, DCTERMS.identifier, Literal(provider.code)))
    for keyword in resource.keywords:
        graph.add((node, DCAT.keyword, Literal(keyword, lang="zh")))
    for code in resource.region_codes:
        place = links.region(code)
        graph.add((node, DCTERMS.spatial, place))
        graph.add((place, RDF.type, DCTERMS.Location))
        graph.add((place, DCTERMS.identifier, Literal(code)))
        if code in regions:
            graph.add((place, SKOS.prefLabel, Literal(regions[code], lang="zh")))
    graph.add((node, DCTERMS.accrualPeriodicity, FREQUENCIES[resource.update_cycle]))
    graph.add((node, DCTERMS.accessRights, ACCESS_RIGHTS[resource.open_type]))
    theme = links.category(resource.category.value)
    zh, en = labels("category", resource.category)
    graph.add((node, DCAT.theme, theme))
    graph.add((theme, RDF.type, SKOS.Concept))
    graph.add((theme, SKOS.prefLabel, Literal(zh, lang="zh")))
    graph.add((theme, SKOS.prefLabel, Literal(en, lang="en")))
    if resource.publish_date:
        graph.add((node, DCTERMS.issued, Literal(resource.publish_date, datatype=XSD.date)))
    if resource.published_at:
        modified = as_utc(resource.published_at)
        graph.add((node, DCTERMS.modified, Literal(modified, datatype=XSD.dateTime)))
    graph.add((node, DCAT.landingPage, links.page(resource.code)))
    graph.add((node, DCAT_VERSION, Literal(str(resource.version))))
    _add_distribution(graph, node, resource, links)
    return node


def _add_distribution(graph: Graph, dataset: URIRef, resource: Resource, links: Links) -> None:
    dist = BNode(f"dist-{resource.code}")
    graph.add((dataset, DCAT.distribution, dist))
    graph.add((dist, RDF.type, DCAT.Distribution))
    zh, _ = labels("format", resource.format)
    graph.add((dist, DCTERMS.title, Literal(f"{resource.name}（{zh}）", lang="zh")))
    if resource.format == ResourceFormat.table:
        graph.add((dist, DCAT.accessURL, links.rows(resource.code)))
        graph.add((dist, DCTERMS["format"], FILE_TYPE.JSON))
        graph.add(
            (
                dist,
                DCAT.mediaType,
                URIRef("https://www.iana.org/assignments/media-types/application/json"),
            )
        )
    else:
        graph.add((dist, DCAT.accessURL, links.page(resource.code)))
    graph.add((dist, DCTERMS.accessRights, ACCESS_RIGHTS[resource.open_type]))


def catalog_graph(
    resources: Iterable[Resource], links: Links, regions: dict[str, str], title: tuple[str, str]
) -> Graph:
    """The whole catalog: one dcat:Catalog listing every dataset given."""
    graph = _graph()
    catalog = links.catalog()
    graph.add((catalog, RDF.type, DCAT.Catalog))
    graph.add((catalog, DCTERMS.title, Literal(title[0], lang="zh")))
    graph.add((catalog, DCTERMS.title, Literal(title[1], lang="en")))
    graph.add(
        (
            catalog,
            DCTERMS.description,
            Literal("城市大脑公共信息平台的政务信息资源目录", lang="zh"),
        )
    )
    for resource in resources:
        graph.add((catalog, DCAT.dataset, _add_dataset(graph, resource, links, regions)))
    return graph


def dataset_graph(resource: Resource, links: Links, regions: dict[str, str]) -> Graph:
    graph = _graph()
    _add_dataset(graph, resource, links, regions)
    return graph


def serialize(graph: Graph, fmt: str) -> str:
    """`fmt` is "jsonld" or "ttl"."""
    if fmt == "jsonld":
        return graph.serialize(format="json-ld", context=JSONLD_CONTEXT, indent=2)
    return graph.serialize(format="turtle")
