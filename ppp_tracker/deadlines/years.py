"""Calendar years an admin has confirmed, and decree transfers imported from a CSV file.

A year's working days are only as right as its decree transfers. The `holidays` package carries
them up to 2025 (PACKAGE_CONFIRMED_THROUGH): those years count as confirmed by its data. A later
year counts as confirmed only once an admin has entered its transfers (overrides, one by one or
from a CSV file) and confirmed it; until then every date computed in it says so.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import g
from flask_babel import gettext as _

from ppp_tracker import clock
from ppp_tracker.auth.access import Permission, has_permission
from ppp_tracker.core import limits
from ppp_tracker.core.calendar import PACKAGE_CONFIRMED_THROUGH, CalendarYear, forget_calendar
from ppp_tracker.core.errors import Invalid
from ppp_tracker.core.validation import Errors, check_date_range
from ppp_tracker.core.web import NOT_LOADED, Banner, with_user
from ppp_tracker.db import db
from ppp_tracker.deadlines.services import set_override

#: The largest transfers file accepted (a year has a few dozen lines).
MAX_IMPORT_BYTES = 256 * 1024
_KINDS = {"working": True, "off": False}


@dataclass(frozen=True)
class YearState:
    year: int
    confirmed: bool
    #: "package" (the holidays package's data, up to 2025), "admin", or None.
    source: str | None
    confirmed_at: datetime | None = None
    confirmed_by: str | None = None


def year_state(year: int) -> YearState:
    row = db.session.get(CalendarYear, year)
    if row is not None:
        by = row.confirmed_by.email if row.confirmed_by is not None else row.actor
        return YearState(year, True, "admin", row.confirmed_at, by)
    if year <= PACKAGE_CONFIRMED_THROUGH:
        return YearState(year, True, "package")
    return YearState(year, False, None)


def year_states(years) -> list[YearState]:
    return [year_state(y) for y in years]


def confirm_year(year: int, user=None, actor: str | None = None) -> tuple[CalendarYear, bool]:
    """Confirm that `year`'s decree transfers are entered; (row, True) if it was not before."""
    if not 1991 <= year <= 2100:
        raise Invalid.one("year", _("A year between 1991 and 2100."))
    row = db.session.get(CalendarYear, year)
    if row is not None:
        return row, False
    row = CalendarYear(
        year=year,
        confirmed_at=clock.now(),
        confirmed_by_id=getattr(user, "id", None),
        actor=actor or getattr(user, "email", None) or "system",
    )
    db.session.add(row)
    db.session.flush()
    forget_calendar()
    return row, True


def _parse_day(text: str) -> date | None:
    """YYYY-MM-DD or DD.MM.YYYY (as a decree writes it); None for anything else."""
    text = text.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    parts = text.split(".")
    if len(parts) == 3 and all(p.isdigit() for p in parts) and len(parts[2]) == 4:
        try:
            return date(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValueError:
            return None
    return None


@dataclass(frozen=True)
class Transfer:
    row: int
    day: date
    working: bool
    reason: str


def parse_transfers(content: bytes) -> list[Transfer]:
    """Rows `date,working|off,reason` (a header row is allowed); every bad row is reported with
    its number, and nothing is taken unless every row is right."""
    problems: list[str] = []
    transfers: list[Transfer] = []
    seen: dict[date, int] = {}
    for number, cells in enumerate(_csv_rows(content), start=1):
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue
        if number == 1 and cells[0].lower() in ("date", "дата", "күні"):
            continue  # the header
        transfer = _transfer(number, cells, seen, problems)
        if transfer is not None:
            transfers.append(transfer)
    if not problems and not transfers:
        problems.append(_("The file has no transfers."))
    if problems:
        raise Invalid({"file": problems})
    return transfers


def _csv_rows(content: bytes) -> list[list[str]]:
    """The rows of an uploaded CSV file (UTF-8, comma or semicolon separated)."""
    if len(content) > MAX_IMPORT_BYTES:
        raise Invalid.one(
            "file", _("The file is larger than %(kb)d KB.", kb=MAX_IMPORT_BYTES // 1024)
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid.one("file", _("The file is not UTF-8 text.")) from None
    sample = text[:2048]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def _transfer(
    number: int, cells: list[str], seen: dict[date, int], problems: list[str]
) -> Transfer | None:
    """Row `number` as a transfer, or None; what is wrong with it goes to `problems` (a day is
    noted in `seen`, so that a later row with the same day is reported)."""
    if len(cells) < 2:
        problems.append(_("Row %(n)d: expected date, working or off, reason.", n=number))
        return None
    day = _parse_day(cells[0])
    kind = cells[1].lower()
    reason = ",".join(cells[2:]).strip() if len(cells) > 2 else ""
    if day is None:
        problems.append(
            _(
                "Row %(n)d: %(value)s is not a date (YYYY-MM-DD or DD.MM.YYYY).",
                n=number,
                value=repr(cells[0]),
            )
        )
    else:
        check = Errors()
        check_date_range(check, "day", day)
        for messages in check.errors.values():
            problems.extend(_("Row %(n)d: %(why)s", n=number, why=m) for m in messages)
        if day in seen:
            problems.append(
                _(
                    "Row %(n)d: %(d)s is already in row %(m)d.",
                    n=number,
                    d=day.strftime("%d.%m.%Y"),
                    m=seen[day],
                )
            )
        seen.setdefault(day, number)
    if kind not in _KINDS:
        problems.append(
            _("Row %(n)d: %(value)s must be working or off.", n=number, value=repr(cells[1]))
        )
    if len(reason) > limits.LINE:
        problems.append(_("Row %(n)d: the reason is longer than 500 characters.", n=number))
    if day is not None and kind in _KINDS:
        return Transfer(number, day, _KINDS[kind], reason)
    return None


def import_transfers(content: bytes, user=None) -> list[Transfer]:
    """Every transfer of the file becomes an override, or none does (the caller rolls back)."""

    transfers = parse_transfers(content)
    problems: list[str] = []
    for t in transfers:
        try:
            set_override(t.day, t.working, t.reason or None, user)
        except Invalid as exc:
            for messages in exc.errors.values():
                problems.extend(_("Row %(n)d: %(why)s", n=t.row, why=m) for m in messages)
    if problems:
        raise Invalid({"file": problems})
    return transfers


def wanted_years() -> list[int]:
    """This year and the next, where the package's data does not cover them."""
    this = clock.today().year
    return [y for y in (this, this + 1) if y > PACKAGE_CONFIRMED_THROUGH]


def wanted_years_select():
    """How many of this year and the next an admin has confirmed (read with the user)."""
    return sa.select(sa.func.count(CalendarYear.year)).where(CalendarYear.year.in_(wanted_years()))


def unconfirmed_banner() -> list:
    """Admins see which of this year and the next still wait for confirmation."""

    if not has_permission(g.get("user"), Permission.ADMIN):
        return []
    wanted = wanted_years()
    if not wanted:
        return []
    confirmed = with_user("deadlines.confirmed_years")
    if confirmed is NOT_LOADED or confirmed is None:
        confirmed = db.session.scalar(wanted_years_select())
    if confirmed >= len(wanted):
        return []
    missing = [y for y in wanted if db.session.get(CalendarYear, y) is None]
    if not missing:
        return []
    return [
        Banner(
            "warning",
            _(
                "The working-day calendar of %(years)s is not confirmed: enter its decree "
                "transfers and confirm it on the Working-day calendar page.",
                years=", ".join(map(str, missing)),
            ),
        )
    ]
