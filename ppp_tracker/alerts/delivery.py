"""Sending alerts through the outbox (`core.outbox`): a batch of deliveries leased at once,
each checked to be still true, composed (`compose.BatchComposer`), sent over one connection and
recorded; digests one by one. Services: the outbox commits where its protocol needs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ppp_tracker.alerts.audience import refusal
from ppp_tracker.alerts.compose import BatchComposer, digest_email
from ppp_tracker.alerts.models import (
    Alert,
    AlertDelivery,
    AlertDigest,
    CancelReason,
    DeliveryStatus,
)
from ppp_tracker.auth.models import AlertMode
from ppp_tracker.core import outbox
from ppp_tracker.core.dates import OPEN_STATUSES
from ppp_tracker.core.mail import MailError
from ppp_tracker.db import db
from ppp_tracker.registry.models import Contract, Milestone

#: Deliveries sent by one task: one lease, one SMTP connection.
BATCH = 100


def _queue(model, **options) -> outbox.Queue:
    """An outbox queue of one of the alerts' tables (they share their statuses)."""
    return outbox.Queue(
        model,
        pending=DeliveryStatus.PENDING,
        sending=DeliveryStatus.SENDING,
        retry=DeliveryStatus.RETRY,
        sent=DeliveryStatus.SENT,
        failed=DeliveryStatus.FAILED,
        **options,
    )


# Digest deliveries go out inside their digest.
DELIVERIES = _queue(AlertDelivery, where=(AlertDelivery.mode == AlertMode.IMMEDIATE,))
DIGESTS = _queue(AlertDigest)


@dataclass(frozen=True)
class Outcome:
    #: sent | retry | failed | cancelled | empty | busy (another worker is sending it; look
    #: again when its lease runs out) | skipped (it is done, or not a task's to send)
    status: str
    retry_in: int | None = None


def outcome_of(result: outbox.Result, row_id: int, unsent: str = "cancelled") -> Outcome:
    """What became of one row of a batch (for a task or a test sending one)."""
    if row_id in result.sent:
        return Outcome("sent")
    if row_id in result.settled:
        return Outcome(unsent)
    if row_id in result.failed:
        return Outcome("failed")
    for delay, ids in result.retry.items():
        if row_id in ids:
            return Outcome("retry", delay)
    if row_id in result.busy and result.busy_in is not None:
        return Outcome("busy", result.busy_in)
    return Outcome("skipped")


def give_up_abandoned(now: datetime) -> int:
    return outbox.give_up_abandoned(DELIVERIES, now) + outbox.give_up_abandoned(DIGESTS, now)


def deliver_batch(ids: list[int]) -> outbox.Result:
    """Send these immediate deliveries (those free of them): see `core.outbox.deliver`."""
    return outbox.deliver(DELIVERIES, ids, _compose_deliveries)


def _compose_deliveries(ids: list[int]):
    """Everything the batch's e-mails say, in a few queries; then each e-mail or its cancel."""
    deliveries = db.session.scalars(
        sa.select(AlertDelivery)
        .where(AlertDelivery.id.in_(ids))
        .options(
            joinedload(AlertDelivery.user),
            joinedload(AlertDelivery.alert)
            .joinedload(Alert.milestone)
            .options(
                joinedload(Milestone.responsible),
                joinedload(Milestone.contract).options(
                    joinedload(Contract.contractor), joinedload(Contract.officer)
                ),
            ),
        )
    ).all()
    latest = _latest_alerts(d.alert.milestone_id for d in deliveries)
    letters: dict[int, outbox.Letter | outbox.Unsent | Exception] = {}
    to_send = []
    for delivery in deliveries:
        reason = _cancel_reason(delivery, latest.get(delivery.alert.milestone_id))
        if reason is not None:
            letters[delivery.id] = outbox.Unsent(
                {"status": DeliveryStatus.CANCELLED, "cancel_reason": reason}
            )
        else:
            to_send.append(delivery)
    for delivery_id, email in BatchComposer().compose(to_send).items():
        if isinstance(email, Exception):
            letters[delivery_id] = email
        else:
            sent_to = email.to[0]
            letters[delivery_id] = outbox.Letter(email, on_sent={"sent_to": sent_to})

    def make(delivery_id: int):
        letter = letters.get(delivery_id)
        if letter is None:  # deleted meanwhile
            return outbox.Unsent({"status": DeliveryStatus.CANCELLED})
        if isinstance(letter, Exception):
            raise letter
        return letter

    return make


def _cancel_reason(delivery: AlertDelivery, latest_alert_id: int | None) -> CancelReason | None:
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
    if latest_alert_id is not None and latest_alert_id > alert.id:
        return CancelReason.SUPERSEDED
    return None


def _latest_alerts(milestone_ids) -> dict[int, int]:
    """The newest alert of each milestone (a later reminder supersedes an earlier one)."""
    return dict(
        db.session.execute(
            sa.select(Alert.milestone_id, sa.func.max(Alert.id))
            .where(Alert.milestone_id.in_(set(milestone_ids)))
            .group_by(Alert.milestone_id)
        ).all()
    )


# --- digests ------------------------------------------------------------------------------


def deliver_digest(digest_id: int) -> outbox.Result:
    """Send one user's digest of the reminders still true (gathered before its first attempt)."""
    result = outbox.deliver(DIGESTS, [digest_id], _compose_digest)
    if digest_id in result.failed:
        digest = db.session.get(AlertDigest, digest_id)
        for delivery in digest.deliveries:
            if delivery.status == DeliveryStatus.PENDING:
                delivery.status = DeliveryStatus.FAILED
                delivery.last_error = digest.last_error
        db.session.commit()
    return result


def _compose_digest(ids: list[int]):
    [digest_id] = ids
    digest = db.session.get(AlertDigest, digest_id)
    if digest.attempts == 0:
        # Gathered in the transaction of the first attempt: retries resend exactly this.
        db.session.execute(
            sa.update(AlertDelivery)
            .where(
                AlertDelivery.user_id == digest.user_id,
                AlertDelivery.mode == AlertMode.DIGEST,
                AlertDelivery.status == DeliveryStatus.PENDING,
                AlertDelivery.digest_id.is_(None),
            )
            .values(digest_id=digest_id)
            .execution_options(synchronize_session=False)
        )
        db.session.expire(digest, ["deliveries"])
    waiting = [d for d in digest.deliveries if d.status == DeliveryStatus.PENDING]
    latest_ids = _latest_alerts(d.alert.milestone_id for d in waiting)
    latest: dict[int, AlertDelivery] = {}
    for delivery in waiting:
        milestone_id = delivery.alert.milestone_id
        reason = _cancel_reason(delivery, latest_ids.get(milestone_id))
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

    def make(_digest_id: int):
        if not items:
            return outbox.Unsent({"status": DeliveryStatus.EMPTY})
        sent_to = digest.user.email

        def after_sent(sent_at: datetime) -> None:
            for delivery in items:
                delivery.status = DeliveryStatus.SENT
                delivery.sent_at = sent_at
                delivery.sent_to = sent_to
                delivery.last_error = None

        return outbox.Letter(
            digest_email(digest, items), on_sent={"sent_to": sent_to}, after_sent=after_sent
        )

    return make


__all__ = ["DELIVERIES", "DIGESTS", "MailError", "Outcome", "deliver_batch", "deliver_digest"]
