"""Celery tasks of the claims feature; thin: they take ids, call the services, commit once.

- `claims.scan` (beat): drafts claims for obligations late past their grace period, the next
  claim for unanswered ones, lawsuit recommendations; then queues the e-mails to legal staff.
- `claims.send_notice`: one e-mail to one person, claimed with a conditional UPDATE first.
- `claims.render_letters`: the DOCX and PDF (ru, kk) of a sent claim, kept as sent.
"""

from __future__ import annotations

from datetime import date

from celery import shared_task
from celery.signals import worker_ready
from flask import current_app

from ppp_tracker import clock
from ppp_tracker.claims import services
from ppp_tracker.claims.models import Claim, ClaimNotice
from ppp_tracker.core.audit import Actor, acting_as
from ppp_tracker.db import db

#: How many times a refused e-mail's task retries itself (then the scan's requeue carries on
#: until ALERT_MAX_ATTEMPTS).
MAX_RETRIES = len(services.NOTICE_RETRY_DELAYS) + 3


@shared_task(name="claims.scan")
def scan(as_of: str | None = None, trigger: str = "beat") -> dict | None:
    """Run the claims scan as of a day (default today) and queue its e-mails after commit."""
    if trigger == "worker" and not current_app.config["ALERT_SCAN_ON_WORKER_START"]:
        return None
    day = date.fromisoformat(as_of) if as_of else clock.today()
    with acting_as(Actor("worker:claims.scan")):
        result = services.scan(day)
        stale = services.stale_notices()
        db.session.commit()
    for notice_id in dict.fromkeys(result.notices + stale):
        send_notice.delay(notice_id)
    return {
        "drafted": result.drafted,
        "escalated": result.escalated,
        "flagged": result.flagged,
        "notices": len(result.notices),
    }


@shared_task(name="claims.send_notice", bind=True, max_retries=MAX_RETRIES)
def send_notice(self, notice_id: int) -> str:
    """Send one notice exactly once: claim it (commit), send, record the outcome (commit)."""
    with acting_as(Actor("worker:claims.send_notice")):
        if not services.take_notice(notice_id):
            db.session.rollback()
            return "taken"
        db.session.commit()
        outcome = services.deliver_notice(notice_id)
        attempts = db.session.get(ClaimNotice, notice_id).attempts
        db.session.commit()
    if outcome == "retry" and self.request.retries < MAX_RETRIES:
        raise self.retry(countdown=services.notice_retry_delay(attempts))
    return outcome


@shared_task(name="claims.render_letters")
def render_letters(claim_id: int) -> int:
    """Keep the rendered letters of a sent claim; safe to run twice (a file is unique)."""
    with acting_as(Actor("worker:claims.render_letters")):
        claim = db.session.get(Claim, claim_id)
        if claim is None:
            return 0
        made = services.store_letter_files(claim)
        db.session.commit()
    return len(made)


def queue_render(claim_id: int) -> None:
    """Queue the rendering of a just-sent letter (after the send committed).

    If the broker is unreachable the send still stands: its letter is frozen in the claim and is
    rendered from that on download until a worker keeps the files.
    """
    try:
        render_letters.delay(claim_id)
    except Exception:  # kombu raises several unrelated types when the broker is down
        current_app.logger.exception("could not queue the letters of claim %s", claim_id)


def beat_entry(app) -> dict:
    """The scan runs with the deadline scan's interval (SCAN_INTERVAL_MINUTES)."""
    from workers import scan_interval

    return {
        "task": "claims.scan",
        "schedule": scan_interval(app),
    }


@worker_ready.connect
def _scan_when_a_worker_starts(sender=None, **kwargs) -> None:
    """Like the deadline scan: a starting worker drafts what is overdue at once, instead of
    waiting a whole beat interval (after an outage, or on `make run`)."""
    queues = [queue.name for queue in sender.task_consumer.queues] if sender else []
    options = {"queue": queues[0]} if queues else {}
    sender.app.send_task("claims.scan", kwargs={"trigger": "worker"}, **options)
