"""The audit log becomes a hash chain (issue 15, item 8): `audit_links` and `audit_chain_head`.

Why: the log was append-only (security_01), but whoever can lift the trigger — the table's owner,
a restored dump, a console session — could still change or remove an event without a trace. Now
every event is a link of a SHA-256 chain (ppp_tracker.core.audit_chain): a change anywhere breaks
the chain from there, and `flask audit verify` names the first broken link. The links are written
at each commit under a lock on the head row, so the chain stays linear under concurrent commits.

The existing events are chained here, in id order (they were committed before the chain
existed; their order among themselves is the order of their ids). The links are append-only like
the log: on PostgreSQL a trigger refuses UPDATE, DELETE and TRUNCATE (lifting it is the owner's
explicit act, as for the log); on SQLite a trigger refuses UPDATE.

Revision ID: trust_ops_01
Revises: claims_dates_02
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "trust_ops_01"
down_revision = "claims_dates_02"
branch_labels = None
depends_on = None

PG_UPGRADE = """
CREATE FUNCTION audit_links_read_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_links is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_links_no_change BEFORE UPDATE OR DELETE ON audit_links
    FOR EACH ROW EXECUTE FUNCTION audit_links_read_only();
CREATE TRIGGER audit_links_no_truncate BEFORE TRUNCATE ON audit_links
    FOR EACH STATEMENT EXECUTE FUNCTION audit_links_read_only();
"""

PG_DOWNGRADE = """
DROP TRIGGER IF EXISTS audit_links_no_truncate ON audit_links;
DROP TRIGGER IF EXISTS audit_links_no_change ON audit_links;
DROP FUNCTION IF EXISTS audit_links_read_only();
"""

SQLITE_UPGRADE = """
CREATE TRIGGER audit_links_no_update BEFORE UPDATE ON audit_links
BEGIN
    SELECT RAISE(ABORT, 'audit_links is append-only: UPDATE refused');
END
"""


def upgrade():
    head = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.create_table(
        "audit_links",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_links")),
        sa.UniqueConstraint("event_id", name=op.f("uq_audit_links_event_id")),
    )
    # The chain's own code (its canonical form must be the one `verify` checks, forever).
    from ppp_tracker.core.audit_chain import GENESIS, append_links

    connection = op.get_bind()
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS}])
    ids = connection.execute(sa.text("SELECT id FROM audit_events ORDER BY id")).scalars().all()
    append_links(connection, ids)
    dialect = connection.dialect.name
    if dialect == "postgresql":
        op.execute(PG_UPGRADE)
    elif dialect == "sqlite":
        op.execute(SQLITE_UPGRADE)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(PG_DOWNGRADE)
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_links_no_update")
    op.drop_table("audit_links")
    op.drop_table("audit_chain_head")
