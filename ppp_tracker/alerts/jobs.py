"""The edges of the alert engine: the scan as beat and the CLI run it, and one send as a task
runs it. They commit (between batches, around a send) and queue tasks only after a commit."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta

from flask import current_app

from ppp_tracker import clock
from ppp_tracker.alerts import delivery, scan
from ppp_tracker.alerts.models import ScanRun
from ppp_tracker.core import outbox
from ppp_tracker.db import db
from ppp_tracker.deadlines.tracking import refresh_unplanned

log = logging.getLogger(__name__)

#: Milestones handled per transaction; a scan after a long outage commits as it goes.
SCAN_BATCH = 5000
#: A guard against a scan that never ends while others keep changing the same rows.
MAX_BATCHES = 100_000
#: Deliveries are queued in at least this many tasks, each of at least MIN_TASK_BATCH.
SPREAD = 4
MIN_TASK_BATCH = 10
#: Called with the scan's day after a scan has finished and committed (the reports feature
#: queues the refresh of the dashboard's snapshots here): name -> fn(as_of).
SCAN_HOOKS: dict[str, Callable[[date], None]] = {}


def scan_interval(app) -> timedelta:
    """How often beat runs the scans: SCAN_INTERVAL_MINUTES, or SCAN_INTERVAL_SECONDS if set."""
    seconds = app.config.get("SCAN_INTERVAL_SECONDS") or 0
    if seconds > 0:
        return timedelta(seconds=seconds)
    return timedelta(minutes=app.config["SCAN_INTERVAL_MINUTES"])


def _queue(task_name: str, args: list[tuple], countdown: int | None = None) -> None:
    # This app's own Celery app (not whichever was created last in the process).
    task = current_app.extensions["celery"].tasks[task_name]
    for one in args:
        try:
            task.apply_async(one, countdown=countdown)
        except Exception:  # the broker is down: the next scan queues it again (stale_work)
            log.exception("could not queue %s%s", task_name, one)


def _queue_deliveries(ids: list[int], countdown: int | None = None) -> None:
    # A few deliveries are spread over several tasks (so over the worker processes) rather
    # than all sent by one; many go in full batches.
    chunk = min(delivery.BATCH, max(MIN_TASK_BATCH, -(-len(ids) // SPREAD)))
    batches = [(ids[start : start + chunk],) for start in range(0, len(ids), chunk)]
    _queue("alerts.deliver_batch", batches, countdown)


def _queue_digests(ids: list[int]) -> None:
    _queue("alerts.digest", [(digest_id,) for digest_id in ids])


def run_scan(
    as_of: date | None = None,
    *,
    trigger: str,
    send_now: bool = False,
    batch_size: int = SCAN_BATCH,
) -> ScanRun:
    """The whole scan on `as_of` (default today). With `send_now` the e-mails are sent in this
    process instead of by the workers (the CLI's --send-now)."""
    as_of = as_of or clock.today()
    if send_now:
        send_deliveries, send_digests = _send_deliveries_now, _send_digests_now
    else:
        send_deliveries, send_digests = _queue_deliveries, _queue_digests
    run = ScanRun(trigger=trigger, as_of=as_of, started_at=clock.now())
    db.session.add(run)
    db.session.commit()
    run_id = run.id
    try:
        counts = {"planned": _plan_unplanned(batch_size)}
        counts.update(_scan_due(as_of, batch_size, send_deliveries))
        counts.update(_digests_and_lost_work(as_of, send_deliveries, send_digests))
    except Exception as exc:
        db.session.rollback()
        run = db.session.get(ScanRun, run_id)
        run.error = f"{type(exc).__name__}: {exc}"[:2000]
        db.session.commit()
        raise
    run = db.session.get(ScanRun, run_id)
    for key, value in counts.items():
        setattr(run, key, value)
    run.finished_at = clock.now()
    db.session.commit()
    log.info("deadline scan as of %s: %s", as_of, counts)
    for hook in SCAN_HOOKS.values():
        hook(as_of)
    return run


def _plan_unplanned(batch_size: int) -> int:
    """Plan the milestones that have no plan yet (dates missing after an upgrade)."""
    total = 0
    while True:
        planned = refresh_unplanned(db.session, limit=batch_size)
        db.session.commit()
        total += planned
        if planned < batch_size:
            return total


def _scan_due(as_of: date, batch_size: int, send: Callable[[list[int]], None]) -> dict:
    """The due plans, batch by batch, a commit each; the immediate deliveries are sent (queued)
    after their batch's commit."""
    counts = {"alerts": 0, "deliveries": 0}
    for _batch in range(MAX_BATCHES):
        result = scan.scan_batch(as_of, limit=batch_size)
        db.session.commit()
        counts["alerts"] += result.alerts
        counts["deliveries"] += result.deliveries
        send(result.immediate_ids)
        # Done when the due rows run out — or when none of a full batch could be claimed:
        # another scan is moving those rows on right now, and will finish them.
        if result.selected < batch_size or result.claimed == 0:
            break
    return counts


def _digests_and_lost_work(
    as_of: date,
    send_deliveries: Callable[[list[int]], None],
    send_digests: Callable[[list[int]], None],
) -> dict:
    """The day's digests, then the deliveries and digests whose task was lost, queued again."""
    digest_ids = scan.queue_digests(as_of, clock.now())
    db.session.commit()
    send_digests(digest_ids)
    delivery.give_up_abandoned(clock.now())
    lost_deliveries, lost_digests = scan.stale_work(clock.now())
    db.session.commit()
    send_deliveries(lost_deliveries)
    send_digests(lost_digests)
    return {"digests": len(digest_ids), "requeued": len(lost_deliveries) + len(lost_digests)}


def deliver_batch(ids: list[int]) -> outbox.Result:
    """Send a batch of deliveries (see `core.outbox.deliver`); queue again, after their wait,
    those refused for now and those another worker holds."""
    result = delivery.deliver_batch(ids)
    requeue_later(result)
    return result


def requeue_later(result: outbox.Result) -> None:
    for delay, ids in result.retry.items():
        _queue_deliveries(ids, countdown=delay)
    if result.busy:
        _queue_deliveries(result.busy, countdown=result.busy_in)


def deliver(delivery_id: int) -> delivery.Outcome:
    """Send one delivery now, in this process (the CLI, tests); nothing is queued."""
    return delivery.outcome_of(delivery.deliver_batch([delivery_id]), delivery_id)


def deliver_digest(digest_id: int) -> delivery.Outcome:
    """Send one digest: claim and gather, send, record the outcome."""
    return delivery.outcome_of(delivery.deliver_digest(digest_id), digest_id, unsent="empty")


def _send_deliveries_now(ids: list[int]) -> None:
    for start in range(0, len(ids), delivery.BATCH):
        delivery.deliver_batch(ids[start : start + delivery.BATCH])


def _send_digests_now(ids: list[int]) -> None:
    for digest_id in ids:
        deliver_digest(digest_id)
