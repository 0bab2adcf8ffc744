"""CKAN shapes: the package, organization and group dictionaries, and the parameters of
package_search (q and fq clauses, rows, start, sort, facet.field) parsed into our search."""

from __future__ import annotations

import json
import re
from typing import Any

from cityhub.catalog.labels import labels
from cityhub.catalog.models import Resource
from cityhub.catalog.search import SearchQuery, Sort
from cityhub.catalog.vocab import (
    Category,
    OpenType,
    ResourceFormat,
    ShareType,
    Status,
    UpdateCycle,
)
from cityhub.core.times import as_utc
from cityhub.directory.models import Organization

MAX_ROWS = 1000
RES_FORMAT = {ResourceFormat.table: "JSON", ResourceFormat.api: "API", ResourceFormat.file: "FILE"}
FORMAT_OF = {v: k for k, v in RES_FORMAT.items()}
# CKAN facet / fq field → our facet name
FIELDS = {
    "organization": "provider",
    "owner_org": "provider",
    "groups": "category",
    "tags": "keyword",
    "res_format": "format",
    "share_type": "share_type",
    "open_type": "open_type",
    "update_cycle": "update_cycle",
    "region": "region",
    "spatial": "region",
}
SORTS: dict[str, Sort] = {
    "score desc, metadata_modified desc": "relevance",
    "score desc": "relevance",
    "relevance asc": "relevance",
    "name asc": "code",  # a CKAN package's name is the resource code
    "title_string asc": "name",
    "metadata_modified desc": "updated",
    "metadata_created desc": "publish_date",
}
_FQ_TOKEN = re.compile(r'(?P<neg>[-+!])?(?P<key>[A-Za-z_.]+):(?:"(?P<quoted>[^"]*)"|(?P<bare>\S+))')


