"""The penalty of a contract's late obligations on a day, per milestone and in total, with the
warnings a lawyer must know."""

from __future__ import annotations

from dataclasses import asdict

import marshmallow as ma
from flask.views import MethodView

from ppp_tracker import clock
from ppp_tracker.auth.access import Permission, get_in_scope
from ppp_tracker.auth.api_access import requires
from ppp_tracker.claims.api.common import blp
from ppp_tracker.core.api import DecimalText, MoneyField, StrictDate
from ppp_tracker.deadlines.penalty import contract_penalty
from ppp_tracker.registry.models import Contract


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
