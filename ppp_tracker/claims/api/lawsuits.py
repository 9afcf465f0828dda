"""Lawsuits about a contract, their hearings (milestones of the contract, so alerts remind of
them) and the contracts recommended for a lawsuit."""

from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa
from flask.views import MethodView

from ppp_tracker.auth.access import Permission, get_in_scope, scope
from ppp_tracker.auth.api_access import api_user, requires
from ppp_tracker.claims import cases
from ppp_tracker.claims.api.common import Id, blp
from ppp_tracker.claims.codes import CaseOutcome
from ppp_tracker.claims.models import Case
from ppp_tracker.core import limits
from ppp_tracker.core.api import (
    TOTAL_COUNT_HEADER,
    MoneyField,
    PageArgs,
    StrictDate,
    enum_field,
    page_of,
    run_service,
)
from ppp_tracker.registry.models import Contract


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