class CkanError(Exception):
    """A CKAN error envelope: `kind` is CKAN's __type."""

    def __init__(self, status: int, kind: str, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.status, self.kind, self.message, self.fields = status, kind, message, fields


def validation_error(field: str, message: str) -> CkanError:
    return CkanError(409, "Validation Error", f"{field}: {message}", **{field: [message]})


# -- dictionaries -------------------------------------------------------------------------


def iso_time(value: Any) -> str | None:
    return as_utc(value).replace(tzinfo=None).isoformat() if value is not None else None


def organization_dict(org: Organization, package_count: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": org.code,
        "name": org.code,
        "title": org.name_zh,
        "display_name": org.name_zh,
        "description": org.name_en,
        "type": "organization",
        "is_organization": True,
        "state": "active",
        "approval_status": "approved",
        "image_url": "",
        "created": iso_time(org.created_at),
    }
    if package_count is not None:
        out["package_count"] = package_count
    return out


def group_dict(category: Category, package_count: int | None = None) -> dict[str, Any]:
    zh, en = labels("category", category)
    out: dict[str, Any] = {
        "id": category.value,
        "name": category.value,
        "title": zh,
        "display_name": zh,
        "description": en,
        "type": "group",
        "is_organization": False,
        "state": "active",
        "approval_status": "approved",
        "image_display_url": "",
    }
    if package_count is not None:
        out["package_count"] = package_count
    return out


def _state(resource: Resource) -> str:
    return {Status.published: "active", Status.withdrawn: "deleted"}.get(resource.status, "draft")


def package_dict(resource: Resource, base: str) -> dict[str, Any]:
    code = resource.code
    page = f"{base}/catalog/{code}"
    fmt = RES_FORMAT[resource.format]
    url = (
        f"{base}/api/v1/resources/{code}/rows" if resource.format == ResourceFormat.table else page
    )
    extras = {
        "identifier": code,
        "category": resource.category.value,
        "share_type": resource.share_type.value,
        "share_condition": resource.share_condition,
        "sharing_method": resource.sharing_method.value if resource.sharing_method else "",
        "open_type": resource.open_type.value,
        "open_condition": resource.open_condition,
        "update_cycle": resource.update_cycle.value,
        "publish_date": resource.publish_date.isoformat() if resource.publish_date else "",
        "spatial": ",".join(resource.region_codes),
        "related_codes": ",".join(resource.related_codes or []),
        "status": resource.status.value,
    }
    return {
        "id": code,
        "name": code,
        "title": resource.name,
        "notes": resource.summary,
        "type": "dataset",
        "state": _state(resource),
        "private": resource.open_type == OpenType.closed,
        "url": page,
        "version": str(resource.version),
        "author": resource.provider.name_zh,
        "maintainer": resource.provider.name_zh,
        "license_id": "notspecified",
        "license_title": "License not specified",
        "owner_org": resource.provider.code,
        "organization": organization_dict(resource.provider),
        "groups": [group_dict(resource.category)],
        "tags": [
            {"name": k, "display_name": k, "state": "active", "vocabulary_id": None}
            for k in resource.keywords
        ],
        "num_tags": len(resource.keywords),
        "extras": [{"key": k, "value": v} for k, v in extras.items()],
        "metadata_created": iso_time(resource.created_at),
        "metadata_modified": iso_time(resource.updated_at),
        "resources": [
            {
                "id": f"{code}-{fmt.lower()}",
                "package_id": code,
                "name": resource.name,
                "description": labels("sharing_method", resource.sharing_method)[0]
                if resource.sharing_method
                else "",
                "format": fmt,
                "url": url,
                "state": "active",
                "position": 0,
                "datastore_active": resource.format == ResourceFormat.table,
                "created": iso_time(resource.created_at),
                "last_modified": iso_time(resource.published_at),
            }
        ],
        "num_resources": 1,
        "relationships_as_subject": [],
        "relationships_as_object": [],
    }


# -- parameters ---------------------------------------------------------------------------


def int_param(params: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = params.get(name, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise validation_error(name, "Invalid integer") from None
    if not low <= number <= high:
        raise validation_error(name, f"Must be between {low} and {high}")
    return number


def bool_param(params: dict[str, Any], name: str) -> bool:
    value = params.get(name, False)
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("true", "1", "yes", "on")


def required_param(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if value is None or str(value).strip() == "":
        raise validation_error(name, "Missing value")
    return str(value).strip()


def list_param(params: dict[str, Any], name: str) -> list[str]:
    value = params.get(name)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise validation_error(name, "Must be a JSON list of strings") from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise validation_error(name, "Must be a list of strings")
    return value


def _filters(expression: str, field: str) -> tuple[dict[str, list[str]], str]:
    """CKAN/Solr `key:value` clauses → {our facet: values}, and the words left over."""
    found: dict[str, list[str]] = {}
    for match in _FQ_TOKEN.finditer(expression):
        key = match.group("key")
        value = match.group("quoted") if match.group("quoted") is not None else match.group("bare")
        if match.group("neg") in ("-", "!"):
            raise validation_error(field, f"negated clauses are not supported ({match.group(0)})")
        if key not in FIELDS:
            known = ", ".join(sorted(FIELDS))
            raise validation_error(field, f"unsupported field {key!r}; use {known}")
        found.setdefault(FIELDS[key], []).append(value)
    rest = _FQ_TOKEN.sub(" ", expression).replace("*:*", " ")
    words = [w for w in rest.split() if w not in ("AND", "&&", "+")]
    return found, " ".join(words)


def _enums(kind: type[Any], values: list[str], field: str) -> tuple[Any, ...]:
    try:
        return tuple(kind(v) for v in values)
    except ValueError:
        allowed = ", ".join(e.value for e in kind)
        raise validation_error(field, f"unknown value in {values}; use {allowed}") from None


def search_query_of(params: dict[str, Any]) -> tuple[SearchQuery, list[str]]:
    q = str(params.get("q") or "")
    fq = str(params.get("fq") or "")
    from_q, words = _filters(q, "q")
    from_fq, extra_words = _filters(fq, "fq")
    if extra_words:
        raise validation_error("fq", f"expected field:value clauses, got {extra_words!r}")
    clauses = {k: from_q.get(k, []) + from_fq.get(k, []) for k in set(from_q) | set(from_fq)}
    sort_text = " ".join(str(params.get("sort") or "score desc, metadata_modified desc").split())
    if sort_text not in SORTS:
        raise validation_error("sort", f"unsupported sort {sort_text!r}; use {', '.join(SORTS)}")
    wanted = list_param(params, "facet.field")
    for name in wanted:
        if name not in FIELDS:
            raise validation_error("facet.field", f"unsupported facet {name!r}")
    formats = []
    for value in clauses.get("format", []):
        if value.upper() not in FORMAT_OF:
            raise validation_error("fq", f"res_format {value!r} is not one of JSON, API, FILE")
        formats.append(FORMAT_OF[value.upper()])
    query = SearchQuery(
        q=words,
        providers=tuple(clauses.get("provider", [])),
        categories=_enums(Category, clauses.get("category", []), "fq"),
        share_types=_enums(ShareType, clauses.get("share_type", []), "fq"),
        open_types=_enums(OpenType, clauses.get("open_type", []), "fq"),
        update_cycles=_enums(UpdateCycle, clauses.get("update_cycle", []), "fq"),
        formats=tuple(formats),
        regions=tuple(clauses.get("region", [])),
        keywords=tuple(clauses.get("keyword", [])),
        statuses=(Status.published,),
        sort=SORTS[sort_text],
        facets=tuple(dict.fromkeys(FIELDS[n] for n in wanted)),
    )
    return query, wanted
