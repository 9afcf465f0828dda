"""JSON API of the alerts: a milestone's alert log, a contract's reminder rules."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from ppp_tracker.alerts import services
from ppp_tracker.alerts.models import CancelReason, DeliveryStatus, RecipientReason
from ppp_tracker.alerts.planning import rules_for
from ppp_tracker.alerts.rules import MAX_DAYS_BEFORE, rule_label
from ppp_tracker.auth.access import Permission, get_in_scope
from ppp_tracker.auth.api_access import api_blueprint, requires
from ppp_tracker.auth.models import AlertMode
from ppp_tracker.core.api import StrictDate, run_service
from ppp_tracker.registry.models import Contract, Milestone

blp = api_blueprint("alerts_api", "Alerts: the reminders of milestones and their delivery")


def _values(enum_cls) -> list[str]:
    return [m.value for m in enum_cls]


class DeliverySchema(ma.Schema):
    recipient = ma.fields.String(dump_only=True, metadata={"description": "the user's e-mail"})
    reason = ma.fields.String(dump_only=True, metadata={"enum": _values(RecipientReason)})
    mode = ma.fields.String(dump_only=True, metadata={"enum": _values(AlertMode)})
    status = ma.fields.String(dump_only=True, metadata={"enum": _values(DeliveryStatus)})
    cancel_reason = ma.fields.String(
        dump_only=True, allow_none=True, metadata={"enum": _values(CancelReason)}
    )
    attempts = ma.fields.Integer(dump_only=True)
    last_error = ma.fields.String(dump_only=True, allow_none=True)
    sent_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    sent_to = ma.fields.String(dump_only=True, allow_none=True)


class AlertSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    milestone_id = ma.fields.Integer(dump_only=True)
    rule = ma.fields.String(
        dump_only=True,
        metadata={"description": "before_N (N days before), due_day, overdue_N (N days late)"},
    )
    label = ma.fields.String(dump_only=True)
    effective_due_on = StrictDate(dump_only=True)
    fire_on = StrictDate(dump_only=True, metadata={"description": "the day the rule fires"})
    as_of = StrictDate(dump_only=True, metadata={"description": "the day of the scan"})
    days_left = ma.fields.Integer(dump_only=True)
    days_late = ma.fields.Integer(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)
    deliveries = ma.fields.List(ma.fields.Nested(DeliverySchema), dump_only=True)


def alert_payload(alert) -> dict:
    return {
        "id": alert.id,
        "milestone_id": alert.milestone_id,
        "rule": alert.rule,
        "label": rule_label(alert.rule),
        "effective_due_on": alert.effective_due_on,
        "fire_on": alert.fire_on,
        "as_of": alert.as_of,
        "days_left": alert.days_left,
        "days_late": alert.days_late,
        "created_at": alert.created_at,
        "deliveries": [
            {
                "recipient": d.user.email,
                "reason": d.reason.value,
                "mode": d.mode.value,
                "status": d.status.value,
                "cancel_reason": d.cancel_reason.value if d.cancel_reason else None,
                "attempts": d.attempts,
                "last_error": d.last_error,
                "sent_at": d.sent_at,
                "sent_to": d.sent_to,
            }
            for d in alert.deliveries
        ],
    }


class AlertRulesSchema(ma.Schema):
    days_before = ma.fields.List(
        ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_DAYS_BEFORE)),
        metadata={"description": "reminders this many calendar days before the due date"},
    )
    on_due_day = ma.fields.Boolean()
    overdue = ma.fields.Boolean(metadata={"description": "remind the day after the due date"})
    overdue_every_days = ma.fields.Integer(
        validate=ma.validate.Range(min=0, max=services.MAX_OVERDUE_EVERY_DAYS),
        metadata={"description": "then every N days until met or waived; 0: no repeats"},
    )


@blp.route("/milestones/<id:milestone_id>/alerts")
class MilestoneAlerts(MethodView):
    @requires(Permission.READ)
    @blp.response(200, AlertSchema(many=True))
    def get(self, milestone_id):
        """The alert log of a milestone: each reminder and what became of it, newest first."""
        milestone = get_in_scope(Milestone, milestone_id)
        return [alert_payload(a) for a in services.alert_log(milestone)]


@blp.route("/contracts/<id:contract_id>/alert-rules")
class ContractAlertRulesResource(MethodView):
    @requires(Permission.READ)
    @blp.response(200, AlertRulesSchema)
    def get(self, contract_id):
        """The contract's reminder rules (the defaults unless changed)."""
        contract = get_in_scope(Contract, contract_id)
        return services.rules_payload(rules_for(contract.id))

    @requires(Permission.EDIT_REGISTRY)
    @blp.arguments(AlertRulesSchema(partial=True))
    @blp.response(200, AlertRulesSchema)
    def patch(self, data, contract_id):
        """Change the contract's reminder rules; its open milestones are planned anew."""
        contract = get_in_scope(Contract, contract_id)
        rules = run_service(services.save_contract_rules, contract, data)
        return services.rules_payload(rules)
