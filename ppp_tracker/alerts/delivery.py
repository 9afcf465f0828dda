"""Sending alerts: claim a delivery (or a digest) with a conditional UPDATE, check that it is
still true, send it, record the outcome. Services: they flush, `alerts.jobs` commits.

The claim is committed before the e-mail leaves, so two workers (a retried task, a message
delivered twice, a scan queueing lost work again) can never both send it. A worker that dies
between sending and recording leaves the row "sending"; after ALERT_SEND_LEASE_SECONDS it is
taken over and sent again under the same Message-ID — the one case where a reader might see a
message twice, which no protocol over SMTP can rule out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from ppp_tracker.alerts.audience import refusal
from ppp_tracker.alerts.compose import alert_email, digest_email
from ppp_tracker.alerts.models import (
    Alert,
    AlertDelivery,
    AlertDigest,
    CancelReason,
    DeliveryStatus,
)
from ppp_tracker.auth.models import AlertMode
from ppp_tracker.core.mail import MailError, send_email
from ppp_tracker.db import db
from ppp_tracker.deadlines.rules import OPEN_STATUSES
from ppp_tracker.registry.models import Contract, Milestone

#: The longest wait between two attempts; below the broker's visibility timeout (6 h).
MAX_BACKOFF_SECONDS = 3600


@dataclass(frozen=True)
class Outcome:
    #: sent | retry | failed | cancelled | empty | busy (another worker is sending it; look
    #: again when its claim runs out) | skipped (it is done, or not a task's to send)
    status: str
    retry_in: int | None = None


SKIPPED = Outcome("skipped")


def backoff_seconds(attempts: int) -> int:
    base = current_app.config["ALERT_RETRY_BASE_SECONDS"]
    return min(MAX_BACKOFF_SECONDS, base * 2 ** max(0, attempts - 1))


def _claimable(model, now: datetime):
    config = current_app.config
    lease = now - timedelta(seconds=config["ALERT_SEND_LEASE_SECONDS"])
    return sa.or_(
        model.status.in_([DeliveryStatus.PENDING, DeliveryStatus.RETRY]),
        sa.and_(
            model.status == DeliveryStatus.SENDING,
            model.claimed_at <= lease,
            model.attempts < config["ALERT_MAX_ATTEMPTS"],
        ),
    )


def give_up_abandoned(now: datetime) -> int:
    """Sends whose worker died mid-way ALERT_MAX_ATTEMPTS times fail for good (and say so)."""
    config = current_app.config
    lease = now - timedelta(seconds=config["ALERT_SEND_LEASE_SECONDS"])
    count = 0
    for model in (AlertDelivery, AlertDigest):
        result = db.session.execute(
            sa.update(model)
            .where(
                model.status == DeliveryStatus.SENDING,
                model.claimed_at <= lease,
                model.attempts >= config["ALERT_MAX_ATTEMPTS"],
            )
            .values(
                status=DeliveryStatus.FAILED,
                last_error="the worker stopped while sending, every attempt",
            )
            .execution_options(synchronize_session=False)
        )
        count += result.rowcount
    return count


def claim_delivery(delivery_id: int, now: datetime) -> bool:
    """Take the delivery for this worker: one row changes, or it is someone else's / done."""
    result = db.session.execute(
        sa.update(AlertDelivery)
        .where(
            AlertDelivery.id == delivery_id,
            AlertDelivery.mode == AlertMode.IMMEDIATE,
            _claimable(AlertDelivery, now),
        )
        .values(
            status=DeliveryStatus.SENDING,
            attempts=AlertDelivery.attempts + 1,
            claimed_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def busy_for(model, row_id: int, now: datetime) -> int | None:
    """Seconds until another worker's claim on the row runs out, if it is being sent now.

    A second message for a row that is being sent (the broker redelivered it after its worker
    process died) comes back when the claim can be taken over, instead of being dropped.
    """
    row = db.session.get(model, row_id)
    if row is None or row.status != DeliveryStatus.SENDING or row.claimed_at is None:
        return None
    lease = timedelta(seconds=current_app.config["ALERT_SEND_LEASE_SECONDS"])
    return max(1, int((row.claimed_at + lease - now).total_seconds()) + 1)


def _cancel_reason(delivery: AlertDelivery) -> CancelReason | None:
    """Why this reminder is no longer true at the time of sending, if it is not."""
    alert = delivery.alert
    milestone = alert.milestone
    # The recipient as they are now, not as they were when the alert was planned.
    refused = refusal(delivery.user, milestone.region_code, delivery.reason)
    if refused is not None:
        return refused
    if milestone.status not in OPEN_STATUSES:
        return CancelReason.CLOSED
    if milestone.effective_due_on != alert.effective_due_on:
        return CancelReason.DATE_CHANGED
    newer = db.session.scalar(
        sa.select(sa.func.count(Alert.id)).where(
            Alert.milestone_id == alert.milestone_id, Alert.id > alert.id
        )
    )
    if newer:
        return CancelReason.SUPERSEDED
    return None


def send_delivery(delivery_id: int, now: datetime) -> Outcome:
    """Send a claimed delivery (or cancel it when no longer true); raises MailError on failure."""
    # Everything the e-mail says, in one query rather than a lazy load per relationship.
    delivery = db.session.get(
        AlertDelivery,
        delivery_id,
        options=[
            joinedload(AlertDelivery.user),
            joinedload(AlertDelivery.alert)
            .joinedload(Alert.milestone)
            .options(
                joinedload(Milestone.responsible),
                joinedload(Milestone.contract).options(
                    joinedload(Contract.contractor), joinedload(Contract.officer)
                ),
            ),
        ],
    )
    reason = _cancel_reason(delivery)
    if reason is not None:
        delivery.status = DeliveryStatus.CANCELLED
        delivery.cancel_reason = reason
        db.session.flush()
        return Outcome("cancelled")
    email = alert_email(delivery)
    send_email(email)
    delivery.status = DeliveryStatus.SENT
    delivery.sent_at = now
    delivery.sent_to = delivery.user.email
    delivery.last_error = None
    db.session.flush()
    return Outcome("sent")


def record_failure(model, row_id: int, exc: Exception, now: datetime) -> Outcome:
    """A failed attempt: retry later with backoff, or give up after ALERT_MAX_ATTEMPTS."""
    row = db.session.get(model, row_id)
    temporary = getattr(exc, "temporary", True)
    row.last_error = str(exc)[:2000] or type(exc).__name__
    if temporary and row.attempts < current_app.config["ALERT_MAX_ATTEMPTS"]:
        delay = backoff_seconds(row.attempts)
        row.status = DeliveryStatus.RETRY
        row.next_attempt_at = now + timedelta(seconds=delay)
        outcome = Outcome("retry", delay)
    else:
        row.status = DeliveryStatus.FAILED
        row.next_attempt_at = None
        outcome = Outcome("failed")
    if isinstance(row, AlertDigest):
        for delivery in row.deliveries:
            if delivery.status == DeliveryStatus.PENDING or outcome.status == "failed":
                delivery.last_error = row.last_error
                if outcome.status == "failed":
                    delivery.status = DeliveryStatus.FAILED
    db.session.flush()
    return outcome


# --- digests ------------------------------------------------------------------------------


def claim_digest(digest_id: int, now: datetime) -> bool:
    """Take the digest; on its first claim, gather the user's waiting reminders into it."""
    result = db.session.execute(
        sa.update(AlertDigest)
        .where(AlertDigest.id == digest_id, _claimable(AlertDigest, now))
        .values(status=DeliveryStatus.SENDING, attempts=AlertDigest.attempts + 1, claimed_at=now)
        .returning(AlertDigest.attempts, AlertDigest.user_id)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if result is None:
        return False
    attempts, user_id = result
    if attempts == 1:
        # Claimed and gathered in one transaction: retries resend exactly what was gathered.
        db.session.execute(
            sa.update(AlertDelivery)
            .where(
                AlertDelivery.user_id == user_id,
                AlertDelivery.mode == AlertMode.DIGEST,
                AlertDelivery.status == DeliveryStatus.PENDING,
                AlertDelivery.digest_id.is_(None),
            )
            .values(digest_id=digest_id)
            .execution_options(synchronize_session=False)
        )
    return True


def send_digest(digest_id: int, now: datetime) -> Outcome:
    """Send a claimed digest of the reminders still true; raises MailError on failure."""
    digest = db.session.get(AlertDigest, digest_id)
    items = []
    latest: dict[int, AlertDelivery] = {}
    for delivery in digest.deliveries:
        if delivery.status != DeliveryStatus.PENDING:
            continue
        reason = _cancel_reason(delivery)
        milestone_id = delivery.alert.milestone_id
        if reason is None or reason == CancelReason.SUPERSEDED:
            # Within one digest only the newest reminder of a milestone is worth reading.
            previous = latest.get(milestone_id)
            if previous is None or previous.alert_id < delivery.alert_id:
                if previous is not None:
                    previous.status = DeliveryStatus.CANCELLED
                    previous.cancel_reason = CancelReason.SUPERSEDED
                latest[milestone_id] = delivery
                continue
            reason = CancelReason.SUPERSEDED
        delivery.status = DeliveryStatus.CANCELLED
        delivery.cancel_reason = reason
    items = sorted(latest.values(), key=lambda d: (d.alert.effective_due_on, d.alert_id))
    if not items:
        digest.status = DeliveryStatus.EMPTY
        db.session.flush()
        return Outcome("empty")
    send_email(digest_email(digest, items))
    digest.status = DeliveryStatus.SENT
    digest.sent_at = now
    digest.sent_to = digest.user.email
    digest.last_error = None
    for delivery in items:
        delivery.status = DeliveryStatus.SENT
        delivery.sent_at = now
        delivery.sent_to = digest.user.email
        delivery.last_error = None
    db.session.flush()
    return Outcome("sent")


__all__ = [
    "SKIPPED",
    "MailError",
    "Outcome",
    "claim_delivery",
    "claim_digest",
    "record_failure",
    "send_delivery",
    "send_digest",
]
