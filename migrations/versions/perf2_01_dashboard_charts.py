"""Dashboard charts stored with the figures (issue 6, performance round 2).

Why: with the figures read from `dashboard_snapshots`, drawing the dashboard's three SVG charts
(the overview's few hundred marks, each with a translated tooltip) was still most of the page's
time on every request. The charts change only when the figures do, so whoever stores a snapshot
(the workers after each scan, or the page computing a stale scope) now draws them once in each
language and stores them here, one row per scope and language; the page inserts its language's
row when its `computed_at` is the snapshot's. Nothing to copy on upgrade: without a row the page
draws the charts itself, and the next scan stores them.

Revision ID: perf2_01
Revises: drills_01
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "perf2_01"
down_revision = "drills_01"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "dashboard_charts",
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "locale", name=op.f("pk_dashboard_charts")),
    )


def downgrade():
    op.drop_table("dashboard_charts")
