"""The penalty counted once per contract day, its warnings, and the facts an approval covers
(issue 13, items 1–4).

Why: with base `total` a day of delay counts once for the contract and is charged to the
earliest-due late obligation, so a claim's row records which days were charged to it
(`counted_from`, `counted_to`, `days_counted`; existing rows counted all their days late, which
is what they are given). A claim keeps the warnings that came with its penalty
(`penalty_warnings`), whether the approver acknowledged them (`warnings_acknowledged`), and the
facts the penalty was computed on (`facts_snapshot`): when today's facts differ, the draft is
stale and an approval no longer covers the letter. A contract says which of its facts are
assumed rather than sourced (`assumptions`: the demo's due dates, penalty terms, reply period).

Revision ID: claims_penalty_01
Revises: trust_ops_01
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "claims_penalty_01"
down_revision = "trust_ops_01"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("claim_milestones", schema=None) as batch_op:
        batch_op.add_column(sa.Column("counted_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("counted_to", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("days_counted", sa.Integer(), nullable=False, server_default="0")
        )
    op.execute("UPDATE claim_milestones SET days_counted = days_late, counted_to = counted_until")
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "UPDATE claim_milestones SET counted_from = date(effective_due_on, '+1 day')"
            " WHERE days_late > 0"
        )
    else:
        op.execute(
            "UPDATE claim_milestones SET counted_from = effective_due_on + 1 WHERE days_late > 0"
        )
    with op.batch_alter_table("claim_milestones", schema=None) as batch_op:
        batch_op.alter_column("days_counted", server_default=None)

    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.add_column(sa.Column("penalty_warnings", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "warnings_acknowledged", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(sa.Column("facts_snapshot", sa.JSON(), nullable=True))
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.alter_column("warnings_acknowledged", server_default=None)

    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assumptions", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_column("assumptions")
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_column("facts_snapshot")
        batch_op.drop_column("warnings_acknowledged")
        batch_op.drop_column("penalty_warnings")
    with op.batch_alter_table("claim_milestones", schema=None) as batch_op:
        batch_op.drop_column("days_counted")
        batch_op.drop_column("counted_to")
        batch_op.drop_column("counted_from")
