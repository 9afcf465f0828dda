"""Celery tasks of the claims feature; thin: they take ids, call the services, commit once.

- `claims.scan` (beat): drafts claims for obligations late past their grace period, the next
  claim for unanswered ones, lawsuit recommendations; then queues the e-mails to legal staff.
- `claims.send_notices`: a batch of e-mails to legal staff through the outbox (`core.outbox`).
- `claims.render_letters`: the DOCX and PDF (ru, kk) of a sent claim, kept as sent.
"""

from __future__ import annotations

from datetime import date

from celery import shared_task
from celery.signals import worker_ready
from flask import current_app

from ppp_tracker import clock
from ppp_tracker.alerts.jobs import scan_interval
from ppp_tracker.claims import composing, scanning, staff_notices
from ppp_tracker.claims.models import Claim
from ppp_tracker.core.audit import Actor, acting_as
from ppp_tracker.db import db

#: Notices sent by one task: one claim, one SMTP connection.
BATCH = 100


@shared_task(name="claims.scan")
def scan(as_of: str | None = None, trigger: str = "beat") -> dict | None:
    """Run the claims scan as of a day (default today) and queue its e-mails after commit."""
    if trigger == "worker" and not current_app.config["ALERT_SCAN_ON_WORKER_START"]:
        return None
    day = date.fromisoformat(as_of) if as_of else clock.today()
    with acting_as(Actor("worker:claims.scan")):
        result = scanning.scan(day)
        stale = staff_notices.stale_notices()
        db.session.commit()
    queue_notices(list(dict.fromkeys(result.notices + stale)))
    return {
        "drafted": result.drafted,
        "escalated": result.escalated,
        "flagged": result.flagged,
        "notices": len(result.notices),
    }


def queue_notices(ids: list[int], countdown: int | None = None) -> None:
    """Queue notices in batches (after the commit that wrote them); a broker that is down
    leaves them to the next scan's `stale_notices`."""
    for start in range(0, len(ids), BATCH):
        part = ids[start : start + BATCH]
        try:
            send_notices.apply_async((part,), countdown=countdown)
        except Exception:  # kombu raises several unrelated types when the broker is down
            current_app.logger.exception("could not queue notices %s", part)


@shared_task(name="claims.send_notices", ignore_result=True)
def send_notices(notice_ids: list[int]) -> int:
    """Send notices exactly once through the outbox; those refused for now, and those another
    worker holds, are queued again for when they can be tried."""
    with acting_as(Actor("worker:claims.send_notice")):
        result = staff_notices.send_notices(notice_ids)
    for delay, ids in result.retry.items():
        queue_notices(ids, countdown=delay)
    if result.busy:
        queue_notices(result.busy, countdown=result.busy_in)
    return len(result.sent)


@shared_task(name="claims.send_notice", ignore_result=True)
def send_notice(notice_id: int) -> int:
    """One notice (messages queued before batches existed): a batch of one."""
    return send_notices(notice_ids=[notice_id])


@shared_task(name="claims.render_letters")
def render_letters(claim_id: int) -> int:
    """Keep the rendered letters of a sent claim; safe to run twice (a file is unique)."""
    with acting_as(Actor("worker:claims.render_letters")):
        claim = db.session.get(Claim, claim_id)
        if claim is None:
            return 0
        made = composing.store_letter_files(claim)
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
