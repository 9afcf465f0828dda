"""Outgoing letter numbers: the department's prefix plus a sequence (14-28-9-1987).

A number is taken when a letter is sent, with one `UPDATE … RETURNING` on the prefix's row: the
row stays locked until the send commits, so concurrent sends wait for each other and never get
the same number; a send that fails rolls the counter back with it, so no number is skipped or
reused. Numbers typed by people (with Word's en-dashes) are normalised before they are compared.

With OUTGOING_NUMBER_RESTARTS_YEARLY the sequence restarts every 1 January, as office-work rules
number outgoing letters within a year: each (prefix, year of the letter's date) has its own
counter row, so a number is unique per prefix and year (14-28-9-1 of 2027 and 14-28-9-1 of 2028
are two letters told apart by their date) and never reused within its year. Without it the one
counter of the prefix (year 0) runs on forever.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from ppp_tracker import clock
from ppp_tracker.claims.models import Claim, OutgoingSequence
from ppp_tracker.core.errors import Invalid
from ppp_tracker.core.validation import normalise_dashes
from ppp_tracker.db import db

_PREFIX = re.compile(r"^[0-9A-Za-zА-Яа-яЁё]+(?:-[0-9A-Za-zА-Яа-яЁё]+)*$")
_NUMBER = re.compile(r"^(?:(?P<prefix>.+)-)?(?P<seq>\d{1,9})$")


@dataclass(frozen=True)
class OutgoingNumber:
    prefix: str
    seq: int

    def __str__(self) -> str:
        return f"{self.prefix}-{self.seq}"


def department_prefix() -> str:
    return normalise_dashes(current_app.config["OUTGOING_NUMBER_PREFIX"])


def restarts_yearly() -> bool:
    return bool(current_app.config.get("OUTGOING_NUMBER_RESTARTS_YEARLY", False))


def counter_year(on: date | None = None) -> int:
    """The counter a letter dated `on` takes its number from: its year, or 0 (never restarts)."""
    return (on or clock.today()).year if restarts_yearly() else 0


def normalise_number(text: str) -> str:
    """ "№ 14–28–9-1987" → "14-28-9-1987": dashes as typed in Word, spaces and the № sign go."""
    cleaned = normalise_dashes(str(text)).replace("№", "").replace("N ", "")
    return re.sub(r"\s+", "", cleaned)


def parse_number(
    text: str, prefix: str | None = None, field: str = "outgoing_number"
) -> OutgoingNumber:
    """An outgoing number typed by a person: "14–28–9-1987" or just "1987" (the prefix's)."""
    prefix = prefix or department_prefix()
    match = _NUMBER.fullmatch(normalise_number(text or ""))
    if match is None:
        raise Invalid.one(
            field,
            _("Not an outgoing number: expected %(example)s.", example=prefix + "-1987"),
        )
    given_prefix = match.group("prefix") or prefix
    if given_prefix != prefix:
        raise Invalid.one(
            field,
            _(
                "The number must start with the department's prefix %(prefix)s.",
                prefix=prefix,
            ),
        )
    seq = int(match.group("seq"))
    if seq <= 0:
        raise Invalid.one(field, _("The sequence number must be positive."))
    return OutgoingNumber(prefix, seq)


def _ensure_row(prefix: str, year: int) -> None:
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(f"bad outgoing number prefix {prefix!r}")
    exists = db.session.scalar(
        sa.select(OutgoingSequence.prefix).where(
            OutgoingSequence.prefix == prefix, OutgoingSequence.year == year
        )
    )
    if exists is not None:
        return
    # A year's counter starts past the numbers already given in that year (the setting may be
    # switched on during a year: the continuous counter's numbers of the year stay taken).
    start = 0
    if year:
        start = (
            db.session.scalar(
                sa.select(sa.func.max(Claim.outgoing_seq)).where(
                    Claim.outgoing_prefix == prefix, Claim.outgoing_year == year
                )
            )
            or 0
        )
    # Two first sends of a new prefix (or year) may race to create its row; the loser's insert
    # fails on the primary key inside its savepoint and it goes on with the winner's row.
    try:
        with db.session.begin_nested():
            db.session.add(OutgoingSequence(prefix=prefix, year=year, last_number=start))
    except sa.exc.IntegrityError:
        pass


def take_next(prefix: str | None = None, on: date | None = None) -> OutgoingNumber:
    """The next number of the prefix for a letter dated `on` (default today); the caller's
    transaction holds the counter's row until it commits."""
    prefix = prefix or department_prefix()
    year = counter_year(on)
    _ensure_row(prefix, year)
    seq = db.session.execute(
        sa.update(OutgoingSequence)
        .where(OutgoingSequence.prefix == prefix, OutgoingSequence.year == year)
        .values(last_number=OutgoingSequence.last_number + 1)
        .returning(OutgoingSequence.last_number),
        execution_options={"synchronize_session": False},
    ).scalar_one()
    return OutgoingNumber(prefix, seq)


def register_used(number: OutgoingNumber, on: date | None = None) -> None:
    """A number given by hand (an old letter, the paper register): the sequence of the letter's
    year (or the continuous one) moves past it."""
    year = counter_year(on)
    _ensure_row(number.prefix, year)
    db.session.execute(
        sa.update(OutgoingSequence)
        .where(OutgoingSequence.prefix == number.prefix, OutgoingSequence.year == year)
        .values(
            last_number=sa.case(
                (OutgoingSequence.last_number < number.seq, number.seq),
                else_=OutgoingSequence.last_number,
            )
        ),
        execution_options={"synchronize_session": False},
    )


def is_used(number: OutgoingNumber, on: date) -> bool:
    """Whether a letter already carries this number: in the letter's year when the sequence
    restarts yearly, in any year otherwise."""
    stmt = sa.select(Claim.id).where(
        Claim.outgoing_prefix == number.prefix, Claim.outgoing_seq == number.seq
    )
    if restarts_yearly():
        stmt = stmt.where(Claim.outgoing_year == on.year)
    return db.session.scalar(stmt.limit(1)) is not None


def last_used(prefix: str | None = None, year: int | None = None) -> int:
    """The last number of the counter in use today (or of `year`'s counter; 0: continuous)."""
    prefix = prefix or department_prefix()
    year = counter_year() if year is None else year
    value = db.session.scalar(
        sa.select(OutgoingSequence.last_number).where(
            OutgoingSequence.prefix == prefix, OutgoingSequence.year == year
        )
    )
    return value or 0


def set_last_used(text: str, prefix: str | None = None) -> OutgoingNumber:
    """Admins move today's counter forward (to follow the paper register); never back: a number
    once used is never handed out again."""
    number = parse_number(text, prefix, field="last_number")
    year = counter_year()
    _ensure_row(number.prefix, year)
    # Locked, so that a send between the check and the change cannot be overtaken.
    row = db.session.scalar(
        sa.select(OutgoingSequence)
        .where(OutgoingSequence.prefix == number.prefix, OutgoingSequence.year == year)
        .with_for_update()
    )
    db.session.refresh(row)
    if number.seq < row.last_number:
        raise Invalid.one(
            "last_number",
            _(
                "Numbers up to %(prefix)s-%(n)s are already used; the counter only moves forward.",
                prefix=number.prefix,
                n=row.last_number,
            ),
        )
    row.last_number = number.seq
    db.session.flush()
    return number
