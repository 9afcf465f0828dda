"""The penalty (неустойка, Civil Code Art. 293) of one contract, from plain values (DESIGN §4).

One rule for the API, claims, letters, pages, e-mails and exports. It takes the contract's terms
and its late obligations as plain values (deadlines.penalty reads them from the database), so
every feature may use it:

- base `total`: a calendar day of delay counts ONCE for the contract, however many obligations
  are late on it; each day is attributed to the earliest-due obligation late on that day, so the
  rows add up to the total; one cap (cap % × the contract sum) limits the contract's whole
  penalty — the days are counted in order and those after the cap is reached accrue nothing.
  Example: 77,000,000.00 × 0.1 % = 77,000.00 a day; obligations due 04.05.2014 and 01.07.2014,
  both unperformed on 14.07.2014 → 71 days (05.05–14.07) = 5,467,000.00.
- base `outstanding`: per obligation, value × rate % × its own days late, capped at cap % × value.

Amounts are exact decimals, rounded half up to a whole tiyn once per figure. With base `total` a
row's amount is the difference of the rounded running totals at its ends, so rows add up to the
total exactly and every running total is rounded once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import get_locale, ngettext
from flask_babel import gettext as _

from ppp_tracker.money import format_money

HUNDRED = Decimal(100)
ZERO = Decimal("0.00")
TIYN = Decimal("0.01")
#: Civil Code Art. 178: the general limitation period, in years (a setting may change it).
DEFAULT_LIMITATION_YEARS = 3

TOTAL = "total"
OUTSTANDING = "outstanding"


def round_tiyn(amount: Decimal) -> Decimal:
    return amount.quantize(TIYN, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Terms:
    """The contract's penalty terms and the sum they refer to."""

    rate_percent_per_day: Decimal
    #: "total" or "outstanding".
    base: str
    cap_percent: Decimal | None
    contract_amount: Decimal


@dataclass(frozen=True)
class Obligation:
    """A late obligation: the contractor's, not waived, effective due date passed on `as_of`."""

    id: int
    title: str
    due_on: date
    effective_due_on: date
    #: The day it was performed, if it was.
    met_on: date | None = None
    #: The money at stake (the `outstanding` base); None when not entered.
    value: Decimal | None = None


@dataclass(frozen=True)
class Row:
    """The penalty of one late obligation on `as_of`."""

    milestone_id: int
    title: str
    due_on: date
    effective_due_on: date
    #: The day the count stops: performance, or `as_of` while unperformed.
    counted_until: date
    #: Its own days late (from the day after the effective due date to `counted_until`).
    days_late: int
    #: The days charged to this obligation: all of its days late with base `outstanding`; with
    #: base `total` those on which no earlier-due obligation was late (one period at most).
    counted_from: date | None
    counted_to: date | None
    days_counted: int
    base: Decimal
    #: base × rate, exact (may hold fractions of a tiyn; shown rounded).
    daily_exact: Decimal
    accrued: Decimal
    #: The cap cut this row's amount (days counted after the cap was reached accrue nothing).
    capped: bool
    cap_amount: Decimal | None
    #: The base is `outstanding` but the obligation has no value: nothing can accrue.
    missing_value: bool = False
    #: Days counted (and their amount) older than the limitation period.
    days_time_barred: int = 0
    time_barred: Decimal = ZERO

    @property
    def daily_amount(self) -> Decimal:
        return round_tiyn(self.daily_exact)

    @property
    def period(self) -> tuple[date, date] | None:
        return None if self.counted_from is None else (self.counted_from, self.counted_to)


@dataclass(frozen=True)
class PenaltyWarning:
    """What a lawyer must know about a figure before signing it."""

    #: "cap_reached", "above_contract_sum" or "time_barred".
    code: str
    amount: Decimal = ZERO
    days: int = 0
    #: time_barred: the first day still within the limitation period.
    since: date | None = None
    years: int = 0

    @property
    def text(self) -> str:
        """The warning in the current language (letters render it under their own locale)."""
        locale = str(get_locale() or "ru")
        amount = format_money(self.amount, locale)
        if self.code == "cap_reached":
            return _(
                "The cap is reached: the contract limits the penalty to %(amount)s.", amount=amount
            )
        if self.code == "above_contract_sum":
            return _(
                "The contract sets no cap and the penalty exceeds the contract sum (%(amount)s):"
                " a court may reduce it (Civil Code Art. 297).",
                amount=amount,
            )
        return ngettext(
            "%(num)d day of the period (%(amount)s) is older than the limitation period of"
            " %(years)d years (Civil Code Art. 178): before %(since)s.",
            "%(num)d days of the period (%(amount)s) are older than the limitation period of"
            " %(years)d years (Civil Code Art. 178): before %(since)s.",
            self.days,
            amount=amount,
            years=self.years,
            since=self.since.strftime("%d.%m.%Y") if self.since else "",
        )

    def as_dict(self) -> dict:
        out: dict = {"code": self.code, "amount": self.amount}
        if self.code == "time_barred":
            out.update(days=self.days, since=self.since, years=self.years)
        return out


