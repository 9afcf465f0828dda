"""Calendar years an admin has confirmed (issue 13, item 9).

Why: a year's working days are only right once its decree transfers are entered; the holidays
package carries them up to 2025, later years come as government decrees and, since 2024,
ministerial orders that an admin enters as overrides. A row here says an admin has done so for
the year; until then the pages say that dates computed in it may still move, and admins see a
banner when this year or the next is not confirmed.

Revision ID: claims_dates_03
Revises: search_01
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "claims_dates_03"
down_revision = "search_01"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "calendar_years",
        sa.Column("year", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"], ["users.id"], name=op.f("fk_calendar_years_confirmed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_calendar_years")),
    )


def downgrade():
    op.drop_table("calendar_years")
