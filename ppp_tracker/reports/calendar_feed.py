"""The per-user iCalendar (RFC 5545) feed of deadlines: its secret address and its content.

The address carries `<feed id>.<secret>`, where the secret is an HMAC of the feed's random nonce
under SECRET_KEY: the database alone never reveals a working address, yet the app can show the
user their address again. Renewing draws a new nonce; revoking switches the feed off.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import date, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ppp_tracker import clock
from ppp_tracker.auth.access import scope
from ppp_tracker.auth.models import User
from ppp_tracker.core.calendar import get_calendar
from ppp_tracker.core.dates import OPEN_STATUSES, MilestoneState, timing
from ppp_tracker.db import db
from ppp_tracker.registry.models import Contract, Milestone
from ppp_tracker.reports.models import CalendarFeed

if TYPE_CHECKING:
    from icalendar import Event

PRODID = "-//ppp-tracker//Deadlines of PPP contracts//RU"


def _secret(feed: CalendarFeed) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    message = f"calendar-feed:{feed.id}:{feed.user_id}:{feed.nonce}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def feed_token(feed: CalendarFeed) -> str:
    return f"{feed.id}.{_secret(feed)}"


def feed_url(feed: CalendarFeed) -> str | None:
    """The subscription address, or None while the feed is revoked."""
    if not feed.active:
        return None
    base = str(current_app.config["BASE_URL"]).rstrip("/")
    return f"{base}/calendar/{feed_token(feed)}.ics"


def feed_of(user: User) -> CalendarFeed | None:
    return db.session.scalar(sa.select(CalendarFeed).where(CalendarFeed.user_id == user.id))


def ensure_feed(user: User) -> CalendarFeed:
    """The user's feed, created on first use (active). Revoked feeds stay revoked."""
    feed = feed_of(user)
    if feed is not None:
        return feed
    feed = CalendarFeed(user_id=user.id, nonce=secrets.token_urlsafe(32))
    db.session.add(feed)
    try:
        db.session.flush()
    except IntegrityError:
        # Another request created it a moment ago (one feed per user is a unique key); callers
        # do nothing else in this transaction, so rolling it back loses nothing.
        db.session.rollback()
        feed = feed_of(user)
        if feed is None:  # pragma: no cover - the unique key says it exists
            raise
    return feed


def renew_feed(user: User) -> CalendarFeed:
    """A new address for the user's feed; the old one stops working at once."""
    feed = ensure_feed(user)
    feed.nonce = secrets.token_urlsafe(32)
    feed.revoked_at = None
    feed.created_at = clock.now()
    db.session.flush()
    return feed


def revoke_feed(user: User) -> CalendarFeed | None:
    """Switch the feed off; a later renewal gives a new address."""
    feed = feed_of(user)
    if feed is not None and feed.revoked_at is None:
        feed.revoked_at = clock.now()
        db.session.flush()
    return feed


def feed_for_token(token: str) -> CalendarFeed | None:
    """The active feed whose address carries this token, or None (unknown, wrong or revoked)."""
    ident, _sep, secret = token.partition(".")
    if not ident.isdigit() or not secret or len(ident) > 12:
        return None
    feed = db.session.get(CalendarFeed, int(ident))
    if feed is None or not feed.active or feed.user is None or not feed.user.active:
        return None
    if not hmac.compare_digest(secret.encode(), _secret(feed).encode()):
        return None
    return feed


def note_fetch(feed: CalendarFeed) -> None:
    """Remember when the feed was last read, at most once an hour (calendar apps poll often)."""
    now = clock.now()
    if feed.last_fetched_at is None or now - feed.last_fetched_at > timedelta(hours=1):
        db.session.execute(
            sa.update(CalendarFeed).where(CalendarFeed.id == feed.id).values(last_fetched_at=now)
        )


def open_milestones(user: User) -> list[Milestone]:
    """Open milestones with a date in the user's scope (the feed's events)."""
    stmt = (
        sa.select(Milestone)
        .join(Milestone.contract)
        .where(Milestone.status.in_(list(OPEN_STATUSES)), Milestone.due_on.is_not(None))
        .options(
            selectinload(Milestone.contract).selectinload(Contract.contractor),
            selectinload(Milestone.due_date_changes),
        )
        .order_by(Milestone.due_on, Milestone.id)
    )
    return list(db.session.scalars(scope(stmt, user, Contract.region_code)))


def build_calendar(user: User, as_of: date | None = None) -> bytes:
    """The feed as iCalendar bytes: one all-day event per open milestone on its effective date."""
    # icalendar (2 MiB a process) is imported by the first feed a process serves, not by every
    # web and worker process: calendar clients fetch a feed about once an hour.
    from icalendar import Calendar

    as_of = as_of or clock.today()
    base = str(current_app.config["BASE_URL"]).rstrip("/")
    host = base.split("://", 1)[-1].split("/", 1)[0] or "ppp-tracker"
    calendar = get_calendar()
    locale = user.locale if user.locale in current_app.config["LANGUAGES"] else "ru"
    with force_locale(locale):
        cal = Calendar()
        cal.add("prodid", PRODID)
        cal.add("version", "2.0")
        cal.add("calscale", "GREGORIAN")
        cal.add("method", "PUBLISH")
        name = _("ppp-tracker: deadlines")
        cal.add("x-wr-calname", name)
        cal.add("name", name)
        cal.add("x-wr-caldesc", _("Deadlines of the contracts in your scope"))
        # Ask subscribing clients (Outlook, Google) to refresh hourly.
        cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
        cal.add("x-published-ttl", "PT1H")
        for milestone in open_milestones(user):
            t = timing(
                calendar,
                due_on=milestone.due_on,
                status=milestone.status,
                met_on=milestone.met_on,
                as_of=as_of,
                locale=locale,
            )
            cal.add_component(_event(milestone, t, base, host))
    return cal.to_ical()


def _event(milestone: Milestone, t, base: str, host: str) -> Event:
    from icalendar import Event

    contract = milestone.contract
    event = Event()
    # Stable across renewals, regenerations and servers: the milestone is the event.
    event.add("uid", f"milestone-{milestone.id}@{host}")
    event.add("dtstamp", milestone.updated_at or clock.now())
    if milestone.updated_at:
        event.add("last-modified", milestone.updated_at)
    event.add("dtstart", t.effective_due_on)
    event.add("dtend", t.effective_due_on + timedelta(days=1))
    summary = _("No. %(number)s: %(title)s", number=contract.number, title=milestone.title)
    if t.state == MilestoneState.OVERDUE:
        summary = _("OVERDUE") + " · " + summary
    event.add("summary", summary)
    lines = [
        _(
            "Contract No. %(number)s of %(date)s",
            number=contract.number,
            date=contract.signed_on.strftime("%d.%m.%Y"),
        ),
        contract.subject,
        _("Contractor: %(name)s", name=contract.contractor.name),
        t.explanation,
        t.state.label,
    ]
    if milestone.status_note:
        lines.append(milestone.status_note)
    url = f"{base}/milestones/{milestone.id}"
    lines.append(url)
    event.add("description", "\n".join(str(line) for line in lines if line))
    event.add("url", url)
    event.add("categories", [str(t.state.label)])
    event.add("status", "CONFIRMED")
    # A deadline does not make the day busy.
    event.add("transp", "TRANSPARENT")
    event.add("sequence", len(milestone.due_date_changes))
    return event
