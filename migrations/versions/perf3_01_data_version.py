"""The data version: one row moved forward by every commit that changes audited data (issue 6,
performance round 4; `ppp_tracker.core.versions`).

Why: pages whose bodies depend only on audited data (the dashboard, the contract list) keep
the body they rendered per version and reuse it until the data changes; the version is read with
the logged-in user in the statement every page runs anyway.

Revision ID: perf3_01
Revises: perf2_02
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "perf3_01"
down_revision = "perf2_02"
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        "data_versions",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_versions")),
    )
    op.bulk_insert(table, [{"id": 1, "version": 1}])


def downgrade():
    op.drop_table("data_versions")
