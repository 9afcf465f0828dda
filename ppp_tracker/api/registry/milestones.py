"""API resources of milestones (with their timing) and of the deadlines list."""

from __future__ import annotations

from datetime import date

import marshmallow as ma
from flask.views import MethodView

from ppp_tracker import clock
from ppp_tracker.api.registry.blueprint import blp
from ppp_tracker.auth.access import Permission, get_in_scope
from ppp_tracker.auth.api_access import api_user, requires
from ppp_tracker.core import limits
from ppp_tracker.core.api import IdField, MoneyField, QueryId, StrictDate, enum_field, run_service
from ppp_tracker.core.calendar import get_calendar
from ppp_tracker.core.dates import MilestoneState, timing
from ppp_tracker.deadlines.queries import deadlines
from ppp_tracker.registry.codes import (
    MilestoneStatus,
    MilestoneType,
    Obligor,
    RelativeUnit,
)
from ppp_tracker.registry.models import (
    Contract,
    Milestone,
)
from ppp_tracker.registry.services.milestones import save_milestone


class RelativeSchema(ma.Schema):
    milestone_id = IdField(metadata={"description": "count from this milestone's met date"})
    claim_id = IdField(metadata={"description": "or from the day this claim is sent"})
    amount = ma.fields.Integer(
        required=True, validate=ma.validate.Range(min=0, max=limits.OFFSET_DAYS)
    )
    unit = enum_field(RelativeUnit, required=True)


class MilestoneSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    contract_id = ma.fields.Integer(dump_only=True)
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=limits.LINE))
    title_kk = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=limits.LINE))
    description = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=limits.TEXT))
    type = enum_field(MilestoneType, required=True)
    code = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=limits.CODE))
    obligor = enum_field(Obligor)
    responsible = ma.fields.String(
        allow_none=True, metadata={"description": "the responsible user's e-mail"}
    )
    value = MoneyField(allow_none=True)
    due_on = StrictDate(allow_none=True)
    relative = ma.fields.Nested(RelativeSchema, allow_none=True)
    reason = ma.fields.String(
        load_only=True,
        allow_none=True,
        validate=ma.validate.Length(max=limits.REASON),
        metadata={"description": "required when due_on changes"},
    )
    met_on = StrictDate(allow_none=True)
    status = enum_field(MilestoneStatus)
    status_note = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=limits.NOTE))
    effective_due_on = StrictDate(dump_only=True, allow_none=True)
    state = ma.fields.String(dump_only=True, metadata={"enum": [m.value for m in MilestoneState]})
    days_late = ma.fields.Integer(dump_only=True)
    explanation = ma.fields.String(dump_only=True)
    due_date_changes = ma.fields.List(ma.fields.Dict(), dump_only=True)

    @ma.pre_dump
    def _with_timing(self, milestone, **kwargs):
        if isinstance(milestone, dict):
            return milestone
        return milestone_payload(milestone, clock.today())


def milestone_payload(milestone: Milestone, as_of: date) -> dict:
    """A milestone as the API shows it, with its timing on `as_of`."""
    t = timing(
        get_calendar(),
        due_on=milestone.due_on,
        status=milestone.status,
        met_on=milestone.met_on,
        as_of=as_of,
    )
    return {
        **{
            c: getattr(milestone, c)
            for c in (
                "id",
                "contract_id",
                "title",
                "title_kk",
                "description",
                "type",
                "code",
                "obligor",
                "value",
                "due_on",
                "met_on",
                "status",
                "status_note",
            )
        },
        "responsible": milestone.responsible.email if milestone.responsible else None,
        "relative": (
            {
                "milestone_id": milestone.relative_to_id,
                "claim_id": milestone.relative_to_claim_id,
                "amount": milestone.relative_amount,
                "unit": milestone.relative_unit,
            }
            if milestone.is_relative
            else None
        ),
        "effective_due_on": t.effective_due_on,
        "state": t.state.value,
        "days_late": t.days_late,
        "explanation": t.explanation,
        "due_date_changes": [
            {
                "old_due_on": ch.old_due_on.isoformat() if ch.old_due_on else None,
                "new_due_on": ch.new_due_on.isoformat() if ch.new_due_on else None,
                "reason": ch.reason,
                "changed_at": ch.changed_at.isoformat(),
            }
            for ch in milestone.due_date_changes
        ],
    }


class DeadlineArgs(ma.Schema):
    as_of = StrictDate()
    state = ma.fields.String(validate=ma.validate.OneOf(["overdue", "upcoming"]))
    within_days = ma.fields.Integer(validate=ma.validate.Range(min=0, max=limits.LOOKAHEAD_DAYS))
    contract_id = QueryId()
    region = ma.fields.String(validate=ma.validate.Length(max=limits.REGION))


@blp.route("/contracts/<id:contract_id>/milestones")
class ContractMilestones(MethodView):
    @requires(Permission.READ)
    @blp.response(200, MilestoneSchema(many=True))
    def get(self, contract_id):
        return get_in_scope(Contract, contract_id).milestones

    @requires(Permission.EDIT_REGISTRY)
    @blp.arguments(MilestoneSchema)
    @blp.response(201, MilestoneSchema)
    def post(self, data, contract_id):
        user = api_user()
        contract = get_in_scope(Contract, contract_id)
        return run_service(save_milestone, user, contract, data)


@blp.route("/milestones/<id:milestone_id>")
class MilestoneItem(MethodView):
    @requires(Permission.READ)
    @blp.response(200, MilestoneSchema)
    def get(self, milestone_id):
        return get_in_scope(Milestone, milestone_id)

    @requires(Permission.EDIT_REGISTRY)
    @blp.arguments(MilestoneSchema(partial=True))
    @blp.response(200, MilestoneSchema)
    def patch(self, data, milestone_id):
        user = api_user()
        milestone = get_in_scope(Milestone, milestone_id)
        return run_service(save_milestone, user, milestone.contract, data, milestone)


class DeadlineSchema(MilestoneSchema):
    contract_number = ma.fields.String(dump_only=True)
    region = ma.fields.String(dump_only=True)


@blp.route("/deadlines")
class Deadlines(MethodView):
    @requires(Permission.READ)
    @blp.arguments(DeadlineArgs, location="query")
    @blp.response(200, DeadlineSchema(many=True))
    def get(self, args):
        """Open milestones with effective due date, state and days late as of `as_of` (today)."""
        user = api_user()
        as_of: date = args.get("as_of") or clock.today()
        rows = deadlines(
            user,
            as_of=as_of,
            state=args.get("state"),
            within_days=args.get("within_days"),
            contract_id=args.get("contract_id"),
            region=args.get("region"),
        )
        return [
            {
                **milestone_payload(m, as_of),
                "contract_number": m.contract.number,
                "region": m.contract.region_code,
            }
            for m in rows
        ]