@dataclass(frozen=True)
class Penalty:
    as_of: date
    terms: Terms
    rows: tuple[Row, ...]
    warnings: tuple[PenaltyWarning, ...] = field(default=())

    # The name the callers used before the rule moved here.
    @property
    def lines(self) -> tuple[Row, ...]:
        return self.rows

    @property
    def total(self) -> Decimal:
        return sum((r.accrued for r in self.rows), ZERO)

    @property
    def days_counted(self) -> int:
        return sum(r.days_counted for r in self.rows)

    @property
    def capped(self) -> bool:
        return any(r.capped for r in self.rows)

    def row(self, milestone_id: int) -> Row | None:
        return next((r for r in self.rows if r.milestone_id == milestone_id), None)

    def only(self, milestone_ids: Iterable[int], limitation_years: int | None = None) -> Penalty:
        """The rows of some obligations (a claim's), with the warnings of that part."""
        wanted = set(milestone_ids)
        rows = tuple(r for r in self.rows if r.milestone_id in wanted)
        years = limitation_years if limitation_years is not None else _years_of(self.warnings)
        return Penalty(self.as_of, self.terms, rows, _warnings(self.terms, rows, self.as_of, years))


def _years_of(warnings: Iterable[PenaltyWarning]) -> int:
    return next((w.years for w in warnings if w.code == "time_barred"), DEFAULT_LIMITATION_YEARS)


def limitation_start(as_of: date, years: int) -> date:
    """The first day not yet time-barred on `as_of`: the same day `years` years earlier (the
    first day there is, when that falls before year 1)."""
    if as_of.year - years < 1:
        return date.min
    try:
        return as_of.replace(year=as_of.year - years)
    except ValueError:  # 29 February
        return as_of.replace(year=as_of.year - years, day=28)


def compute(
    terms: Terms,
    obligations: Iterable[Obligation],
    as_of: date,
    limitation_years: int = DEFAULT_LIMITATION_YEARS,
) -> Penalty:
    """The contract's penalty on `as_of` from its late obligations (others are ignored)."""
    late = []
    for o in obligations:
        until = min(as_of, o.met_on) if o.met_on is not None else as_of
        days = (until - o.effective_due_on).days
        if days > 0:
            late.append((o, until, days))
    late.sort(key=lambda x: (x[0].effective_due_on, x[0].id))
    barred_before = limitation_start(as_of, limitation_years)
    rate = terms.rate_percent_per_day / HUNDRED
    if terms.base == TOTAL:
        rows = _total_rows(terms, late, rate, barred_before)
    else:
        rows = [
            _outstanding_row(terms, o, until, days, rate, barred_before) for o, until, days in late
        ]
    rows.sort(key=lambda r: (r.effective_due_on, r.milestone_id))
    rows_t = tuple(rows)
    return Penalty(as_of, terms, rows_t, _warnings(terms, rows_t, as_of, limitation_years))


def _barred_days(start: date | None, end: date | None, barred_before: date) -> int:
    if start is None or start >= barred_before:
        return 0
    return (min(end, barred_before - timedelta(days=1)) - start).days + 1


def _total_rows(terms: Terms, late, rate: Decimal, barred_before: date) -> list[Row]:
    amount = terms.contract_amount
    daily = amount * rate
    cap = None if terms.cap_percent is None else amount * terms.cap_percent / HUNDRED
    cap_rounded = None if cap is None else round_tiyn(cap)
    periods = _counted_periods(late)
    amounts = _running_amounts(periods, daily, cap, barred_before)
    rows = []
    for o, until, days, start, end, counted in periods:
        accrued, capped, barred, barred_amount = amounts.get(o.id, (ZERO, False, 0, ZERO))
        rows.append(
            _row(
                o,
                until,
                days,
                counted_from=start,
                counted_to=end,
                days_counted=counted,
                base=amount,
                daily_exact=daily,
                accrued=accrued,
                capped=capped,
                cap_amount=cap_rounded,
                days_time_barred=barred,
                time_barred=barred_amount,
            )
        )
    return rows


