"""The alert and digest e-mails: text and HTML, in the recipient's language, with links.

A batch of alerts is composed by `BatchComposer`: each template is rendered once per language
and shape (which of its optional lines a message has), with markers where the message's own
fields go, and each message is that text with its fields filled in (escaped in the HTML part).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from datetime import date
from decimal import Decimal
from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from markupsafe import escape

from ppp_tracker.alerts.models import Alert, AlertDelivery, AlertDigest
from ppp_tracker.alerts.rules import is_overdue_rule, rule_label
from ppp_tracker.core.calendar import get_calendar
from ppp_tracker.core.dates import effective_due
from ppp_tracker.core.mail import Email
from ppp_tracker.deadlines.penalty import milestone_penalty
from ppp_tracker.money import format_money

#: Subjects are cut here; mail clients show little more.
SUBJECT_TITLE_LENGTH = 80


def user_locale(user) -> str:
    languages = current_app.config["LANGUAGES"]
    return user.locale if user.locale in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def external_url(endpoint: str, **values) -> str:
    """An absolute link under BASE_URL, built outside any request (workers, the CLI)."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http"
    )
    return adapter.build(endpoint, values, force_external=True)


def dmy(day: date | None) -> str:
    return "" if day is None else day.strftime("%d.%m.%Y")


@dataclass(frozen=True)
class AlertView:
    """What one reminder says, in the reader's language."""

    alert: Alert
    headline: str
    contract: str
    contractor: str
    title: str
    due_on: str
    effective_due_on: str
    explanation: str
    days_left: int
    days_late: int
    overdue: bool
    as_of: str
    penalty: str | None
    responsible: str | None
    url: str
    rule: str


def headline(alert: Alert) -> str:
    if alert.rule == "due_day":
        return _("Due today")
    if is_overdue_rule(alert.rule):
        return ngettext("Overdue by %(num)d day", "Overdue by %(num)d days", alert.days_late)
    return ngettext("Due in %(num)d day", "Due in %(num)d days", alert.days_left)


def alert_view(
    alert: Alert, locale: str, url: Callable[..., str] = external_url, calendar=None
) -> AlertView:
    milestone = alert.milestone
    contract = milestone.contract
    calendar = calendar or get_calendar()
    explanation = effective_due(calendar, milestone.due_on, locale).explanation()
    penalty = None
    if is_overdue_rule(alert.rule):
        line = milestone_penalty(milestone, alert.as_of, calendar)
        if line is not None and line.accrued > Decimal(0):
            penalty = format_money(line.accrued, locale)
    responsible = milestone.responsible or contract.officer
    return AlertView(
        alert=alert,
        headline=headline(alert),
        contract=_("Contract No. %(n)s of %(d)s", n=contract.number, d=dmy(contract.signed_on)),
        contractor=contract.contractor.name,
        title=milestone.title,
        due_on=dmy(milestone.due_on),
        effective_due_on=dmy(alert.effective_due_on),
        explanation=explanation,
        days_left=alert.days_left,
        days_late=alert.days_late,
        overdue=is_overdue_rule(alert.rule),
        as_of=dmy(alert.as_of),
        penalty=penalty,
        responsible=responsible.name if responsible is not None else None,
        url=url("registry.milestone", milestone_id=milestone.id),
        rule=rule_label(alert.rule),
    )


def _subject_title(title: str) -> str:
    return title if len(title) <= SUBJECT_TITLE_LENGTH else title[: SUBJECT_TITLE_LENGTH - 1] + "…"


def alert_email(delivery: AlertDelivery) -> Email:
    """One alert's e-mail, rendered plainly (a batch uses BatchComposer: the same text)."""
    user = delivery.user
    locale = user_locale(user)
    with force_locale(locale):
        view = alert_view(delivery.alert, locale)
        context = {
            "item": view,
            "user": user,
            "reason": delivery.reason.label,
            "settings_url": external_url("auth.profile"),
        }
        text = render_template("emails/alert.txt", **context)
        html = render_template("emails/alert.html", **context)
        return _alert_message(delivery, view, text, html)


def _alert_message(delivery: AlertDelivery, view: AlertView, text: str, html: str) -> Email:
    subject = _(
        "%(headline)s: %(title)s — contract No. %(n)s (due %(date)s)",
        headline=view.headline,
        title=_subject_title(view.title),
        n=delivery.alert.milestone.contract.number,
        date=view.effective_due_on,
    )
    return Email(
        to=(delivery.user.email,),
        subject=subject,
        text=text,
        html=html,
        message_id=f"alert-{delivery.id}@ppp-tracker",
        headers={"Auto-Submitted": "auto-generated", "X-PPP-Alert": str(delivery.alert_id)},
    )


