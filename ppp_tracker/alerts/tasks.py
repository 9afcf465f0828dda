"""Celery tasks of the alert engine: thin, they take ids and are safe to run twice."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from celery.signals import worker_ready
from flask import Flask

from ppp_tracker.alerts import jobs
from ppp_tracker.core.audit import Actor, acting_as


@shared_task(name="alerts.scan", ignore_result=True)
def scan_deadlines(as_of: str | None = None, trigger: str = "beat") -> int | None:
    """The periodic deadline scan (beat, every SCAN_INTERVAL_MINUTES)."""
    from flask import current_app

    if trigger == "worker" and not current_app.config["ALERT_SCAN_ON_WORKER_START"]:
        return None
    with acting_as(Actor("worker:alerts.scan")):
        run = jobs.run_scan(date.fromisoformat(as_of) if as_of else None, trigger=trigger)
    return run.id


@shared_task(name="alerts.deliver_batch", ignore_result=True)
def deliver_batch(delivery_ids: list[int]) -> int:
    """Send a batch of alerts over one SMTP connection; those refused for now, and those another
    worker holds, are queued again for when they can be tried."""

    with acting_as(Actor("worker:alerts.deliver")):
        result = jobs.deliver_batch(delivery_ids)
    return len(result.sent)


@shared_task(name="alerts.deliver", ignore_result=True)
def deliver_alert(delivery_id: int) -> int:
    """One alert (messages queued before batches existed): a batch of one."""
    return deliver_batch(delivery_ids=[delivery_id])


@shared_task(bind=True, name="alerts.digest", ignore_result=True, max_retries=None)
def send_digest(self, digest_id: int) -> str:
    """Send one user's daily digest; retried with backoff while the SMTP server fails."""

    with acting_as(Actor("worker:alerts.digest")):
        outcome = jobs.deliver_digest(digest_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


def beat_entry(app: Flask) -> dict:
    interval = jobs.scan_interval(app)
    return {
        "task": "alerts.scan",
        "schedule": interval,
        # A scan queued while no worker ran is worthless once the next one is due.
        "options": {"expires": interval.total_seconds()},
    }


@worker_ready.connect
def _scan_when_a_worker_starts(sender=None, **kwargs) -> None:
    """Beat's first interval would pass before the first scan: a worker that starts (after an
    outage, or with `make run`) asks for one at once, on a queue it consumes itself. Sent once
    the worker has declared its queues — earlier races the SQLite transport creating its tables.
    """
    queues = [queue.name for queue in sender.task_consumer.queues] if sender else []
    options = {"queue": queues[0]} if queues else {}
    sender.app.send_task("alerts.scan", kwargs={"trigger": "worker"}, **options)
