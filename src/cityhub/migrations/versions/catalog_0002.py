"""catalog: PostgreSQL index of one- and two-character grams of the search text, so short
Chinese terms (人口, 水) are served by an index too (trigrams need three characters)

Revision ID: catalog_0002
Revises: catalog_0001
Create Date: 2026-11-26 11:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "catalog_0002"
down_revision: str | Sequence[str] | None = "catalog_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every distinct 1- and 2-character substring: a term of one or two characters is in the
# text exactly when it is one of these, so the GIN index answers it without a recheck.
_GRAMS = """
CREATE OR REPLACE FUNCTION catalog_grams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT g), '{}') FROM (
        SELECT substr(t, i, 1) AS g FROM generate_series(1, length(t)) AS i
        UNION ALL
        SELECT substr(t, i, 2) FROM generate_series(1, length(t) - 1) AS i
    ) AS grams
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite: the FTS5 trigram table and LIKE on a small text are fast enough
    op.execute(_GRAMS)
    op.execute(
        "CREATE INDEX ix_catalog_resources_search_grams ON catalog_resources "
        "USING gin (catalog_grams(search_text))"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_catalog_resources_search_grams")
    op.execute("DROP FUNCTION IF EXISTS catalog_grams(text)")
