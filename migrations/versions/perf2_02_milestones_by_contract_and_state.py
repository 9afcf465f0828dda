"""Open milestones of a set of contracts by due date (issue 6, performance round 2).

Why: a regional user's deadlines page asks for the open milestones of the region's contracts due
before (or around) a day. Milestones carry no region, so PostgreSQL takes the region's 500
contracts and looks up each one's milestones; with an index on the contract id alone it read all
100 milestones of every contract to keep the few open ones (50,000 rows read for 215 kept, about
150–190 ms on the 10,000-contract data set). The index on (contract id, status, due date) finds
exactly the kept rows (about 20 ms). It replaces the index on the contract id alone, which it
serves as well (its first column), so the table keeps the same number of indexes to update.

Revision ID: perf2_02
Revises: perf2_01
Create Date: 2026-11-26
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "perf2_02"
down_revision = "perf2_01"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.create_index(
            "ix_milestones_contract_id_status_due_on",
            ["contract_id", "status", "due_on"],
            unique=False,
        )
        batch_op.drop_index(batch_op.f("ix_milestones_contract_id"))


def downgrade():
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_milestones_contract_id"), ["contract_id"], unique=False
        )
        batch_op.drop_index("ix_milestones_contract_id_status_due_on")
