"""The audit log is append-only in the database too; API tokens expire (issue 6, security).

Why (tokens): a bearer token that never expires stays usable forever once leaked; new tokens get
`expires_at` (API_TOKEN_DAYS, 365 by default); older ones keep NULL, "no expiry", until revoked.

Why (audit): the app never changes an audit row (no route; the ORM refuses it, core.audit), but a bug, a
raw SQL statement or a console session could. On PostgreSQL a row trigger refuses UPDATE and
DELETE of `audit_events`, and a statement trigger refuses TRUNCATE; only the table's owner can
lift that (`ALTER TABLE audit_events DISABLE TRIGGER USER`), an explicit admin action, which the
test fixture uses to empty the tables between tests. On SQLite (the embedded development default)
a trigger refuses UPDATE; DELETE is left to the ORM guard, because SQLite has no way to switch a
trigger off and the test fixture empties its tables with DELETE.

Revision ID: security_01
Revises: perf_02
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "security_01"
down_revision = "perf_02"
branch_labels = None
depends_on = None

PG_UPGRADE = """
CREATE FUNCTION audit_events_read_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_read_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_read_only();
"""

PG_DOWNGRADE = """
DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events;
DROP TRIGGER IF EXISTS audit_events_no_change ON audit_events;
DROP FUNCTION IF EXISTS audit_events_read_only();
"""

SQLITE_UPGRADE = """
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused');
END
"""


def upgrade():
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(PG_UPGRADE)
    elif dialect == "sqlite":
        op.execute(SQLITE_UPGRADE)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(PG_DOWNGRADE)
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
