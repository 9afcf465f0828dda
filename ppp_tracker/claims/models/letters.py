"""What claim letters are written with: the outgoing-number counters, the admins' letter
templates and the regional departments that send them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ppp_tracker.core.audit import Audited
from ppp_tracker.db import UTCDateTime, db, utcnow
from ppp_tracker.registry.models import TimestampMixin


class OutgoingSequence(Audited, db.Model):
    """The department's outgoing-number counter per prefix and year: 14-28-9 → last used 1987
    (year 0: the counter that never restarts; 2027: the counter of letters dated in 2027).

    A send takes the next number with one `UPDATE … SET last_number = last_number + 1 …
    RETURNING`, which locks the row until the send commits: concurrent sends wait for each
    other and never share a number; a send that rolls back gives its number back unused.
    """

    __tablename__ = "outgoing_sequences"

    prefix: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    #: The year the counter numbers (OUTGOING_NUMBER_RESTARTS_YEARLY), 0 when it never restarts.
    year: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, default=0)
    last_number: Mapped[int] = mapped_column(sa.Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def region_code(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"<OutgoingSequence {self.prefix} {self.year or ''} last={self.last_number}>"


class LetterTemplate(Audited, db.Model):
    """An admin's version of the letter text in one language (the newest one is used)."""

    __tablename__ = "letter_templates"
    __table_args__ = (sa.UniqueConstraint("language", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(sa.String(2))
    version: Mapped[int] = mapped_column(sa.Integer)
    body: Mapped[str] = mapped_column(sa.Text)
    note: Mapped[str | None] = mapped_column(sa.String(500))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by = relationship("User")

    @property
    def region_code(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"<LetterTemplate {self.language} v{self.version}>"


#: Civil Code articles a claim letter cites by default (DESIGN.md section 5): obligations are
#: performed properly and on time (272, 277), the penalty (293), liability for breach (349–351).
DEFAULT_LEGAL_BASIS = "272, 277, 293, 349–351"


class Department(Audited, TimestampMixin, db.Model):
    """A regional department (the sender of claim letters) with its requisites: the letterhead,
    the payment details of the demand, the signatory and the executor. One per region."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), unique=True)
    name_ru: Mapped[str] = mapped_column(sa.String(255))
    name_kk: Mapped[str | None] = mapped_column(sa.String(255))
    #: The department's BIN (12 digits with a control digit).
    bin: Mapped[str | None] = mapped_column(sa.String(12))
    address_ru: Mapped[str | None] = mapped_column(sa.String(500))
    address_kk: Mapped[str | None] = mapped_column(sa.String(500))
    phone: Mapped[str | None] = mapped_column(sa.String(64))
    #: The bank (for a state body usually the Committee of the Treasury) in Russian and Kazakh.
    bank_ru: Mapped[str | None] = mapped_column(sa.String(255))
    bank_kk: Mapped[str | None] = mapped_column(sa.String(255))
    #: ИИК (ЖСК): the account, a 20-character Kazakh IBAN.
    iik: Mapped[str | None] = mapped_column(sa.String(20))
    #: БИК (БСК): the bank's code, 8 or 11 characters.
    bik: Mapped[str | None] = mapped_column(sa.String(11))
    #: КБК (БЖК): the budget classification code a penalty is paid to (a state body's income).
    kbk: Mapped[str | None] = mapped_column(sa.String(6))
    #: КНП (ТМК): the payment purpose code.
    knp: Mapped[str | None] = mapped_column(sa.String(3))
    head_position_ru: Mapped[str | None] = mapped_column(sa.String(255))
    head_position_kk: Mapped[str | None] = mapped_column(sa.String(255))
    head_name: Mapped[str | None] = mapped_column(sa.String(255))
    #: The officer named at the foot of letters as the one who prepared them.
    executor_name: Mapped[str | None] = mapped_column(sa.String(255))
    executor_phone: Mapped[str | None] = mapped_column(sa.String(64))
    #: Civil Code articles cited as the legal basis of claims, comma-separated ("272, 349–351").
    legal_basis: Mapped[str] = mapped_column(sa.String(255), default=DEFAULT_LEGAL_BASIS)

    region = relationship("Region")

    def __repr__(self) -> str:
        return f"<Department {self.region_code} {self.name_ru[:40]!r}>"
