"""The interface service (接口服务, guideline 3.11 and 4.1.1 b5): applications and their
keys, rate limits and quotas, sharing requests and approvals (无条件/有条件/不予共享),
grants, the metered dataset query API, CKAN `datastore_search`, and the portal pages.

Rooms: `models`, `schemas`, `apps` (applications and keys), `requests` and `grants`
(sharing), `access` (callers and what they may read), `rows` (the query language and
its answers), `limits` (token bucket and daily quota in the database), `metering` and
`usage`, `workdays` (deadlines), `api`, `rows_api`, `ckan_datastore`, `pages`, `cli`.
"""
