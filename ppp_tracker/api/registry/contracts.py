"""API resources of contracts with their penalty terms, response period and installments."""

from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa
from flask.views import MethodView
from sqlalchemy.orm import selectinload

from ppp_tracker.api.registry.blueprint import ListArgs, blp
from ppp_tracker.auth.access import Permission, get_in_scope, scope
from ppp_tracker.auth.api_access import api_user, requires
from ppp_tracker.core import limits
from ppp_tracker.core.api import (
    TOTAL_COUNT_HEADER,
    DecimalText,
    IdField,
    MoneyField,
    QueryId,
    StrictDate,
    enum_field,
    page_of,
    run_service,
)
from ppp_tracker.registry.codes import (
    ContractStatus,
    PenaltyBase,
)
from ppp_tracker.registry.lists import contract_matches
from ppp_tracker.registry.models import (
    Contract,
)
from ppp_tracker.registry.services.contracts import save_contract


class PenaltySchema(ma.Schema):
    rate_percent_per_day = DecimalText(required=True)
    base = enum_field(PenaltyBase, required=True)
    cap_percent = DecimalText(allow_none=True, load_default=None)


class ResponsePeriodSchema(ma.Schema):
    days = ma.fields.Integer(
        required=True, validate=ma.validate.Range(min=1, max=limits.RESPONSE_DAYS)
    )
    working = ma.fields.Boolean(required=True)
    from_receipt = ma.fields.Boolean(
        metadata={
            "description": "the period runs from the day the contractor received a claim "
            "(default false: from the day it is sent)"
        }
    )


class InstallmentSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    due_on = StrictDate(required=True)
    amount = MoneyField(required=True)
    description = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=limits.LINE))
    paid_on = StrictDate(allow_none=True)
    paid_amount = MoneyField(allow_none=True)


class ContractSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    number = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=limits.CODE))
    signed_on = StrictDate(required=True)
    customer_id = IdField(required=True)
    contractor_id = IdField(required=True)
    project_id = IdField(allow_none=True)
    site_id = IdField(allow_none=True)
    region = ma.fields.String(dump_only=True, attribute="region_code")
    subject = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=limits.NOTE))
    subject_kk = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=limits.NOTE))
    total_amount = MoneyField(required=True)
    currency = ma.fields.String(dump_only=True)
    starts_on = StrictDate(allow_none=True)
    ends_on = StrictDate(allow_none=True)
    status = enum_field(ContractStatus)
    penalty = ma.fields.Nested(PenaltySchema)
    penalty_clause_no = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=limits.CLAUSE_NO),
        metadata={"description": "the number of the penalty clause, e.g. 7.2"},
    )
    penalty_clause = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=limits.NAME),
        metadata={"description": "what the clause is (its heading), cited after its number"},
    )
    penalty_clause_kk = ma.fields.String(
        allow_none=True, validate=ma.validate.Length(max=limits.NAME)
    )
    response_period = ma.fields.Nested(ResponsePeriodSchema)
    grace_working_days = ma.fields.Integer(validate=ma.validate.Range(min=0, max=limits.GRACE_DAYS))
    officer = ma.fields.String(allow_none=True, metadata={"description": "the officer's e-mail"})
    installments = ma.fields.List(ma.fields.Nested(InstallmentSchema))
    is_demo = ma.fields.Boolean(dump_only=True)

    @ma.pre_dump
    def _shape(self, contract, **kwargs):
        # Output mirrors the input: grouped penalty terms and response period.
        return {
            **{
                c: getattr(contract, c)
                for c in (
                    "id",
                    "number",
                    "signed_on",
                    "customer_id",
                    "contractor_id",
                    "project_id",
                    "site_id",
                    "region_code",
                    "subject",
                    "subject_kk",
                    "total_amount",
                    "currency",
                    "starts_on",
                    "ends_on",
                    "status",
                    "penalty_clause_no",
                    "penalty_clause",
                    "penalty_clause_kk",
                    "grace_working_days",
                    "is_demo",
                )
            },
            "penalty": {
                "rate_percent_per_day": contract.penalty_rate_percent,
                "base": contract.penalty_base,
                "cap_percent": contract.penalty_cap_percent,
            },
            "response_period": {
                "days": contract.response_days,
                "working": contract.response_working,
                "from_receipt": contract.response_from_receipt,
            },
            "officer": contract.officer.email if contract.officer else None,
            "installments": contract.installments,
        }


class ContractListArgs(ListArgs):
    status = enum_field(ContractStatus)
    project_id = QueryId()
    site_id = QueryId()


@blp.route("/contracts")
class Contracts(MethodView):
    @requires(Permission.READ)
    @blp.arguments(ContractListArgs, location="query")
    @blp.response(200, ContractSchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args):
        user = api_user()
        stmt = scope(
            sa.select(Contract).options(
                selectinload(Contract.installments), selectinload(Contract.officer)
            ),
            user,
            Contract.region_code,
        ).order_by(Contract.id)
        if args.get("q") and args["q"].strip():
            stmt = stmt.where(contract_matches(args["q"].strip()[: limits.SEARCH]))
        for key, column in (
            ("region", Contract.region_code),
            ("status", Contract.status),
            ("project_id", Contract.project_id),
            ("site_id", Contract.site_id),
        ):
            if args.get(key) is not None:
                stmt = stmt.where(column == args[key])
        return page_of(stmt, args)

    @requires(Permission.EDIT_REGISTRY)
    @blp.arguments(ContractSchema)
    @blp.response(201, ContractSchema)
    def post(self, data):
        user = api_user()
        return run_service(save_contract, user, data)


@blp.route("/contracts/<id:contract_id>")
class ContractItem(MethodView):
    @requires(Permission.READ)
    @blp.response(200, ContractSchema)
    def get(self, contract_id):
        return get_in_scope(Contract, contract_id)

    @requires(Permission.EDIT_REGISTRY)
    @blp.arguments(ContractSchema(partial=True))
    @blp.response(200, ContractSchema)
    def patch(self, data, contract_id):
        user = api_user()
        contract = get_in_scope(Contract, contract_id)
        return run_service(save_contract, user, data, contract)
