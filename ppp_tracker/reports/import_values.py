"""The texts of an import file's cells as the values the registry's services take: dates, money,
numbers, yes/no, a code by its label in any language, a record by its name, BIN or id.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from ppp_tracker.auth.access import scope
from ppp_tracker.auth.models import User
from ppp_tracker.core.enums import LabelledEnum
from ppp_tracker.core.folding import field_is
from ppp_tracker.core.validation import normalise_dashes
from ppp_tracker.db import db
from ppp_tracker.money import MoneyError, parse_money, parse_percent
from ppp_tracker.registry.models import Party
from ppp_tracker.reports.import_files import (
    COLUMNS,
    MAX_CELL,
    as_written,
)
from ppp_tracker.reports.models import ImportKind


class RowError(Exception):
    def __init__(self, column: str | None, message: str):
        super().__init__(message)
        self.column = column
        self.message = message


def _enum_map(enum_cls: type[LabelledEnum]) -> dict[str, str]:
    """Accepted texts → code: the code itself («delivery») and its label in every language,
    whole or without its explanation in brackets («Поставка (исполнение)», «Поставка»,
    «Жеткізу»), folded as a search folds them."""
    out: dict[str, str] = {}
    for member in enum_cls:
        out[as_written(member.value)] = member.value
        for language in current_app.config["LANGUAGES"]:
            with force_locale(language):
                label = str(member.label)
            out.setdefault(as_written(label), member.value)
            out.setdefault(as_written(re.sub(r"\s*\(.*\)\s*$", "", label)), member.value)
    return out


class NoSuchDay(ValueError):
    """A date in the right format that the calendar does not have (31.02.2027)."""


_TRUE = {"1", "yes", "y", "true", "да", "иә", "ия", "+", "x"}
_FALSE = {"0", "no", "n", "false", "нет", "жоқ", "-"}


class Converter:
    """Turns a row's texts into the values the registry services take; caches look-ups."""

    def __init__(self, user: User, kind: ImportKind):
        self.user = user
        self.columns = {c.key: c for c in COLUMNS[kind]}
        self.enums: dict[type, dict[str, str]] = {}

    def value(self, key: str, text: str):
        column = self.columns[key]
        text = (text or "").strip()
        if len(text) > MAX_CELL:
            raise RowError(key, _("At most %(n)d characters.", n=MAX_CELL))
        if not text:
            if column.required:
                raise RowError(key, _("This field is required."))
            return None
        kind = column.kind
        try:
            if kind == "date":
                return parse_date(text)
            if kind == "money":
                return parse_money(text)
            if kind == "percent":
                return parse_percent(text)
            if kind == "int":
                number = Decimal(text.replace(" ", "").replace("\u00a0", "").replace(",", "."))
                if number != number.to_integral_value():
                    raise ValueError
                return int(number)
            if kind == "decimal":
                return Decimal(text.replace(" ", "").replace("\u00a0", "").replace(",", "."))
        except NoSuchDay:
            raise RowError(key, _("No such day: %(date)s.", date=text)) from None
        except (ValueError, MoneyError, InvalidOperation):
            messages = {
                "date": _("Not a date; write it as DD.MM.YYYY."),
                "money": _("Not an amount in tenge with at most two decimals."),
                "percent": _("Not a percentage."),
                "int": _("Must be a whole number."),
                "decimal": _("Must be a number."),
            }
            raise RowError(key, messages[kind]) from None
        if kind == "bool":
            lowered = text.lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise RowError(key, _("Write yes or no."))
        if kind == "enum":
            mapping = self.enums.setdefault(column.enum, _enum_map(column.enum))
            found = mapping.get(as_written(text))
            if found is None:
                raise RowError(
                    key,
                    _(
                        "Unknown value «%(value)s»; allowed: %(allowed)s.",
                        value=text,
                        allowed=", ".join(str(m.label) for m in column.enum),
                    ),
                )
            return found
        if kind == "party":
            return self.party(key, text)
        return normalise_dashes(text) if key == "number" else text

    def party(self, key: str, text: str) -> int:
        compact = text.replace(" ", "")
        if re.fullmatch(r"\d{12}", compact):
            found = db.session.scalar(sa.select(Party.id).where(Party.bin == compact))
            if found is None:
                raise RowError(key, _("No counterparty with the BIN %(bin)s.", bin=compact))
            return found
        ids = db.session.scalars(
            sa.select(Party.id).where(field_is(Party, "name", text)).limit(2)
        ).all()
        if not ids:
            raise RowError(key, _("No counterparty named %(name)s.", name=text))
        if len(ids) > 1:
            raise RowError(
                key, _("Several counterparties are named %(name)s; give the BIN.", name=text)
            )
        return ids[0]

    def scoped_one(self, key: str, model, name: str, text: str) -> int:
        """A record of the user's regions by its id or its name (its title), as the app shows
        it: any case, ё = е, quotes alike (core.folding)."""
        stmt = sa.select(model.id)
        if text.isdigit():
            stmt = stmt.where(model.id == int(text))
        else:
            stmt = stmt.where(field_is(model, name, text))
        ids = db.session.scalars(scope(stmt, self.user, model.region_code).limit(2)).all()
        if not ids:
            raise RowError(key, _("Nothing called %(name)s in your regions.", name=text))
        if len(ids) > 1:
            raise RowError(key, _("Several records are called %(name)s; give the id.", name=text))
        return ids[0]


def parse_date(text: str) -> date:
    text = text.strip()
    match = re.fullmatch(r"(\d{1,2})[./](\d{1,2})[./](\d{4})", text)
    if match:
        day, month, year = (int(g) for g in match.groups())
    else:
        match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00)?)?", text)
        if not match:
            raise ValueError(text)
        year, month, day = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise NoSuchDay(text) from None


def convert(converter: Converter, values: dict[str, str], keys: list[str]) -> dict[str, Any]:
    """The values of `keys` in a row; RowGroupError names every cell that is wrong."""
    out: dict[str, Any] = {}
    problems: list[RowError] = []
    for key in keys:
        if key not in values and not converter.columns[key].required:
            continue
        try:
            out[key] = converter.value(key, values.get(key, ""))
        except RowError as exc:
            problems.append(exc)
    if problems:
        raise RowGroupError(problems)
    return out


class RowGroupError(Exception):
    def __init__(self, problems: list[RowError]):
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems
