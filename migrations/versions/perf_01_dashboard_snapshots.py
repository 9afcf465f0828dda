"""Dashboard snapshots (issue 6, the performance report).

Why: at 10,000 contracts and 1,000,000 milestones the dashboard took minutes per request for a
manager (every late milestone's penalty on 19 days of the exposure chart, every project's every
milestone on the overview). The workers now compute every scope's figures after each deadline
scan and store them here, one row per scope ("*" for all regions, else a region code); the page
reads its row in one query and says when the figures were computed. Nothing to copy on upgrade:
a missing row is computed by the first page that needs it, or by the next scan.

Revision ID: perf_01
Revises: alerts_01
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "perf_01"
down_revision = "alerts_01"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "dashboard_snapshots",
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_dashboard_snapshots")),
    )


def downgrade():
    op.drop_table("dashboard_snapshots")
