"""E-mails to legal staff about claims (a draft to review, a lawsuit recommended), exactly once
through the outbox (`core.outbox`)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from ppp_tracker import clock
from ppp_tracker.claims.codes import NoticeStatus
from ppp_tracker.claims.ladder import legal_recipients
from ppp_tracker.claims.models import Claim, ClaimNotice
from ppp_tracker.core import outbox
from ppp_tracker.core.dates import days_late_phrase, fmt
from ppp_tracker.core.mail import Email, MailError, send_email
from ppp_tracker.db import db
from ppp_tracker.money import format_money

LOCALES = ("ru", "kk", "en")


def queue_notices(claim: Claim, kind: str) -> list[int]:
    """One notice row per recipient, in the same transaction as the draft it is about."""
    ids = []
    for person in legal_recipients(claim.region_code):
        exists = db.session.scalar(
            sa.select(ClaimNotice.id).where(
                ClaimNotice.claim_id == claim.id,
                ClaimNotice.kind == kind,
                ClaimNotice.user_id == person.id,
            )
        )
        if exists is not None:
            continue
        notice = ClaimNotice(claim=claim, kind=kind, user_id=person.id, email=person.email)
        db.session.add(notice)
        db.session.flush()
        ids.append(notice.id)
    return ids


#: The notices' table in the outbox (`core.outbox`): "failed" is refused for now (tried again),
#: "refused" given up.
NOTICES = outbox.Queue(
    ClaimNotice,
    pending=NoticeStatus.PENDING,
    sending=NoticeStatus.SENDING,
    retry=NoticeStatus.FAILED,
    sent=NoticeStatus.SENT,
    failed=NoticeStatus.REFUSED,
    error_column="error",
    channel_column="channel",
)


def take_notice(notice_id: int) -> bool:
    """Claim a notice and mark its attempt (pending or refused for now, or a send whose worker
    died and whose lease ran out); False when someone has it or it is done."""
    return outbox.take(NOTICES, notice_id)


def notice_email(notice: ClaimNotice) -> Email:
    claim = notice.claim
    contract = claim.contract
    locale = notice.user.locale if notice.user and notice.user.locale in LOCALES else "ru"
    link = f"{current_app.config['BASE_URL'].rstrip('/')}/claims/{claim.id}"
    with force_locale(locale):
        amount = format_money(claim.penalty_total, locale)
        if notice.kind == "lawsuit":
            subject = _(
                "Lawsuit recommended: contract No. %(n)s, claim No. %(num)s unanswered",
                n=contract.number,
                num=claim.outgoing_number,
            )
            lead = _(
                "Claim No. %(num)s of %(d)s was the last of the ladder and was not answered by "
                "%(due)s. The contract is recommended for a lawsuit.",
                num=claim.outgoing_number,
                d=fmt(claim.sent_on),
                due=fmt(claim.response_due_on),
            )
        else:
            subject = _(
                "Claim draft (letter %(seq)s) on contract No. %(n)s: %(amount)s",
                seq=claim.sequence,
                n=contract.number,
                amount=amount,
            )
            lead = _(
                "A draft claim was prepared for review: letter %(seq)s to %(who)s, penalty "
                "%(amount)s as of %(d)s.",
                seq=claim.sequence,
                who=contract.contractor.name,
                amount=amount,
                d=fmt(claim.as_of),
            )
        lines = [lead, ""]
        for line in claim.lines:
            lines.append(
                _(
                    "— %(title)s: due %(due)s, %(late)s, %(amount)s",
                    title=line.title,
                    due=fmt(line.effective_due_on),
                    late=days_late_phrase(line.days_late),
                    amount=format_money(line.accrued, locale),
                )
            )
        lines += ["", _("Open it: %(link)s", link=link)]
    return Email(
        to=(notice.email,),
        subject=subject,
        text="\n".join(lines),
        message_id=f"claim-{claim.id}-{notice.kind}-{notice.user_id}@ppp-tracker",
    )


def deliver_notice(notice_id: int) -> str:
    """Send a notice already taken by `take_notice`; returns sent | retry | refused."""
    notice = db.session.get(ClaimNotice, notice_id)
    token = notice.claimed_at
    try:
        channel = send_email(notice_email(notice))
    except MailError as exc:
        delay = outbox.record_failure(NOTICES, notice_id, token, exc, clock.now())
        db.session.expire(notice)
        return "refused" if delay is None else "retry"
    outbox.record_sent(NOTICES, notice_id, token, clock.now(), channel=channel)
    db.session.expire(notice)
    return "sent"


def send_notices(ids: list[int]) -> outbox.Result:
    """Send these notices through the outbox: one claim, one SMTP connection."""
    return outbox.deliver(NOTICES, ids, _compose_notices)


def _compose_notices(ids: list[int]):
    notices = {
        n.id: n
        for n in db.session.scalars(
            sa.select(ClaimNotice)
            .where(ClaimNotice.id.in_(ids))
            .options(
                selectinload(ClaimNotice.user),
                selectinload(ClaimNotice.claim).selectinload(Claim.lines),
            )
        )
    }

    def make(notice_id: int) -> outbox.Letter:
        return outbox.Letter(notice_email(notices[notice_id]))

    return make


def stale_notices(now=None, limit: int = 1000) -> list[int]:
    """Notices whose task was lost or whose worker died mid-send (`core.outbox.stale`): queued
    again by the scan, like the alerts' `stale_work`."""
    return outbox.stale(NOTICES, now or clock.now(), limit)
