"""How a claim reached the contractor, and reply periods that run from receipt (issue 13, item 6).

Why: a contract may say the contractor's reply period runs from the day it received the claim,
not from sending. `contracts.response_from_receipt` holds that term; a claim copies it when it
is sent (`claims.response_from_receipt`, like the penalty terms) and records how it was
delivered (`delivery_method`), the day the contractor received it (`received_on`) and the proof
(`delivery_document_id`, a scan uploaded as a document of the contract). Until the receipt is
recorded, such a claim has no reply deadline, so the check that every sent claim has one now
allows that case.

Revision ID: claims_dates_02
Revises: claims_dates_01
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "claims_dates_02"
down_revision = "claims_dates_01"
branch_labels = None
depends_on = None

OLD_CHECK = (
    "(status IN ('draft', 'approved', 'withdrawn')) OR (outgoing_number IS NOT NULL"
    " AND sent_on IS NOT NULL AND response_due_on IS NOT NULL)"
)
NEW_CHECK = (
    "(status IN ('draft', 'approved', 'withdrawn')) OR (outgoing_number IS NOT NULL"
    " AND sent_on IS NOT NULL AND (response_due_on IS NOT NULL OR response_from_receipt))"
)


def upgrade():
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "response_from_receipt", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.alter_column("response_from_receipt", server_default=None)

    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "response_from_receipt", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(sa.Column("delivery_method", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("received_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("delivery_document_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_claims_delivery_document_id_documents"),
            "documents",
            ["delivery_document_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.drop_constraint(batch_op.f("ck_claims_sent_has_number"), type_="check")
        batch_op.create_check_constraint("sent_has_number", NEW_CHECK)
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.alter_column("response_from_receipt", server_default=None)


def downgrade():
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_claims_sent_has_number"), type_="check")
    # A sent claim still waiting for its receipt has no deadline; the old check wants one: its
    # sending date stands in (the scan then treats it as due at once — review such claims).
    op.execute(
        "UPDATE claims SET response_due_on = sent_on"
        " WHERE response_due_on IS NULL AND sent_on IS NOT NULL"
    )
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.create_check_constraint("sent_has_number", OLD_CHECK)
        batch_op.drop_constraint(
            batch_op.f("fk_claims_delivery_document_id_documents"), type_="foreignkey"
        )
        batch_op.drop_column("delivery_document_id")
        batch_op.drop_column("received_on")
        batch_op.drop_column("delivery_method")
        batch_op.drop_column("response_from_receipt")

    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_column("response_from_receipt")
