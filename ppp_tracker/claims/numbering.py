"""Outgoing letter numbers: the department's prefix plus a sequence (14-28-9-1987).

A number is taken when a letter is sent, with one `UPDATE … RETURNING` on the prefix's row: the
row stays locked until the send commits, so concurrent sends wait for each other and never get
the same number; a send that fails rolls the counter back with it, so no number is skipped or
reused. Numbers typed by people (with Word's en-dashes) are normalised before they are compared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from ppp_tracker.claims.models import OutgoingSequence
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


def _ensure_row(prefix: str) -> None:
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(f"bad outgoing number prefix {prefix!r}")
    exists = db.session.scalar(
        sa.select(OutgoingSequence.prefix).where(OutgoingSequence.prefix == prefix)
    )
    if exists is not None:
        return
    # Two first sends of a new prefix may race to create its row; the loser's insert fails on
    # the primary key inside its savepoint and it goes on with the winner's row.
    try:
        with db.session.begin_nested():
            db.session.add(OutgoingSequence(prefix=prefix, last_number=0))
    except sa.exc.IntegrityError:
        pass


def take_next(prefix: str | None = None) -> OutgoingNumber:
    """The next number of the prefix; the caller's transaction holds the row until it commits."""
    prefix = prefix or department_prefix()
    _ensure_row(prefix)
    seq = db.session.execute(
        sa.update(OutgoingSequence)
        .where(OutgoingSequence.prefix == prefix)
        .values(last_number=OutgoingSequence.last_number + 1)
        .returning(OutgoingSequence.last_number),
        execution_options={"synchronize_session": False},
    ).scalar_one()
    return OutgoingNumber(prefix, seq)


def register_used(number: OutgoingNumber) -> None:
    """A number given by hand (an old letter, the paper register): the sequence moves past it."""
    _ensure_row(number.prefix)
    db.session.execute(
        sa.update(OutgoingSequence)
        .where(OutgoingSequence.prefix == number.prefix)
        .values(
            last_number=sa.case(
                (OutgoingSequence.last_number < number.seq, number.seq),
                else_=OutgoingSequence.last_number,
            )
        ),
        execution_options={"synchronize_session": False},
    )


def last_used(prefix: str | None = None) -> int:
    prefix = prefix or department_prefix()
    value = db.session.scalar(
        sa.select(OutgoingSequence.last_number).where(OutgoingSequence.prefix == prefix)
    )
    return value or 0


def set_last_used(text: str, prefix: str | None = None) -> OutgoingNumber:
    """Admins move the counter forward (to follow the paper register); never back: a number
    once used is never handed out again."""
    number = parse_number(text, prefix, field="last_number")
    _ensure_row(number.prefix)
    # Locked, so that a send between the check and the change cannot be overtaken.
    row = db.session.scalar(
        sa.select(OutgoingSequence)
        .where(OutgoingSequence.prefix == number.prefix)
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
