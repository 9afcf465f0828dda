"""JSON API v1 of the claims feature (DESIGN.md section 8): the penalty of a contract, claims
with approval and sending, their letters, replies and escalation, and lawsuits. Thin: parse,
check the permission and scope, call the claims services, commit once, dump."""

from __future__ import annotations

import io
from dataclasses import asdict

import marshmallow as ma
import sqlalchemy as sa
from flask import send_file, url_for
from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from ppp_tracker import clock
from ppp_tracker.auth.access import Permission, get_in_scope, scope
from ppp_tracker.auth.api_access import PATH_RECORDS, api_blueprint, api_user, requires
from ppp_tracker.claims import (
    cases,
    composing,
    drafting,
    escalation,
    letter_facts,
    sending,
    staleness,
    versions,
)
from ppp_tracker.claims.codes import (
    LETTER_LANGUAGES,
    CaseOutcome,
    ClaimStatus,
    DeliveryMethod,
    Demand,
    Escalation,
    ReplyKind,
)
from ppp_tracker.claims.models import Case, Claim
from ppp_tracker.claims.numbering import normalise_number
from ppp_tracker.claims.tasks import queue_render
from ppp_tracker.core import limits
from ppp_tracker.core.api import (
    TOTAL_COUNT_HEADER,
    DecimalText,
    MoneyField,
    PageArgs,
    StrictDate,
    enum_field,
    page_of,
    run_service,
)
from ppp_tracker.deadlines.penalty import contract_penalty
from ppp_tracker.registry.models import Contract

blp = api_blueprint("claims_api", "Penalties, claim letters and lawsuits")
PATH_RECORDS.update(claim_id=Claim, case_id=Case)

#: Ids are 32-bit integers in the database; a larger one is a 422, not an error from PostgreSQL.
MAX_ID = 2**31 - 1
#: Text that reaches a query may not hold a NUL byte (PostgreSQL refuses it).
NO_NUL = ma.validate.Regexp(r"^[^\x00]*$", error=_l("Contains a forbidden character."))


def Id(**kwargs) -> ma.fields.Integer:
    """A positive id that fits the database's integer column."""
    return ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_ID), **kwargs)


MIME = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


# --- the penalty ---------------------------------------------------------------------------------


class AsOfArgs(ma.Schema):
    as_of = StrictDate(metadata={"description": "the day to compute on; default today"})


class PenaltyLineSchema(ma.Schema):
    milestone_id = ma.fields.Integer()
    title = ma.fields.String()
    due_on = StrictDate()
    effective_due_on = StrictDate()
    counted_until = StrictDate()
    days_late = ma.fields.Integer()
    base = MoneyField()
    daily_amount = MoneyField()
    accrued = MoneyField()
    capped = ma.fields.Boolean()
    cap_amount = MoneyField(allow_none=True)
    missing_value = ma.fields.Boolean()
    counted_from = StrictDate(
        allow_none=True,
        metadata={"description": "first day charged to this obligation (none: no day)"},
    )
    counted_to = StrictDate(allow_none=True, metadata={"description": "last day charged"})
    days_counted = ma.fields.Integer(
        metadata={
            "description": "days charged to this obligation: with base `total` a day of delay"
            " counts once for the contract, for the earliest-due obligation late on it"
        }
    )
    days_time_barred = ma.fields.Integer(
        metadata={"description": "days counted older than the limitation period"}
    )
    time_barred = MoneyField(metadata={"description": "the amount of those days"})


class PenaltyWarningSchema(ma.Schema):
    code = ma.fields.String(
        metadata={"description": "cap_reached | above_contract_sum | time_barred"}
    )
    message = ma.fields.String()
    amount = MoneyField()
    days = ma.fields.Integer()
    since = StrictDate(metadata={"description": "time_barred: the first day not time-barred"})
    years = ma.fields.Integer(metadata={"description": "time_barred: the limitation period"})


def warnings_out(warnings) -> list[dict]:
    return [{**w.as_dict(), "message": w.text} for w in warnings]


class PenaltyTermsSchema(ma.Schema):
    rate_percent_per_day = DecimalText()
    base = ma.fields.String()
    cap_percent = DecimalText(allow_none=True)


class ContractPenaltySchema(ma.Schema):
    as_of = StrictDate()
    milestones = ma.fields.List(ma.fields.Nested(PenaltyLineSchema))
    total = MoneyField()
    days_counted = ma.fields.Integer()
    terms = ma.fields.Nested(PenaltyTermsSchema)
    warnings = ma.fields.List(ma.fields.Nested(PenaltyWarningSchema))


