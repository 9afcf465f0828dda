"""Indexes for the contract list (issue 6, the performance report).

Why: the contract list opens sorted by signing date (newest first) and can be sorted by amount;
at 10,000 contracts PostgreSQL sorted the whole table for every page of 25. With these indexes a
page is read from the index in order and stops after 25 rows.

Revision ID: perf_02
Revises: perf_01
Create Date: 2026-11-26
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "perf_02"
down_revision = "perf_01"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contracts_signed_on"), ["signed_on"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_contracts_total_amount"), ["total_amount"], unique=False
        )


def downgrade():
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contracts_total_amount"))
        batch_op.drop_index(batch_op.f("ix_contracts_signed_on"))
