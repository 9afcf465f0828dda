"""Claims: drafted, changed, approved, sent, delivered, answered, escalated, withdrawn; and
their letters as DOCX and PDF."""

from __future__ import annotations

import io

import sqlalchemy as sa
from flask import send_file
from flask.views import MethodView
from sqlalchemy.orm import selectinload

from ppp_tracker import clock
from ppp_tracker.auth.access import Permission, get_in_scope, scope
from ppp_tracker.auth.api_access import api_user, requires
from ppp_tracker.claims import composing, drafting, escalation, sending
from ppp_tracker.claims.api.claim_schemas import (
    ApproveSchema,
    ClaimListArgs,
    ClaimPatchSchema,
    ClaimSchema,
    DeliveryInSchema,
    EscalateSchema,
    LetterArgs,
    ReplySchema,
    SendSchema,
    WithdrawSchema,
)
from ppp_tracker.claims.api.common import blp
from ppp_tracker.claims.letters import rendering
from ppp_tracker.claims.models import Claim
from ppp_tracker.claims.numbering import normalise_number
from ppp_tracker.claims.tasks import queue_render
from ppp_tracker.core.api import TOTAL_COUNT_HEADER, page_of, run_service
from ppp_tracker.registry.models import Contract


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
        io.BytesIO(content), mimetype=rendering.MIME[fmt], as_attachment=True, download_name=name
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
    @blp.doc(responses=_binary(rendering.MIME["docx"]))
    def get(self, args, claim_id):
        """The letter as DOCX (Word), as sent; a draft's letter as it reads today."""
        return _letter(claim_id, args["lang"], "docx")


@blp.route("/claims/<id:claim_id>/letter.pdf")
class ClaimLetterPdf(MethodView):
    @requires(Permission.READ)
    @blp.arguments(LetterArgs, location="query")
    @blp.doc(responses=_binary(rendering.MIME["pdf"]))
    def get(self, args, claim_id):
        """The letter as PDF, as sent; a draft's letter as it reads today."""
        return _letter(claim_id, args["lang"], "pdf")
