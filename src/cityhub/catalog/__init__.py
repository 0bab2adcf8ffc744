"""The catalog of information resources (信息资源目录, guideline 3.11 and 4.1.1 b5).

Rooms: `vocab` (controlled vocabularies), `codes` (the resource code), `masking` (item
masking rules, vectorized with Polars), `models`, `schemas`, `service` (metadata,
permissions, visibility), `workflow` (publication), `versions` (snapshots, diffs,
digests), `search` (full text and facets), `present` (what the API and pages show),
`api` (/api/v1/resources, DCAT), `ckan` + `ckan_shapes` (CKAN Action API), `dcat`
(DCAT-AP 3), `pages` + `pages_edit` + `portal` (portal pages), `cli` (`cityhub catalog`).
See docs/catalog.md.
"""
