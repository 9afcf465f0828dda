"""Outgoing numbers that may restart every 1 January (issue 13, item 7).

Why: office-work rules number outgoing letters within a year; with
OUTGOING_NUMBER_RESTARTS_YEARLY a letter takes its number from the counter of its date's year.
So `outgoing_sequences` is keyed by (prefix, year) (year 0: the counter that never restarts,
which the existing rows become), claims keep the year of their number (`outgoing_year`, filled
from `sent_on` for letters already sent) and are unique per (prefix, year, sequence); the number
text alone is no longer unique (14-28-9-1 of 2027 and of 2028 are two letters), so its unique
key becomes a plain index (the claim list and the API still look numbers up by it).

Revision ID: claims_dates_01
Revises: perf4_01
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "claims_dates_01"
down_revision = "perf4_01"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outgoing_sequences", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("year", sa.SmallInteger(), nullable=False, server_default="0")
        )
        batch_op.drop_constraint("pk_outgoing_sequences", type_="primary")
        batch_op.create_primary_key("pk_outgoing_sequences", ["prefix", "year"])
    with op.batch_alter_table("outgoing_sequences", schema=None) as batch_op:
        batch_op.alter_column("year", server_default=None)

    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outgoing_year", sa.SmallInteger(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "UPDATE claims SET outgoing_year = CAST(strftime('%Y', sent_on) AS INTEGER)"
            " WHERE outgoing_seq IS NOT NULL"
        )
    else:
        op.execute(
            "UPDATE claims SET outgoing_year = CAST(EXTRACT(YEAR FROM sent_on) AS INTEGER)"
            " WHERE outgoing_seq IS NOT NULL"
        )
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_constraint("uq_claims_outgoing_prefix_outgoing_seq", type_="unique")
        batch_op.drop_constraint("uq_claims_outgoing_number", type_="unique")
        batch_op.create_unique_constraint(
            "uq_claims_outgoing_prefix_outgoing_year_outgoing_seq",
            ["outgoing_prefix", "outgoing_year", "outgoing_seq"],
        )
        batch_op.create_index("ix_claims_outgoing_number", ["outgoing_number"], unique=False)


def downgrade():
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_index("ix_claims_outgoing_number")
        batch_op.drop_constraint(
            "uq_claims_outgoing_prefix_outgoing_year_outgoing_seq", type_="unique"
        )
        batch_op.create_unique_constraint("uq_claims_outgoing_number", ["outgoing_number"])
        batch_op.create_unique_constraint(
            "uq_claims_outgoing_prefix_outgoing_seq", ["outgoing_prefix", "outgoing_seq"]
        )
        batch_op.drop_column("outgoing_year")
    # Only the never-restarting counters survive a downgrade (the yearly ones have no place).
    op.execute("DELETE FROM outgoing_sequences WHERE year <> 0")
    with op.batch_alter_table("outgoing_sequences", schema=None) as batch_op:
        batch_op.drop_constraint("pk_outgoing_sequences", type_="primary")
        batch_op.create_primary_key("pk_outgoing_sequences", ["prefix"])
        batch_op.drop_column("year")