@blp.route("/contracts/<id:contract_id>/penalty")
class ContractPenalty(MethodView):
    @requires(Permission.READ)
    @blp.arguments(AsOfArgs, location="query")
    @blp.response(200, ContractPenaltySchema)
    def get(self, args, contract_id):
        """The penalty of the contract's late obligations on `as_of`, per milestone and in total."""
        contract = get_in_scope(Contract, contract_id)
        result = contract_penalty(contract, args.get("as_of") or clock.today())
        return {
            "as_of": result.as_of,
            "milestones": [
                {**asdict(line), "daily_amount": line.daily_amount} for line in result.lines
            ],
            "total": result.total,
            "days_counted": result.days_counted,
            "warnings": warnings_out(result.warnings),
            "terms": {
                "rate_percent_per_day": result.terms.rate_percent_per_day,
                "base": str(result.terms.base),
                "cap_percent": result.terms.cap_percent,
            },
        }


# --- claims --------------------------------------------------------------------------------------


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
    region = ma.fields.String(validate=[ma.validate.Length(max=8), NO_NUL])
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


def _claim(claim_id: int) -> Claim:
    return get_in_scope(Claim, claim_id)


@blp.route("/claims")
class Claims(MethodView):
    @requires(Permission.READ)
    @blp.arguments(ClaimListArgs, location="query")
    @blp.response(200, ClaimSchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args):
        """Claims in the caller's scope, newest first."""
        user = api_user()
        stmt = scope(
            sa.select(Claim).options(selectinload(Claim.lines), selectinload(Claim.versions)),
            user,
            Claim.region_code,
        ).order_by(Claim.id.desc())
        for key, column in (
            ("status", Claim.status),
            ("contract_id", Claim.contract_id),
            ("region", Claim.region_code),
        ):
            if args.get(key) is not None:
                stmt = stmt.where(column == args[key])
        if args.get("number"):
            stmt = stmt.where(Claim.outgoing_number == normalise_number(args["number"]))
        return page_of(stmt, args)

    @requires(Permission.MANAGE_CLAIMS)
    @blp.arguments(ClaimSchema)
    @blp.response(201, ClaimSchema)
    @blp.alt_response(404, response="NOT_FOUND")  # the contract_id, out of scope
    def post(self, data):
        """A draft claim about late milestones, with its penalty computed on `as_of` (today)."""
        user = api_user()
        contract = get_in_scope(Contract, data.pop("contract_id"))
        data.setdefault("as_of", clock.today())
        return run_service(drafting.create_claim, user, contract, data)


@blp.route("/claims/<id:claim_id>")
class ClaimItem(MethodView):
    @requires(Permission.READ)
    @blp.response(200, ClaimSchema)
    def get(self, claim_id):
        return _claim(claim_id)

    @requires(Permission.MANAGE_CLAIMS)
    @blp.arguments(ClaimPatchSchema)
    @blp.response(200, ClaimSchema)
    def patch(self, data, claim_id):
        """Change a draft; an approved claim goes back to draft; a sent one is refused (409)."""
        user = api_user()
        return run_service(drafting.update_claim, user, _claim(claim_id), data)


@blp.route("/claims/<id:claim_id>/approve")
class ClaimApprove(MethodView):
    @requires(Permission.APPROVE_CLAIMS)
    @blp.arguments(ApproveSchema)
    @blp.response(200, ClaimSchema)
    def post(self, data, claim_id):
        """Approve a draft; whoever changed it last may not (four eyes) unless nobody else can.

        A penalty with `warnings` needs `"acknowledge_warnings": true` (else 422 on that field);
        a draft with `stale_reasons` must be recomputed first (409)."""
        user = api_user()
        return run_service(
            sending.approve_claim,
            user,
            _claim(claim_id),
            data.get("acknowledge_warnings", False),
        )


@blp.route("/claims/<id:claim_id>/send")
class ClaimSend(MethodView):
    @requires(Permission.APPROVE_CLAIMS)
    @blp.arguments(SendSchema)
    @blp.response(200, ClaimSchema)
    def post(self, data, claim_id):
        """Send an approved claim: assigns `outgoing_number` and `response_due_on`."""
        user = api_user()
        claim = run_service(
            sending.send_claim,
            user,
            _claim(claim_id),
            data["sent_on"],
            data.get("outgoing_number"),
            data["acknowledge_kazakh_gaps"],
        )
        queue_render(claim.id)
        return claim


