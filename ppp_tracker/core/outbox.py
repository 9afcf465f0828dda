"""The one outbox of e-mails sent exactly once (alert deliveries, digests, claim notices).

Each e-mail is a row of its feature's table, written in the transaction that decided it. A
sender leases a batch of rows in one conditional UPDATE … RETURNING (the lease's start, kept in
`claimed_at`, is its token), then for each row in turn marks the attempt (status "sending",
attempts + 1, a fresh lease; committed before the message leaves), sends it over the batch's one
SMTP connection, and records the outcome (committed with the next row's mark). So:

- two senders never both send a row: the batch's lease and each attempt's mark are conditional on
  the row being free or, for the mark, still held by this sender's token;
- a sender that dies leaves at most the one row it was sending "sending"; it is taken over when
  its lease (ALERT_SEND_LEASE_SECONDS) runs out, under the same Message-ID — the one case where a
  reader may see a message twice, which no protocol over SMTP can rule out; the rows of its batch
  not yet tried stay waiting and are taken by anyone once the lease runs out;
- a refused message is tried again after ALERT_RETRY_BASE_SECONDS × 1, 2, 4 … (at most an hour),
  at most ALERT_MAX_ATTEMPTS times; `stale` finds rows whose task the broker lost.

"Claim" in this product is the legal claim (претензия); a row held by a sender is leased. The
column is still `claimed_at` in the three tables (alert deliveries and digests, claim notices):
renaming it would need a migration and buys nothing else.

Services: they flush and commit only where the protocol needs it (the lease and each mark must be
committed before the e-mail leaves); the tasks and CLI that call `deliver` are the edge.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

import sqlalchemy as sa
from flask import current_app

from ppp_tracker import clock
from ppp_tracker.core.mail import Email, Mailer, MailError
from ppp_tracker.db import db

#: The longest wait between two attempts; below the broker's visibility timeout (6 h).
MAX_BACKOFF_SECONDS = 3600


@dataclass(frozen=True)
class Queue:
    """A table of e-mails: its model and what its statuses and error column are called."""

    model: Any
    pending: Enum
    sending: Enum
    #: Refused for now, tried again later.
    retry: Enum
    sent: Enum
    #: Given up: refused for good, or every attempt failed.
    failed: Enum
    error_column: str = "last_error"
    #: Where the way it went ("smtp" or "outbox") is kept, if the table keeps it.
    channel_column: str | None = None
    #: Further conditions a row must meet to be sent by this queue's task.
    where: tuple = ()

    @property
    def error(self):
        return getattr(self.model, self.error_column)


@dataclass
class Result:
    """What a batch came to: the rows to try again (with when), and rows others hold."""

    sent: list[int] = field(default_factory=list)
    settled: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    #: Seconds to wait -> ids refused for now.
    retry: dict[int, list[int]] = field(default_factory=dict)
    #: Ids someone else holds now, and when their lease runs out (seconds).
    busy: list[int] = field(default_factory=list)
    busy_in: int | None = None


def backoff_seconds(attempts: int) -> int:
    """Seconds before the next try of a row refused `attempts` times."""
    base = current_app.config["ALERT_RETRY_BASE_SECONDS"]
    return max(1, min(MAX_BACKOFF_SECONDS, base * 2 ** max(0, attempts - 1)))


def _lease_cutoff(now: datetime) -> datetime:
    return now - timedelta(seconds=current_app.config["ALERT_SEND_LEASE_SECONDS"])


def leasable(queue: Queue, now: datetime):
    """Free to take: waiting and not held, or being sent by a sender whose lease ran out."""
    m = queue.model
    cutoff = _lease_cutoff(now)
    free = sa.or_(m.claimed_at.is_(None), m.claimed_at <= cutoff)
    return sa.or_(
        # A row refused for now keeps its last attempt's time; its retry time says it is free.
        sa.and_(
            m.status.in_([queue.pending, queue.retry]),
            sa.or_(free, m.next_attempt_at.is_not(None)),
        ),
        sa.and_(
            m.status == queue.sending,
            free,
            m.attempts < current_app.config["ALERT_MAX_ATTEMPTS"],
        ),
    )


def lease(queue: Queue, ids: Iterable[int], now: datetime) -> list[int]:
    """Lease the rows free among `ids` in one statement; the others are someone else's or done."""
    ids = list(ids)
    if not ids:
        return []
    m = queue.model
    rows = db.session.execute(
        sa.update(m)
        .where(m.id.in_(ids), leasable(queue, now), *queue.where)
        .values(claimed_at=now, next_attempt_at=None)
        .returning(m.id)
        .execution_options(synchronize_session=False)
    ).all()
    taken = {row[0] for row in rows}
    return [row_id for row_id in ids if row_id in taken]


