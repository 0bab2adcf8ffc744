"""The catalog of information resources (信息资源目录, guideline 3.11 and 4.1.1 b5).

Rooms: `vocab` (controlled vocabularies), `codes` (the resource code), `masking` (item
masking rules, vectorized with Polars), `models`, `schemas`, `service` (metadata and
permissions), `workflow` (publication), `versions`, `search` (full text and facets),
`api` (/api/v1/resources), `ckan` (CKAN Action API), `dcat` (DCAT-AP 3), `pages`.
"""
