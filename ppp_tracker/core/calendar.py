"""Kazakhstan's working-day calendar: weekends, public holidays, decree transfers and overrides.

The `holidays` package knows the calendar up to 2025 (including Sundays made working days by
decree, such as 2014-05-04); an admin-edited override table adds later decrees. Overrides win.
"""

from __future__ import annotations

import calendar as _stdcal
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import g, has_app_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ppp_tracker.core.audit import Audited
from ppp_tracker.db import UTCDateTime, db, utcnow

if TYPE_CHECKING:
    import holidays

#: Russian names of the holidays (the package has no Russian; its `ru` silently gives English).
RUSSIAN_NAMES = {
    "New Year's Day": "Новый год",
    "Orthodox Christmas": "Православное Рождество",
    "International Women's Day": "Международный женский день",
    "Nowruz Holiday": "Наурыз мейрамы",
    "Kazakhstan's People Solidarity Holiday": "Праздник единства народа Казахстана",
    "Defender of the Fatherland Day": "День защитника Отечества",
    "Victory Day": "День Победы",
    "Capital Day": "День Столицы",
    "Constitution Day": "День Конституции",
    "Eid al-Adha": "Курбан айт",
    "First President Day": "День Первого Президента",
    "Independence Day": "День Независимости",
    "Republic Day": "День Республики",
}
#: The holidays package carries Kazakhstan's decree transfers up to this year: years up to it
#: count as confirmed by its data; a later year only once an admin confirms it (years.py).
PACKAGE_CONFIRMED_THROUGH = 2025

_SUBSTITUTED = re.compile(r"Day off \(substituted from (\d\d)/(\d\d)/(\d{4})\)")


@lru_cache(maxsize=1)
def _package_calendar() -> holidays.HolidayBase:
    # Years are filled lazily as dates are asked for; one instance per process is enough.
    # Imported here, by the first date asked for: the package reads its own version from the
    # installed distributions when imported (about 50 ms), which a process that never counts
    # a working day (beat, `flask db`, most CLI commands) need not pay.
    import holidays

    return holidays.country_holidays("KZ", language="en_US")


@lru_cache(maxsize=1)
def _kk_calendar() -> holidays.HolidayBase:
    import holidays

    return holidays.country_holidays("KZ", language="kk")


def _russian(name: str) -> str:
    parts = [part.strip() for part in name.split(";")]
    out = []
    for part in parts:
        match = _SUBSTITUTED.fullmatch(part)
        if match:
            month, day, year = match.groups()
            out.append(f"перенесённый выходной (за {day}.{month}.{year})")
            continue
        observed = part.endswith("(observed)")
        estimated = part.endswith("(estimated)")
        base = part.replace("(observed)", "").replace("(estimated)", "").strip()
        text = RUSSIAN_NAMES.get(base, base)
        if observed:
            text += " (перенос выходного)"
        if estimated:
            text += " (ориентировочно)"
        out.append(text)
    return "; ".join(out)


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


@dataclass(frozen=True)
class Override:
    day: date
    working: bool
    reason: str


class WorkingCalendar:
    """Answers "is this a working day, and why not" for any date."""

    def __init__(
        self,
        overrides: dict[date, Override] | None = None,
        confirmed_years: frozenset[int] | None = None,
    ):
        self.overrides = overrides or {}
        #: Years after PACKAGE_CONFIRMED_THROUGH that an admin has confirmed; read from the
        #: database the first time a later year is asked about (most pages never ask).
        self._confirmed_years = confirmed_years
        self._package = _package_calendar()

    @property
    def confirmed_years(self) -> frozenset[int]:
        if self._confirmed_years is None:
            self._confirmed_years = load_confirmed_years() if has_app_context() else frozenset()
        return self._confirmed_years

    def is_confirmed(self, year: int) -> bool:
        """Whether the year's decree transfers are known (the package's data, or an admin)."""
        return year <= PACKAGE_CONFIRMED_THROUGH or year in self.confirmed_years

    def unconfirmed_years(self, *days: date | None) -> list[int]:
        """The years of `days` whose calendar is not confirmed."""
        return sorted({d.year for d in days if d is not None and not self.is_confirmed(d.year)})

    def is_working_day(self, day: date) -> bool:
        override = self.overrides.get(day)
        if override is not None:
            return override.working
        return self._package.is_working_day(day)

    def holiday_name(self, day: date, locale: str = "ru") -> str | None:
        name = self._package.get(day)
        if name is None:
            return None
        if locale == "en":
            return name
        if locale == "kk":
            return _kk_calendar().get(day) or name
        return _russian(name)

    def why_not_working(self, day: date, locale: str = "ru") -> str | None:
        """Why `day` is a day off ("a Saturday", the holiday's name, the decree), or None."""
        if self.is_working_day(day):
            return None
        override = self.overrides.get(day)
        if override is not None:
            return override.reason or _("a day off by decree")
        name = self.holiday_name(day, locale)
        if name:
            return name
        return weekday_name(day)

    def why_working(self, day: date) -> str | None:
        """Why a Saturday or Sunday is a working day (a transferred working day), or None."""
        if day.weekday() < 5 or not self.is_working_day(day):
            return None
        override = self.overrides.get(day)
        if override is not None:
            return override.reason or _("a working day by decree")
        return _("a working day moved by decree")

    def next_working_day(self, day: date) -> date:
        """`day` itself when it is a working day, otherwise the first working day after it."""
        for _i in range(60):
            if self.is_working_day(day):
                return day
            day += timedelta(days=1)
        raise ValueError("no working day within 60 days")  # pragma: no cover

    def add_working_days(self, start: date, count: int) -> date:
        """The `count`-th working day after `start` (start itself not counted)."""
        if count < 0:
            raise ValueError("count must not be negative")
        day = start
        remaining = count
        while remaining:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]."""
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count


#: "a Monday" … "a Sunday": the reason a weekend day is off (translated when asked, one a call).
_WEEKDAY_NAMES = (
    _l("a Monday"),
    _l("a Tuesday"),
    _l("a Wednesday"),
    _l("a Thursday"),
    _l("a Friday"),
    _l("a Saturday"),
    _l("a Sunday"),
)


def weekday_name(day: date) -> str:
    return str(_WEEKDAY_NAMES[day.weekday()])


def add_months(start: date, months: int) -> date:
    """Same day `months` later; the last day of the month when that day does not exist."""
    month_index = start.month - 1 + months
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    last = _stdcal.monthrange(year, month)[1]
    return date(year, month, min(start.day, last))


def load_overrides() -> dict[date, Override]:
    rows = db.session.scalars(sa.select(CalendarOverride)).all()
    return {row.day: Override(row.day, row.working, row.reason or "") for row in rows}


def load_confirmed_years() -> frozenset[int]:
    return frozenset(db.session.scalars(sa.select(CalendarYear.year)).all())


def get_calendar() -> WorkingCalendar:
    """The calendar with the current overrides, built once per request or task."""
    if has_app_context():
        cached = g.get("_working_calendar")
        if cached is None:
            cached = g._working_calendar = WorkingCalendar(load_overrides())
        return cached
    return WorkingCalendar()


def unconfirmed_note(years: list[int]) -> str:
    """What a date computed in an unconfirmed year says about it (empty when all are)."""
    if not years:
        return ""
    return _(
        "computed with the working-day calendar of %(years)s, which an administrator has not"
        " confirmed yet: a later decree may move it",
        years=", ".join(str(y) for y in years),
    )


def forget_calendar() -> None:
    """Drop the cached calendar after overrides change within the same request."""
    if has_app_context():
        g.pop("_working_calendar", None)
