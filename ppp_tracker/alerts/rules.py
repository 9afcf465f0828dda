"""Alert rules: which reminders a milestone gets and when (plain values in, plain values out).

A reminder *stage* is named by its rule — `before_30` … `before_1`, `due_day`, `overdue_1`,
`overdue_8`, … (the number is the days late on the day it fires) — and has the date it fires on,
counted in calendar days from the effective due date. A scan on day T sends only the latest stage
whose date has come (`latest_stage`), so a scan that did not run for days catches up with one
reminder that says what is true today, not with a flood of stale ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from flask_babel import ngettext

#: The reminders every contract gets unless its own rules say otherwise (issue 3).
DEFAULT_DAYS_BEFORE = (30, 14, 7, 3, 1)
DEFAULT_OVERDUE_EVERY_DAYS = 7
MAX_DAYS_BEFORE = 365
MAX_REMINDERS_BEFORE = 10

_RULE = re.compile(r"^(before|overdue)_(\d{1,4})$")


@dataclass(frozen=True)
class Stage:
    rule: str
    fire_on: date


@dataclass(frozen=True)
class AlertRules:
    """One contract's reminder rules."""

    days_before: tuple[int, ...] = DEFAULT_DAYS_BEFORE
    on_due_day: bool = True
    #: Remind the day after the effective due date…
    overdue: bool = True
    #: …and then every N days until met or waived (0: only the day after).
    overdue_every_days: int = DEFAULT_OVERDUE_EVERY_DAYS

    @property
    def sends_anything(self) -> bool:
        return bool(self.days_before) or self.on_due_day or self.overdue

    def latest_stage(self, effective_due_on: date, as_of: date) -> Stage | None:
        """The latest reminder whose day has come on `as_of` and that is still true then.

        A "due in N days" reminder is only sent before the due date and "due today" only on it:
        a scan that missed them sends the reminder that describes the situation on `as_of`.
        """
        e = effective_due_on
        if as_of > e:
            if not self.overdue:
                return None
            late = (as_of - e).days
            k = (
                1
                if self.overdue_every_days <= 0
                else 1 + self.overdue_every_days * ((late - 1) // self.overdue_every_days)
            )
            return Stage(f"overdue_{k}", e + timedelta(days=k))
        if as_of == e:
            return Stage("due_day", e) if self.on_due_day else None
        left = (e - as_of).days
        candidates = [n for n in self.days_before if n >= left]
        if not candidates:
            return None
        n = min(candidates)
        return Stage(f"before_{n}", e - timedelta(days=n))

    def next_fire_after(self, effective_due_on: date, after: date) -> date | None:
        """The first day after `after` on which a reminder fires; None when none ever will."""
        e = effective_due_on
        candidates = [
            e - timedelta(days=n) for n in self.days_before if e - timedelta(days=n) > after
        ]
        if self.on_due_day and e > after:
            candidates.append(e)
        if self.overdue:
            first = e + timedelta(days=1)
            if first > after:
                candidates.append(first)
            elif self.overdue_every_days > 0:
                late = (after - e).days
                steps = (late - 1) // self.overdue_every_days + 1
                candidates.append(first + timedelta(days=steps * self.overdue_every_days))
        return min(candidates) if candidates else None

    def first_fire(self, effective_due_on: date) -> date | None:
        """The day of the earliest reminder of a due date (where a fresh plan starts)."""
        return self.next_fire_after(effective_due_on, date.min)

    def text(self) -> str:
        """The rules in words, for the contract page."""
        parts = []
        if self.days_before:
            parts.append(
                # The noun agrees with the last number said ("за 30, 14 и 1 день").
                ngettext(
                    "%(days)s day before",
                    "%(days)s days before",
                    min(self.days_before),
                    days=", ".join(str(n) for n in sorted(self.days_before, reverse=True)),
                )
            )
        if self.on_due_day:
            parts.append(_("on the due day"))
        if self.overdue:
            if self.overdue_every_days > 0:
                parts.append(
                    ngettext(
                        "the day after when overdue, then every %(num)d day",
                        "the day after when overdue, then every %(num)d days",
                        self.overdue_every_days,
                    )
                )
            else:
                parts.append(_("the day after when overdue"))
        return "; ".join(parts) if parts else _("no reminders")


def parse_days(text: str) -> tuple[int, ...]:
    """ "30, 14, 7" → (30, 14, 7); raises ValueError with a message for people."""
    items = [part.strip() for part in re.split(r"[,;\s]+", text or "") if part.strip()]
    days = []
    for item in items:
        if not item.isdigit():
            raise ValueError(_("Give whole numbers of days separated by commas, e.g. 30, 14, 7."))
        n = int(item)
        if not 1 <= n <= MAX_DAYS_BEFORE:
            raise ValueError(_("Each number must be between 1 and %(max)d.", max=MAX_DAYS_BEFORE))
        days.append(n)
    if len(set(days)) != len(days):
        raise ValueError(_("A number of days is listed twice."))
    if len(days) > MAX_REMINDERS_BEFORE:
        raise ValueError(_("At most %(n)d reminders before the due date.", n=MAX_REMINDERS_BEFORE))
    return tuple(sorted(days, reverse=True))


def format_days(days: tuple[int, ...]) -> str:
    return ", ".join(str(n) for n in sorted(days, reverse=True))


def rule_label(rule: str) -> str:
    """A stage's name for people: "7 days before", "due day", "overdue (day 8)"."""
    if rule == "due_day":
        return _("due day")
    match = _RULE.match(rule)
    if not match:
        return rule
    kind, number = match.group(1), int(match.group(2))
    if kind == "before":
        return ngettext("%(num)d day before", "%(num)d days before", number)
    return _("overdue, day %(n)d", n=number)


def is_overdue_rule(rule: str) -> bool:
    return rule.startswith("overdue_")
