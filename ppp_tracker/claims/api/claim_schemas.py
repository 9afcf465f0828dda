"""What the claims resources read and write: a claim with its penalty, versions, replies,
delivery, letters and Kazakh gaps, and the bodies of its actions."""

from __future__ import annotations

import marshmallow as ma
from flask import url_for

from ppp_tracker.claims import letter_facts, staleness, versions
from ppp_tracker.claims.api.common import NO_NUL, Id
from ppp_tracker.claims.api.penalty import PenaltyWarningSchema, warnings_out
from ppp_tracker.claims.codes import (
    LETTER_LANGUAGES,
    ClaimStatus,
    DeliveryMethod,
    Demand,
    Escalation,
    ReplyKind,
)
from ppp_tracker.core import limits
from ppp_tracker.core.api import MoneyField, PageArgs, StrictDate, enum_field


class ClaimLineSchema(ma.Schema):
    milestone_id = ma.fields.Integer()
    title = ma.fields.String()
    due_on = StrictDate()
    effective_due_on = StrictDate()
    counted_until = StrictDate()
    met_on = StrictDate(allow_none=True)
    days_late = ma.fields.Integer()
    counted_from = StrictDate(allow_none=True)
    counted_to = StrictDate(allow_none=True)
    days_counted = ma.fields.Integer(
        metadata={"description": "days charged to this obligation (a day counts once a contract)"}
    )
    base = MoneyField()
    daily_amount = MoneyField()
    accrued = MoneyField()
    capped = ma.fields.Boolean()
    cap_amount = MoneyField(allow_none=True)
    missing_value = ma.fields.Boolean()


class VersionSchema(ma.Schema):
    number = ma.fields.Integer()
    created_at = ma.fields.DateTime()
    actor = ma.fields.String()
    changes = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "field -> [old, new] against the previous version"},
    )


class ReplySchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    received_on = StrictDate(required=True)
    kind = enum_field(ReplyKind, required=True)
    incoming_number = ma.fields.String(
        allow_none=True, validate=ma.validate.Length(max=limits.CODE)
    )
    summary = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=limits.TEXT))
    paid_amount = MoneyField(allow_none=True)


class ApproveSchema(ma.Schema):
    acknowledge_warnings = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "the approver has read the penalty's warnings"},
    )


def _email(user) -> str | None:
    return user.email if user is not None else None


def _gaps(gaps: list[str]) -> list[dict]:
    labels = letter_facts.gap_labels(gaps)
    return [{"field": gap, "label": label} for gap, label in zip(gaps, labels, strict=True)]


class ClaimSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    contract_id = Id(required=True)
    milestone_ids = ma.fields.List(Id(), required=True)
    as_of = StrictDate(metadata={"description": "the penalty is computed on this day"})
    demand = enum_field(Demand)
    facts_note = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=limits.TEXT))
    attachments = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=limits.TEXT),
        metadata={"description": "one attachment per line"},
    )
    contract_number = ma.fields.Function(lambda c: c.contract.number, dump_only=True)
    region = ma.fields.String(attribute="region_code", dump_only=True)
    sequence = ma.fields.Integer(dump_only=True)
    status = ma.fields.String(dump_only=True, metadata={"enum": [s.value for s in ClaimStatus]})
    penalty = MoneyField(attribute="penalty_total", dump_only=True)
    penalty_terms = ma.fields.Function(
        lambda c: {
            "rate_percent_per_day": str(c.penalty_rate_percent),
            "base": str(c.penalty_base),
            "cap_percent": None if c.penalty_cap_percent is None else str(c.penalty_cap_percent),
        },
        dump_only=True,
    )
    lines = ma.fields.List(ma.fields.Nested(ClaimLineSchema), dump_only=True)
    outgoing_number = ma.fields.String(dump_only=True, allow_none=True)
    sent_on = StrictDate(dump_only=True, allow_none=True)
    response_due_on = StrictDate(dump_only=True, allow_none=True)
    response_from_receipt = ma.fields.Boolean(
        dump_only=True,
        metadata={"description": "the reply period runs from the contractor's receipt"},
    )
    reply_period_running = ma.fields.Function(
        lambda c: c.sent_on is not None and not c.awaiting_receipt,
        dump_only=True,
        metadata={
            "description": "false while a period that runs from receipt waits for the receipt "
            "(response_due_on is then null)"
        },
    )
    delivery = ma.fields.Function(
        lambda c: DeliverySchema().dump(c) if c.sent_on is not None else None, dump_only=True
    )
    previous_id = ma.fields.Integer(dump_only=True, allow_none=True)
    drafted_by = ma.fields.String(dump_only=True)
    approved_by = ma.fields.Function(lambda c: _email(c.approved_by), dump_only=True)
    approved_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    self_approved = ma.fields.Boolean(dump_only=True)
    warnings = ma.fields.Function(
        lambda c: PenaltyWarningSchema(many=True).dump(warnings_out(staleness.claim_warnings(c))),
        dump_only=True,
        metadata={"description": "what a lawyer must know about the penalty before approving"},
    )
    warnings_acknowledged = ma.fields.Boolean(dump_only=True)
    stale_reasons = ma.fields.Function(
        lambda c: staleness.stale_reasons(c),
        dump_only=True,
        metadata={
            "description": "what changed since the penalty was computed: a draft must be"
            " recomputed before approval, an approved claim cannot be sent (409)"
        },
    )
    sent_by = ma.fields.Function(lambda c: _email(c.sent_by), dump_only=True)
    prepared_by = ma.fields.Function(lambda c: _email(c.prepared_by), dump_only=True)
    withdrawn_reason = ma.fields.String(dump_only=True, allow_none=True)
    versions = ma.fields.Function(
        lambda c: VersionSchema(many=True).dump(
            [
                {
                    "number": v.number,
                    "created_at": v.created_at,
                    "actor": v.actor,
                    "changes": {k: list(pair) for k, pair in changes.items()},
                }
                for v, changes in versions.version_changes(c)
            ]
        ),
        dump_only=True,
    )
    replies = ma.fields.List(ma.fields.Nested(ReplySchema), dump_only=True)
    letters = ma.fields.Function(
        lambda c: {
            f"{lang}.{fmt}": url_for(
                "claims_api.ClaimLetter" + fmt.capitalize(), claim_id=c.id, lang=lang
            )
            for lang in LETTER_LANGUAGES
            for fmt in ("docx", "pdf")
        },
        dump_only=True,
    )
    kazakh_gaps = ma.fields.Function(
        lambda c: _gaps(letter_facts.kazakh_gaps(c)),
        dump_only=True,
        metadata={
            "description": "where the Kazakh letter quotes Russian (a record without its Kazakh "
            "version); sending needs acknowledge_kazakh_gaps while this is not empty"
        },
    )
    created_at = ma.fields.DateTime(dump_only=True)


class DeliverySchema(ma.Schema):
    method = enum_field(DeliveryMethod, attribute="delivery_method", data_key="method")
    received_on = StrictDate(
        allow_none=True,
        metadata={"description": "the day the contractor received the claim; null: not yet"},
    )
    document_id = Id(
        attribute="delivery_document_id",
        data_key="document_id",
        allow_none=True,
        metadata={"description": "the proof: a document of the claim's contract (a scan)"},
    )


class DeliveryInSchema(ma.Schema):
    method = enum_field(DeliveryMethod, required=True)
    received_on = StrictDate(
        allow_none=True,
        metadata={"description": "the day the contractor received the claim; null: not yet"},
    )
    document_id = Id(
        allow_none=True,
        metadata={
            "description": "the proof: a document of the claim's contract (upload the scan "
            "there, type claimDeliveryProof)"
        },
    )


class ClaimPatchSchema(ma.Schema):
    milestone_ids = ma.fields.List(Id())
    as_of = StrictDate()
    demand = enum_field(Demand)
    facts_note = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=limits.TEXT))
    attachments = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=limits.TEXT))
    recompute = ma.fields.Boolean(
        metadata={"description": "compute the penalty again on the same day"}
    )


class ClaimListArgs(PageArgs):
    status = enum_field(ClaimStatus)
    contract_id = Id()
    region = ma.fields.String(validate=[ma.validate.Length(max=limits.REGION), NO_NUL])
    number = ma.fields.String(
        validate=[ma.validate.Length(max=limits.CODE), NO_NUL],
        metadata={"description": "outgoing number; en-dashes as typed in Word are accepted"},
    )


class SendSchema(ma.Schema):
    sent_on = StrictDate(required=True)
    acknowledge_kazakh_gaps = ma.fields.Boolean(
        load_default=False,
        metadata={
            "description": "send although the Kazakh letter quotes Russian where a record has "
            "no Kazakh version (`kazakh_gaps`); without it such a send answers 409"
        },
    )
    outgoing_number = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=limits.CODE),
        metadata={"description": "admins only: a number already given by hand"},
    )


class EscalateSchema(ma.Schema):
    decision = enum_field(Escalation, required=True)
    as_of = StrictDate(metadata={"description": "for the next claim's penalty; default today"})
    note = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=limits.TEXT))


class WithdrawSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=limits.TEXT))


class LetterArgs(ma.Schema):
    lang = ma.fields.String(load_default="ru", validate=ma.validate.OneOf(list(LETTER_LANGUAGES)))