@blp.route("/claims/<id:claim_id>/delivery")
class ClaimDelivery(MethodView):
    @requires(Permission.MANAGE_CLAIMS)
    @blp.arguments(DeliveryInSchema)
    @blp.response(200, ClaimSchema)
    def post(self, data, claim_id):
        """Record how a sent claim was delivered, the day the contractor received it and the
        proof. Where the contract counts the reply period from receipt, `response_due_on`
        follows `received_on` (null until it is known). Recording again corrects the record."""
        user = api_user()
        return run_service(sending.record_delivery, user, _claim(claim_id), data)


@blp.route("/claims/<id:claim_id>/replies")
class ClaimReplies(MethodView):
    @requires(Permission.MANAGE_CLAIMS)
    @blp.arguments(ReplySchema)
    @blp.response(201, ReplySchema)
    def post(self, data, claim_id):
        """Record the contractor's reply: an answer stops the ladder, a cure settles the claim."""
        user = api_user()
        return run_service(escalation.record_reply, user, _claim(claim_id), data)


@blp.route("/claims/<id:claim_id>/escalate")
class ClaimEscalate(MethodView):
    @requires(Permission.MANAGE_CLAIMS)
    @blp.arguments(EscalateSchema)
    @blp.response(200, ClaimSchema)
    def post(self, data, claim_id):
        """Go on before the deadline: draft the next claim, or recommend a lawsuit."""
        user = api_user()
        claim = _claim(claim_id)
        outcome = run_service(
            escalation.escalate_claim,
            user,
            claim,
            data["decision"],
            data.get("as_of"),
            data.get("note"),
        )
        return outcome if isinstance(outcome, Claim) else claim


@blp.route("/claims/<id:claim_id>/withdraw")
class ClaimWithdraw(MethodView):
    @requires(Permission.MANAGE_CLAIMS)
    @blp.arguments(WithdrawSchema)
    @blp.response(200, ClaimSchema)
    def post(self, data, claim_id):
        user = api_user()
        return run_service(escalation.withdraw_claim, user, _claim(claim_id), data["reason"])


def _letter(claim_id: int, lang: str, fmt: str):
    claim = _claim(claim_id)
    content = run_service(composing.letter_file, claim, lang, fmt)
    name = f"{claim.outgoing_number or f'draft-{claim.id}'}.{lang}.{fmt}"
    return send_file(
        io.BytesIO(content), mimetype=MIME[fmt], as_attachment=True, download_name=name
    )


def _binary(mime: str) -> dict:
    return {
        200: {
            "description": "the letter",
            "content": {mime: {"schema": {"type": "string", "format": "binary"}}},
        }
    }


@blp.route("/claims/<id:claim_id>/letter.docx")
class ClaimLetterDocx(MethodView):
    @requires(Permission.READ)
    @blp.arguments(LetterArgs, location="query")
    @blp.doc(responses=_binary(MIME["docx"]))
    def get(self, args, claim_id):
        """The letter as DOCX (Word), as sent; a draft's letter as it reads today."""
        return _letter(claim_id, args["lang"], "docx")


@blp.route("/claims/<id:claim_id>/letter.pdf")
class ClaimLetterPdf(MethodView):
    @requires(Permission.READ)
    @blp.arguments(LetterArgs, location="query")
    @blp.doc(responses=_binary(MIME["pdf"]))
    def get(self, args, claim_id):
        """The letter as PDF, as sent; a draft's letter as it reads today."""
        return _letter(claim_id, args["lang"], "pdf")


# --- lawsuits ------------------------------------------------------------------------------------


class HearingSchema(ma.Schema):
    milestone_id = ma.fields.Integer(dump_only=True)
    hearing_on = StrictDate(required=True, load_only=True)
    note = ma.fields.String(
        allow_none=True, load_only=True, validate=ma.validate.Length(max=limits.LINE)
    )
    due_on = ma.fields.Function(lambda h: h.milestone.due_on.isoformat(), dump_only=True)
    held_on = ma.fields.Function(
        lambda h: h.milestone.met_on.isoformat() if h.milestone.met_on else None, dump_only=True
    )
    title = ma.fields.Function(lambda h: h.milestone.title, dump_only=True)


class CaseSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    contract_id = Id(required=True)
    region = ma.fields.String(attribute="region_code", dump_only=True)
    court_name = ma.fields.String(
        validate=ma.validate.Length(max=limits.NAME),
        metadata={"description": "default: the region's specialised inter-district economic court"},
    )
    court_name_kk = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=limits.NAME),
        metadata={"description": "the court in Kazakh; default: the region's court in Kazakh"},
    )
    case_number = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=limits.CODE))
    filed_on = StrictDate(required=True)
    claims_penalty = ma.fields.Boolean(metadata={"description": "recovery of the penalty"})
    claims_register = ma.fields.Boolean(
        metadata={"description": "the unscrupulous-participants register"}
    )
    amount_claimed = MoneyField(allow_none=True)
    outcome = enum_field(CaseOutcome)
    decided_on = StrictDate(allow_none=True)
    amount_awarded = MoneyField(allow_none=True)
    amount_paid = MoneyField(allow_none=True)
    notes = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=limits.TEXT))
    claim_ids = ma.fields.List(Id())
    hearings = ma.fields.List(ma.fields.Nested(HearingSchema), dump_only=True)

    @ma.pre_dump
    def _shape(self, case, **kwargs):
        if isinstance(case, dict):
            return case
        out = {c.key: getattr(case, c.key) for c in sa.inspect(Case).column_attrs}
        out["claim_ids"] = [c.id for c in case.claims]
        out["hearings"] = case.hearings
        return out


class CaseListArgs(PageArgs):
    contract_id = Id()
    outcome = enum_field(CaseOutcome)


@blp.route("/cases")
class Cases(MethodView):
    @requires(Permission.READ)
    @blp.arguments(CaseListArgs, location="query")
    @blp.response(200, CaseSchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args):
        user = api_user()
        stmt = scope(sa.select(Case), user, Case.region_code).order_by(Case.filed_on.desc())
        if args.get("contract_id") is not None:
            stmt = stmt.where(Case.contract_id == args["contract_id"])
        if args.get("outcome"):
            stmt = stmt.where(Case.outcome == args["outcome"])
        return page_of(stmt, args)

    @requires(Permission.MANAGE_CLAIMS)
    @blp.arguments(CaseSchema)
    @blp.response(201, CaseSchema)
    @blp.alt_response(404, response="NOT_FOUND")  # the contract_id, out of scope
    def post(self, data):
        """Open a lawsuit about a contract (resolves its lawsuit recommendations)."""
        user = api_user()
        contract = get_in_scope(Contract, data.pop("contract_id"))
        return run_service(cases.save_case, user, contract, data)


@blp.route("/cases/<id:case_id>")
class CaseItem(MethodView):
    @requires(Permission.READ)
    @blp.response(200, CaseSchema)
    def get(self, case_id):
        return get_in_scope(Case, case_id)

    @requires(Permission.MANAGE_CLAIMS)
    @blp.arguments(CaseSchema(partial=True))
    @blp.response(200, CaseSchema)
    def patch(self, data, case_id):
        user = api_user()
        case = get_in_scope(Case, case_id)
        data.pop("contract_id", None)
        return run_service(cases.save_case, user, case.contract, data, case)


@blp.route("/cases/<id:case_id>/hearings")
class CaseHearings(MethodView):
    @requires(Permission.MANAGE_CLAIMS)
    @blp.arguments(HearingSchema)
    @blp.response(201, HearingSchema)
    def post(self, data, case_id):
        """A hearing date; it becomes a milestone of the contract, so alerts remind of it."""
        user = api_user()
        return run_service(cases.add_hearing, user, get_in_scope(Case, case_id), data)


class FlagSchema(ma.Schema):
    id = ma.fields.Integer()
    contract_id = ma.fields.Integer()
    claim_id = ma.fields.Integer(allow_none=True)
    reason = ma.fields.String()
    raised_on = StrictDate()
    raised_by = ma.fields.String()
    note = ma.fields.String(allow_none=True)
    case_id = ma.fields.Integer(allow_none=True)


@blp.route("/lawsuit-recommendations")
class Flags(MethodView):
    @requires(Permission.READ)
    @blp.response(200, FlagSchema(many=True))
    def get(self):
        """Contracts recommended for a lawsuit that has not been opened yet."""
        user = api_user()
        return cases.open_flags(user)