def _row(o: Obligation, until: date, days: int, **figures) -> Row:
    """The row of obligation `o`, late `days` days until `until`, with its figures."""
    return Row(
        milestone_id=o.id,
        title=o.title,
        due_on=o.due_on,
        effective_due_on=o.effective_due_on,
        counted_until=until,
        days_late=days,
        **figures,
    )


def _counted_periods(late) -> list[tuple]:
    """(obligation, until, days late, counted from, counted to, days counted) of each late
    obligation: the days of the contract's lateness are counted once, whoever is late."""
    # Earliest due first: each takes the days of its late period not already taken. Every
    # earlier-due period starts no later, so what is left is one period at the end.
    taken_until: date | None = None
    periods = []
    for o, until, days in late:
        start = o.effective_due_on + timedelta(days=1)
        if taken_until is not None and taken_until >= start:
            start = taken_until + timedelta(days=1)
        if start <= until:
            periods.append((o, until, days, start, until, (until - start).days + 1))
            taken_until = until if taken_until is None else max(taken_until, until)
        else:
            periods.append((o, until, days, None, None, 0))
    return periods


def _running_amounts(
    periods: list[tuple], daily: Decimal, cap: Decimal | None, barred_before: date
) -> dict[int, tuple[Decimal, bool, int, Decimal]]:
    """obligation id -> (accrued, capped, days time-barred, amount time-barred)."""
    # Count the periods in calendar order: the running total, capped, rounded once at each end.
    order = sorted(
        (p for p in periods if p[3] is not None),
        key=lambda p: p[3],
    )
    amounts: dict[int, tuple[Decimal, bool, int, Decimal]] = {}
    running_days = 0
    previous = ZERO
    for o, _until, _days, start, end, counted in order:
        before_days = running_days
        running_days += counted
        exact = daily * running_days
        capped = cap is not None and exact > cap
        if capped:
            exact = cap
        rounded = round_tiyn(exact)
        barred = _barred_days(start, end, barred_before)
        barred_amount = ZERO
        if barred:
            barred_exact = daily * (before_days + barred)
            if cap is not None and barred_exact > cap:
                barred_exact = cap
            barred_amount = round_tiyn(barred_exact) - previous
        amounts[o.id] = (rounded - previous, capped, barred, barred_amount)
        previous = rounded
    return amounts


def _outstanding_row(
    terms: Terms, o: Obligation, until: date, days: int, rate: Decimal, barred_before: date
) -> Row:
    missing = o.value is None
    base = ZERO if o.value is None else o.value
    daily = base * rate
    cap = None if terms.cap_percent is None else base * terms.cap_percent / HUNDRED
    exact = daily * days
    capped = cap is not None and base > 0 and exact > cap
    if capped:
        exact = cap
    start = o.effective_due_on + timedelta(days=1)
    barred = _barred_days(start, until, barred_before)
    barred_exact = daily * barred
    if cap is not None and barred_exact > cap:
        barred_exact = cap
    return _row(
        o,
        until,
        days,
        counted_from=start,
        counted_to=until,
        days_counted=days,
        base=base,
        daily_exact=daily,
        accrued=round_tiyn(exact) if base > 0 else ZERO,
        capped=capped,
        cap_amount=None if cap is None else round_tiyn(cap),
        missing_value=missing,
        days_time_barred=barred,
        time_barred=round_tiyn(barred_exact) if base > 0 else ZERO,
    )


def _warnings(
    terms: Terms, rows: tuple[Row, ...], as_of: date, years: int
) -> tuple[PenaltyWarning, ...]:
    out = []
    total = sum((r.accrued for r in rows), ZERO)
    capped = [r for r in rows if r.capped]
    if capped:
        # One cap for the contract with base `total`; each obligation's own with `outstanding`.
        if terms.base == TOTAL:
            limit = capped[0].cap_amount
        else:
            limit = sum((r.cap_amount for r in capped), ZERO)
        out.append(PenaltyWarning("cap_reached", amount=limit))
    elif terms.cap_percent is None and total > terms.contract_amount:
        out.append(PenaltyWarning("above_contract_sum", amount=terms.contract_amount))
    barred_days = sum(r.days_time_barred for r in rows)
    if barred_days:
        out.append(
            PenaltyWarning(
                "time_barred",
                amount=sum((r.time_barred for r in rows), ZERO),
                days=barred_days,
                since=limitation_start(as_of, years),
                years=years,
            )
        )
    return tuple(out)
