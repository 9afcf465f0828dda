"""Alert settings and what the pages show: contract rules, a user's preferences, alert logs."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, has_request_context
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from ppp_tracker import clock
from ppp_tracker.alerts.models import Alert, AlertDelivery, AlertPlan, ContractAlertRules, ScanRun
from ppp_tracker.alerts.planning import replan_contract, rules_for
from ppp_tracker.alerts.rules import AlertRules, format_days, parse_days
from ppp_tracker.auth.models import AlertMode, User
from ppp_tracker.core.validation import Errors
from ppp_tracker.core.web import NOT_LOADED, with_user
from ppp_tracker.db import db
from ppp_tracker.registry.models import Contract, Milestone

MAX_OVERDUE_EVERY_DAYS = 90


def save_contract_rules(contract: Contract, data: dict) -> AlertRules:
    """Set a contract's reminder rules (days_before, on_due_day, overdue, overdue_every_days)
    and re-plan its open milestones."""
    errors = Errors()
    current = rules_for(contract.id)
    days_before = current.days_before
    if "days_before" in data:
        raw = data.get("days_before")
        if isinstance(raw, list):
            raw = ", ".join(str(x) for x in raw)
        if raw is not None and not isinstance(raw, str):
            errors.add("days_before", _("Give whole numbers of days separated by commas."))
        else:
            try:
                days_before = parse_days(raw or "")
            except ValueError as exc:
                errors.add("days_before", str(exc))
    flags = {}
    for name in ("on_due_day", "overdue"):
        value = data.get(name, getattr(current, name))
        if not isinstance(value, bool):
            errors.add(name, _("Must be true or false."))
        flags[name] = value
    every = data.get("overdue_every_days", current.overdue_every_days)
    if isinstance(every, bool) or not isinstance(every, int):
        errors.add("overdue_every_days", _("Must be a whole number."))
    elif not 0 <= every <= MAX_OVERDUE_EVERY_DAYS:
        errors.add(
            "overdue_every_days",
            _("Must be between 0 and %(n)d (0: only the day after).", n=MAX_OVERDUE_EVERY_DAYS),
        )
    errors.raise_if_any()
    rules = AlertRules(
        days_before=days_before,
        on_due_day=flags["on_due_day"],
        overdue=flags["overdue"],
        overdue_every_days=every,
    )
    row = db.session.get(ContractAlertRules, contract.id)
    if row is None:
        row = ContractAlertRules(contract_id=contract.id, contract=contract)
        db.session.add(row)
    row.days_before = format_days(rules.days_before)
    row.on_due_day = rules.on_due_day
    row.overdue = rules.overdue
    row.overdue_every_days = rules.overdue_every_days
    db.session.flush()
    replan_contract(contract.id)
    return rules


def rules_payload(rules: AlertRules) -> dict:
    return {
        "days_before": list(rules.days_before),
        "on_due_day": rules.on_due_day,
        "overdue": rules.overdue,
        "overdue_every_days": rules.overdue_every_days,
    }


def save_preferences(user: User, alert_mode: str | None, locale: str | None) -> User:
    """A user's choice: each alert at once or one daily digest, and the language of e-mails."""
    errors = Errors()
    try:
        mode = AlertMode(alert_mode)
    except ValueError:
        errors.add("alert_mode", _("Choose immediate e-mails or the daily digest."))
    if locale not in current_app.config["LANGUAGES"]:
        errors.add("locale", _("Choose Russian, Kazakh or English."))
    errors.raise_if_any()
    user.alert_mode = mode
    user.locale = locale
    db.session.flush()
    return user


def alert_log(milestone: Milestone) -> list[Alert]:
    """A milestone's alerts, newest first, with their deliveries."""
    return list(
        db.session.scalars(
            sa.select(Alert)
            .where(Alert.milestone_id == milestone.id)
            .options(selectinload(Alert.deliveries).selectinload(AlertDelivery.user))
            .order_by(Alert.created_at.desc(), Alert.id.desc())
        )
    )


def last_alerts(milestone_ids: list[int]) -> dict[int, Alert]:
    """The newest alert of each of these milestones (for the deadline lists)."""
    if not milestone_ids:
        return {}
    newest = (
        sa.select(sa.func.max(Alert.id))
        .where(Alert.milestone_id.in_(milestone_ids))
        .group_by(Alert.milestone_id)
    )
    rows = db.session.scalars(sa.select(Alert).where(Alert.id.in_(newest))).all()
    return {alert.milestone_id: alert for alert in rows}


def plan_of(milestone: Milestone) -> AlertPlan | None:
    return db.session.get(AlertPlan, milestone.id)


def last_completed_scan_select():
    return sa.select(sa.func.max(ScanRun.finished_at))


def last_completed_scan() -> datetime | None:
    """When the last deadline scan finished; read with the page's user when it was (the
    banner on every page asks), else now."""
    if has_request_context():
        last = with_user("alerts.last_scan")
        if last is not NOT_LOADED:
            return last
    return db.session.scalar(last_completed_scan_select())


def stale_after() -> timedelta:
    config = current_app.config
    minutes = config.get("SCAN_STALE_MINUTES") or 3 * config["SCAN_INTERVAL_MINUTES"]
    return timedelta(minutes=minutes)


def scan_is_stale(now: datetime | None = None) -> tuple[bool, datetime | None]:
    last = last_completed_scan()
    now = now or clock.now()
    return (last is None or now - last > stale_after()), last
