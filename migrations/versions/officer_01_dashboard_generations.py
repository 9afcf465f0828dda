"""Dashboard figures follow each change of their scope (issue 14, "one truth at a time").

Why: the dashboard read a snapshot refreshed by the workers every scan interval, so after a
milestone was marked met it showed the old overdue count and penalty for up to 15 minutes while
the deadlines page and the overdue report already showed the new ones. A commit that changes a
milestone, contract, project, stage or site now moves the counter of its region and of all
regions (`dashboard_generations`); a snapshot stores the counter it was computed against
(`dashboard_snapshots.generation`) and is recomputed once the counter moved. Existing snapshots
get 0 and count as computed before any change (the counters start at 0 too): the next scan or
page refreshes them anyway.

Revision ID: officer_01
Revises: claims_letters_01
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "officer_01"
down_revision = "claims_letters_01"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "dashboard_generations",
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_dashboard_generations")),
    )
    with op.batch_alter_table("dashboard_snapshots") as batch:
        batch.add_column(
            sa.Column("generation", sa.BigInteger(), server_default="0", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("dashboard_snapshots") as batch:
        batch.drop_column("generation")
    op.drop_table("dashboard_generations")
