"""A lease and a retry time on claim notices (issue 6, the fault drills).

Why: a claim's e-mail to legal staff was claimed (pending → sending) with no time, so a worker
killed mid-send, or a database restart under it, left the notice "sending" for ever; and a
refused notice whose retry message the broker lost (Redis restarted) stayed "failed" for ever.
With `claimed_at` a send unfinished after ALERT_SEND_LEASE_SECONDS is taken over, and with
`next_attempt_at` the scan queues again a retry that is overdue, as the alerts already did.

Revision ID: drills_01
Revises: security_01
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "drills_01"
down_revision = "security_01"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("claim_notices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("claim_notices", schema=None) as batch_op:
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("claimed_at")