def mark_attempt(queue: Queue, row_id: int, token: datetime, now: datetime) -> bool:
    """The row is about to be sent: "sending", one more attempt, a fresh lease — if it is still
    held under `token` (nobody took it over while the batch was busy with others)."""
    m = queue.model
    result = db.session.execute(
        sa.update(m)
        .where(m.id == row_id, m.claimed_at == token)
        .values(status=queue.sending, attempts=m.attempts + 1, claimed_at=now, next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def take(queue: Queue, row_id: int, now: datetime | None = None) -> bool:
    """Lease one row and mark its attempt (in the caller's transaction)."""
    now = now or clock.now()
    return bool(lease(queue, [row_id], now)) and mark_attempt(queue, row_id, now, now)


def record_sent(queue: Queue, row_id: int, token: datetime, now: datetime, **values) -> None:
    m = queue.model
    db.session.execute(
        sa.update(m)
        .where(m.id == row_id, m.claimed_at == token, m.status == queue.sending)
        .values(
            {queue.error_column: None, "status": queue.sent, "sent_at": now, **values},
        )
        .execution_options(synchronize_session=False)
    )


def settle(queue: Queue, row_id: int, token: datetime, **values) -> None:
    """Finish a held row without sending it (e.g. the reminder is no longer true)."""
    m = queue.model
    db.session.execute(
        sa.update(m)
        .where(m.id == row_id, m.claimed_at == token)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def record_failure(
    queue: Queue, row_id: int, token: datetime, exc: Exception, now: datetime
) -> int | None:
    """A failed attempt: try again later with backoff (the seconds), or give up (None)."""
    m = queue.model
    temporary = getattr(exc, "temporary", True)
    error = str(exc)[:2000] or type(exc).__name__
    attempts = db.session.scalar(sa.select(m.attempts).where(m.id == row_id)) or 0
    delay = None
    values: dict = {queue.error_column: error}
    if temporary and attempts < current_app.config["ALERT_MAX_ATTEMPTS"]:
        delay = backoff_seconds(attempts)
        values.update(status=queue.retry, next_attempt_at=now + timedelta(seconds=delay))
    else:
        values.update(status=queue.failed, next_attempt_at=None)
    db.session.execute(
        sa.update(m)
        .where(m.id == row_id, m.claimed_at == token, m.status == queue.sending)
        .values(values)
        .execution_options(synchronize_session=False)
    )
    return delay


def release(queue: Queue, ids: Iterable[int], token: datetime) -> None:
    """Let go of held rows not tried (the batch stopped early): anyone may take them now."""
    ids = list(ids)
    if ids:
        m = queue.model
        db.session.execute(
            sa.update(m)
            .where(m.id.in_(ids), m.claimed_at == token, m.status != queue.sending)
            .values(claimed_at=None)
            .execution_options(synchronize_session=False)
        )


def busy_for(queue: Queue, ids: list[int], now: datetime) -> int | None:
    """Seconds until the first lease among `ids` held by others runs out, if any is held.

    A second message for rows being sent (the broker redelivered it after its worker process
    died) comes back when they can be taken over, instead of being dropped.
    """
    if not ids:
        return None
    m = queue.model
    cutoff = _lease_cutoff(now)
    earliest = db.session.scalar(
        sa.select(sa.func.min(m.claimed_at)).where(
            m.id.in_(ids),
            m.status.in_([queue.pending, queue.retry, queue.sending]),
            m.claimed_at > cutoff,
        )
    )
    if earliest is None:
        return None
    return max(1, int((earliest - cutoff).total_seconds()) + 1)


def give_up_abandoned(queue: Queue, now: datetime) -> int:
    """Sends whose sender died mid-way ALERT_MAX_ATTEMPTS times fail for good (and say so)."""
    m = queue.model
    result = db.session.execute(
        sa.update(m)
        .where(
            m.status == queue.sending,
            m.claimed_at <= _lease_cutoff(now),
            m.attempts >= current_app.config["ALERT_MAX_ATTEMPTS"],
        )
        .values({"status": queue.failed, queue.error_column: "the sender stopped, every attempt"})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def stale(queue: Queue, now: datetime, limit: int = 1000) -> list[int]:
    """Rows whose task was lost (the broker was down or lost its messages) or whose sender died:
    written and not sent within ALERT_REQUEUE_AFTER_SECONDS, refused with their retry that much
    overdue, or "sending" past the lease. Queue them again: a second message does nothing."""
    config = current_app.config
    m = queue.model
    waited = now - timedelta(seconds=config["ALERT_REQUEUE_AFTER_SECONDS"])
    cutoff = _lease_cutoff(now)
    below_max = m.attempts < config["ALERT_MAX_ATTEMPTS"]
    return list(
        db.session.scalars(
            sa.select(m.id)
            .where(
                sa.or_(
                    sa.and_(m.status == queue.pending, m.created_at <= waited),
                    sa.and_(
                        m.status == queue.retry,
                        below_max,
                        sa.or_(m.next_attempt_at.is_(None), m.next_attempt_at <= waited),
                    ),
                    sa.and_(
                        m.status == queue.sending,
                        sa.or_(m.claimed_at.is_(None), m.claimed_at <= cutoff),
                        below_max,
                    ),
                ),
                *queue.where,
            )
            .order_by(m.id)
            .limit(limit)
        )
    )


#: What a feature's composer makes of a held row: an e-mail to send (with the columns to set
#: when it is sent, and a function to call then), or the columns of a row settled unsent.
@dataclass(frozen=True)
class Letter:
    email: Email
    on_sent: dict = field(default_factory=dict)
    after_sent: Callable[[datetime], None] | None = None


@dataclass(frozen=True)
class Unsent:
    values: dict


def deliver(
    queue: Queue,
    ids: list[int],
    compose: Callable[[list[int]], Callable[[int], Letter | Unsent]],
) -> Result:
    """Lease `ids` (commit), then send each over one connection: mark (commit), send, record.

    `compose(held_ids)` loads what the e-mails need for the whole batch at once and returns a
    function making one row's Letter (or Unsent). Commits as the protocol requires.
    """
    result = Result()
    token = clock.now()
    held = lease(queue, ids, token)
    held_set = set(held)
    result.busy = [row_id for row_id in ids if row_id not in held_set]
    result.busy_in = busy_for(queue, result.busy, token)
    if result.busy_in is None:
        result.busy = []
    db.session.commit()
    if not held:
        return result
    pending = list(held)
    try:
        make = compose(held)
        with Mailer() as mailer:
            while pending:
                _attempt(queue, pending, token, make, mailer, result)
        db.session.commit()
    finally:
        if pending:
            db.session.rollback()
            release(queue, pending, token)
            db.session.commit()
    return result


def _attempt(queue: Queue, pending: list[int], token: datetime, make, mailer, result: Result):
    """Send the first of `pending` (or settle it unsent). It leaves `pending` once its attempt is
    committed (or it is settled, or someone took it over): until then a failure lets go of it."""
    row_id = pending[0]
    letter = _letter_of(queue, make, row_id)
    if isinstance(letter, Unsent):
        settle(queue, row_id, token, **letter.values)
        pending.pop(0)
        result.settled.append(row_id)
        return
    now = clock.now()
    if not mark_attempt(queue, row_id, token, now):
        pending.pop(0)
        return
    db.session.commit()
    pending.pop(0)
    if isinstance(letter, Exception):
        _failed(queue, row_id, now, letter, result)
        return
    try:
        channel = mailer.send(letter.email)
    except MailError as exc:
        _failed(queue, row_id, now, exc, result)
        return
    sent_at = clock.now()
    values = dict(letter.on_sent)
    if queue.channel_column is not None:
        values[queue.channel_column] = channel
    record_sent(queue, row_id, now, sent_at, **values)
    if letter.after_sent is not None:
        letter.after_sent(sent_at)
    result.sent.append(row_id)


def _letter_of(queue: Queue, make, row_id: int) -> Letter | Unsent | Exception:
    """The row's e-mail, or why it could not be made (a bug in one e-mail must not hold up the
    others)."""
    try:
        return make(row_id)
    except MailError as exc:
        return exc
    except Exception as exc:
        current_app.logger.exception("composing %s %s failed", queue.model, row_id)
        return exc


def _failed(queue: Queue, row_id: int, now: datetime, exc: Exception, result: Result) -> None:
    delay = record_failure(queue, row_id, now, exc, clock.now())
    if delay is None:
        result.failed.append(row_id)
    else:
        result.retry.setdefault(delay, []).append(row_id)
