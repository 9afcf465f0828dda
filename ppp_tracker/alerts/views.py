"""Alert pages: the outbox, a contract's reminder rules, preferences, and the panels that show
the alert log on the milestone page, the rules on the contract page, the settings on the profile.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_required
from markupsafe import Markup

from ppp_tracker import clock
from ppp_tracker.alerts import services
from ppp_tracker.alerts.forms import ContractRulesForm, PreferencesForm
from ppp_tracker.alerts.models import AlertDelivery, DeliveryStatus
from ppp_tracker.alerts.planning import rules_for
from ppp_tracker.alerts.rules import format_days, rule_label
from ppp_tracker.auth.access import Permission, acting_user, get_in_scope, has_permission, require
from ppp_tracker.core.errors import Invalid
from ppp_tracker.core.forms import apply_errors, save_form
from ppp_tracker.core.listing import Listing
from ppp_tracker.core.mail import OutboxMessage
from ppp_tracker.core.web import Banner, format_timestamp
from ppp_tracker.db import db
from ppp_tracker.registry.models import Contract, Milestone

bp = Blueprint("alerts", __name__)


@bp.before_request
@login_required
def _logged_in():
    """Every alert page needs a logged-in user."""


# --- outbox ---------------------------------------------------------------------------------


def _own_messages(email: str):
    """Messages addressed to this address (recipients are "a@x, b@y")."""
    column = OutboxMessage.recipients
    # "_" and "%" are wildcards of LIKE and may be part of an address: match them literally.
    literal = email.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return sa.or_(
        column == email,
        column.like(f"{literal}, %", escape="\\"),
        column.like(f"%, {literal}", escape="\\"),
        column.like(f"%, {literal}, %", escape="\\"),
    )


@bp.get("/outbox")
def outbox():
    user = require(Permission.READ)
    stmt = sa.select(OutboxMessage)
    everyone = has_permission(user, Permission.ADMIN)
    if not everyone:
        stmt = stmt.where(_own_messages(user.email))
    listing = Listing(
        stmt,
        search=[OutboxMessage.search_text],
        sorts={"created": OutboxMessage.created_at},
        default_sort="-created",
    )
    return render_template(
        "alerts/outbox.html",
        listing=listing,
        everyone=everyone,
        smtp_server=current_app.config.get("MAIL_SERVER"),
    )


# --- a contract's reminder rules --------------------------------------------------------------


@bp.route("/contracts/<id:contract_id>/alert-rules", methods=["GET", "POST"])
def contract_rules(contract_id: int):
    require(Permission.EDIT_REGISTRY)
    contract = get_in_scope(Contract, contract_id)
    form = ContractRulesForm()
    if request.method == "GET":
        rules = rules_for(contract.id)
        form.days_before.data = format_days(rules.days_before)
        form.on_due_day.data = rules.on_due_day
        form.overdue.data = rules.overdue
        form.overdue_every_days.data = rules.overdue_every_days
    if form.validate_on_submit():
        data = {
            "days_before": form.days_before.data or "",
            "on_due_day": bool(form.on_due_day.data),
            "overdue": bool(form.overdue.data),
            "overdue_every_days": form.overdue_every_days.data,
        }
        done = save_form(
            form,
            lambda: services.save_contract_rules(contract, data),
            lambda _rules: url_for("registry.contract", contract_id=contract.id) + "#alert-rules",
            saved=_("The reminder rules are saved; the reminders are planned anew."),
        )
        if done:
            return done
    status = 422 if (form.errors or form.form_errors) else 200
    return render_template("alerts/contract_rules.html", form=form, contract=contract), status


# --- preferences ------------------------------------------------------------------------------


@bp.post("/alerts/preferences")
def preferences():
    user = g.user
    form = PreferencesForm()
    if form.validate_on_submit():
        try:
            services.save_preferences(user, form.alert_mode.data, form.locale.data)
            db.session.commit()
        except Invalid as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            session["locale"] = user.locale
            flash(_("Your notification settings are saved."), "success")
            return redirect(url_for("auth.profile") + "#notifications")
    for field_errors in form.errors.values():
        for message in field_errors:
            flash(str(message), "danger")
    return redirect(url_for("auth.profile") + "#notifications")


# --- panels, banner -----------------------------------------------------------------------------


def milestone_panel(milestone: Milestone):
    # The template autoescapes everything it inserts; its output is safe HTML.
    return Markup(  # noqa: S704
        render_template(
            "alerts/_milestone_panel.html",
            milestone=milestone,
            alerts=services.alert_log(milestone),
            plan=services.plan_of(milestone),
            rules=rules_for(milestone.contract_id),
            rule_label=rule_label,
            statuses=DeliveryStatus,
            today=clock.today(),
        )
    )


def contract_panel(contract: Contract):
    # The template autoescapes everything it inserts; its output is safe HTML.
    return Markup(  # noqa: S704
        render_template(
            "alerts/_contract_panel.html", contract=contract, rules=rules_for(contract.id)
        )
    )


def profile_panel():
    user = acting_user()
    if user is None:
        return None
    form = PreferencesForm(alert_mode=str(user.alert_mode), locale=user.locale)
    recent = db.session.scalars(
        sa.select(AlertDelivery)
        .where(AlertDelivery.user_id == user.id)
        .order_by(AlertDelivery.id.desc())
        .limit(5)
    ).all()
    # The template autoescapes everything it inserts; its output is safe HTML.
    return Markup(  # noqa: S704
        render_template(
            "alerts/_profile_panel.html",
            form=form,
            user=user,
            recent=recent,
            rule_label=rule_label,
        )
    )


def scan_banner() -> list[Banner]:
    stale, last = services.scan_is_stale()
    if not stale:
        return []
    minutes = int(services.stale_after().total_seconds() // 60)
    if last is None:
        text = _(
            "The deadline scan has not completed yet, so no reminders are being sent. "
            "Check that the Celery worker and beat are running."
        )
    else:
        text = _(
            "The deadline scan last completed on %(when)s, more than %(n)d minutes ago: "
            "reminders may be late. Check that the Celery worker and beat are running.",
            when=format_timestamp(last),
            n=minutes,
        )
    return [Banner("warning", text)]
