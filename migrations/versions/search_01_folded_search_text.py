"""A folded `search_text` per searchable record, with a trigram index on PostgreSQL (issue 14).

Why: SQLite's `lower()` and `LIKE` fold ASCII letters only, so on the embedded default a search
in Russian or Kazakh found nothing unless typed in the stored case, and neither database read ё
as е or «» as "". Each searchable table now keeps its searched fields folded by
`core.folding.fold` (one per line, written on every flush) and a search compares the folded term
with a plain LIKE. On PostgreSQL a GIN index with `gin_trgm_ops` (extension pg_trgm, trusted: a
database owner may create it) serves `LIKE '%…%'`; on SQLite no index can serve an infix LIKE,
and the scan is of one short column per row.

The backfill folds the existing rows with `fold` as `core.folding.fold` reads at this revision
(kept here, not imported: migrations never import the app; tests/test_search.py checks that the
two agree). A later change of `core.folding.fold` needs a migration that refolds.

Revision ID: search_01
Revises: claims_penalty_01
Create Date: 2026-12-07
"""

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "search_01"
down_revision = "claims_penalty_01"
branch_labels = None
depends_on = None

#: Each table's searched fields, in the order of the models' `__searched__` at this revision.
SEARCHED = {
    "institutions": ("name", "address"),
    "parties": ("name", "bin", "email"),
    "projects": ("title", "description"),
    "production_sites": ("name", "activity"),
    "contracts": ("number", "subject"),
    "milestones": ("title",),
    "users": ("name", "email"),
    "cases": ("case_number", "court_name"),
    "outbox_messages": ("subject", "recipients"),
}
BATCH = 1000
SEPARATOR = "\n"
_QUOTES = "«»„“”‟″〝〞＂‹›"
_TABLE = str.maketrans(
    {
        "ё": "е",
        **{q: '"' for q in _QUOTES},
        **{q: "'" for q in "‘’‚‛`"},
        **{d: "-" for d in "\u2010\u2011\u2012\u2013\u2014\u2212"},
    }
)


def fold(text):
    """`core.folding.fold` at this revision."""
    if not text:
        return ""
    folded = unicodedata.normalize("NFC", str(text)).casefold().translate(_TABLE)
    return re.sub(r"\s+", " ", folded).strip()


def _backfill(conn, table_name: str, fields: tuple[str, ...]) -> None:
    table = sa.table(table_name, sa.column("id"), sa.column("search_text"), *map(sa.column, fields))
    rows = conn.execute(sa.select(table.c.id, *(table.c[f] for f in fields))).all()
    update = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("row_id"))
        .values(search_text=sa.bindparam("text"))
    )
    for start in range(0, len(rows), BATCH):
        conn.execute(
            update,
            [
                {"row_id": row[0], "text": SEPARATOR.join(fold(value) for value in row[1:])}
                for row in rows[start : start + BATCH]
            ],
        )


def upgrade():
    conn = op.get_bind()
    postgresql = conn.dialect.name == "postgresql"
    if postgresql:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table_name, fields in SEARCHED.items():
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("search_text", sa.Text(), server_default="", nullable=False)
            )
        _backfill(conn, table_name, fields)
        if postgresql:
            op.create_index(
                f"ix_{table_name}_search_trgm",
                table_name,
                ["search_text"],
                unique=False,
                postgresql_using="gin",
                postgresql_ops={"search_text": "gin_trgm_ops"},
            )


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table_name in reversed(SEARCHED):
        if postgresql:
            op.drop_index(f"ix_{table_name}_search_trgm", table_name=table_name)
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.drop_column("search_text")
    # pg_trgm stays: other databases' objects may use it, and it costs nothing unused.