#: A field's place in a rendered skeleton; no field value or template text contains \x1e.
_MARK = "\x1e{}\x1e"
_MARKED = re.compile("\x1e(\\w+)\x1e")
#: The view's fields filled in per message (the others decide the shape, or are not shown).
_FIELDS = [f.name for f in fields(AlertView) if f.name not in ("alert", "overdue")]


class BatchComposer:
    """Composes the alert e-mails of one batch: the link builder, the calendar and the settings
    link once per batch; each template once per language and shape, not once per message."""

    def __init__(self):
        base = urlsplit(current_app.config["BASE_URL"])
        self.adapter = current_app.url_map.bind(
            base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http"
        )
        self.calendar = get_calendar()
        self.settings_url = self.url("auth.profile")
        self.skeletons: dict[tuple, tuple[str, str]] = {}

    def url(self, endpoint: str, **values) -> str:
        return self.adapter.build(endpoint, values, force_external=True)

    def compose(self, deliveries: list[AlertDelivery]) -> dict[int, Email | Exception]:
        """The e-mails of `deliveries` by delivery id (an exception where composing failed),
        composed language by language."""
        out: dict[int, Email | Exception] = {}
        by_locale: dict[str, list[AlertDelivery]] = {}
        for delivery in deliveries:
            by_locale.setdefault(user_locale(delivery.user), []).append(delivery)
        for locale, group in by_locale.items():
            with force_locale(locale):
                for delivery in group:
                    try:
                        out[delivery.id] = self._email(delivery, locale)
                    except Exception as exc:  # one broken e-mail must not hold up the batch
                        current_app.logger.exception("composing delivery %s failed", delivery.id)
                        out[delivery.id] = exc
        return out

    def _email(self, delivery: AlertDelivery, locale: str) -> Email:
        view = alert_view(delivery.alert, locale, self.url, self.calendar)
        values = {name: getattr(view, name) for name in _FIELDS}
        values["reason"] = delivery.reason.label
        same_date = view.due_on == view.effective_due_on
        shape = (
            locale,
            view.overdue,
            view.penalty is not None,
            bool(view.days_left),
            view.responsible is not None,
            same_date,
        )
        skeleton = self.skeletons.get(shape)
        if skeleton is None:
            skeleton = self.skeletons[shape] = self._skeleton(view, same_date)
        text, html = skeleton

        def fill(template: str, quote) -> str:
            return _MARKED.sub(lambda m: quote(str(values[m.group(1)])), template)

        return _alert_message(delivery, view, fill(text, str), fill(html, escape))

    def _skeleton(self, view: AlertView, same_date: bool) -> tuple[str, str]:
        marked = {name: _MARK.format(name) for name in _FIELDS}
        if same_date:
            marked["due_on"] = marked["effective_due_on"]
        for name in ("penalty", "responsible"):
            if getattr(view, name) is None:
                marked[name] = None
        if not view.days_left:
            marked["days_left"] = view.days_left
        context = {
            "item": replace(view, **marked),
            "reason": _MARK.format("reason"),
            "settings_url": self.settings_url,
        }
        return (
            render_template("emails/alert.txt", **context),
            render_template("emails/alert.html", **context),
        )


def digest_email(digest: AlertDigest, deliveries: list[AlertDelivery]) -> Email:
    user = digest.user
    locale = user_locale(user)
    with force_locale(locale):
        views = [alert_view(d.alert, locale) for d in deliveries]
        overdue = [v for v in views if v.overdue]
        today = [v for v in views if v.alert.rule == "due_day"]
        upcoming = [v for v in views if not v.overdue and v.alert.rule != "due_day"]
        context = {
            "groups": [
                (_("Overdue"), overdue),
                (_("Due today"), today),
                (_("Coming up"), upcoming),
            ],
            "user": user,
            "digest_on": dmy(digest.digest_on),
            "count": len(views),
            "settings_url": external_url("auth.profile"),
            "deadlines_url": external_url("reports.deadlines"),
        }
        subject = ngettext(
            "Deadlines digest of %(date)s: %(num)d reminder",
            "Deadlines digest of %(date)s: %(num)d reminders",
            len(views),
            date=dmy(digest.digest_on),
        )
        if overdue:
            subject += " · " + ngettext("%(num)d overdue", "%(num)d overdue", len(overdue))
        text = render_template("emails/digest.txt", **context)
        html = render_template("emails/digest.html", **context)
    return Email(
        to=(user.email,),
        subject=subject,
        text=text,
        html=html,
        message_id=f"digest-{digest.id}@ppp-tracker",
        headers={"Auto-Submitted": "auto-generated"},
    )
