"""Admin overrides of the working-day calendar (decrees the holidays package does not know)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ppp_tracker.core.audit import Audited
from ppp_tracker.db import UTCDateTime, db, utcnow


class CalendarOverride(Audited, db.Model):
    """A day made working or a day off by decree; wins over the holidays package."""

    __tablename__ = "calendar_overrides"

    day: Mapped[date] = mapped_column(primary_key=True)
    working: Mapped[bool]
    #: The decree or reason, shown wherever a date is explained.
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def region_code(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"<CalendarOverride {self.day} {'working' if self.working else 'off'}>"


class CalendarYear(Audited, db.Model):
    """A year whose decree transfers an admin has entered and confirmed (deadlines/years.py)."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: Who confirmed it: a user's e-mail or "cli:calendar confirm".
    actor: Mapped[str] = mapped_column(sa.String(255))

    confirmed_by = relationship("User")

    @property
    def region_code(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"<CalendarYear {self.year} confirmed>"
