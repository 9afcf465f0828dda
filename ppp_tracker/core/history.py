"""The audit trail in words: what a history line says instead of table names and raw codes.

An audit event stores the table, the column names and plain values (`core.audit`); a person reads
"Contract · Penalty base: total amount → outstanding value", not `penalty_base: total`. Labels of
records and fields are registered here by the features (`ENTITY_LABELS`, `FIELD_LABELS`); values
are read through the column's own type: a labelled enumeration gives its label, money is formatted,
a date is written as a date. A field nobody labelled is shown humanised ("grace working days"),
never as the bare code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ppp_tracker.core.web import format_date, format_timestamp, locale_code
from ppp_tracker.db import Money, db
from ppp_tracker.money import format_money

#: table name -> label of one record of it ("Milestone").
ENTITY_LABELS: dict[str, object] = {}
#: (table name, column name) -> fn(value) -> words, for a value whose type does not say how to
#: read it (a free code that names a known thing).
VALUE_TEXTS: dict[tuple[str, str], object] = {}
#: column name -> label; (table name, column name) -> label where a table means something else.
FIELD_LABELS: dict[str | tuple[str, str], object] = {
    "title": _l("Title"),
    "name": _l("Name"),
    "number": _l("Number"),
    "status": _l("Status"),
    "region_code": _l("Region"),
    "description": _l("Description"),
    "note": _l("Note"),
}


@dataclass(frozen=True)
class Change:
    field: str
    old: str | None
    new: str | None


def entity_label(entity_type: str) -> str:
    label = ENTITY_LABELS.get(entity_type)
    return str(label) if label is not None else _humanise(entity_type)


def _humanise(code: str) -> str:
    text = code.removesuffix("_id").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def field_label(entity_type: str, key: str) -> str:
    label = FIELD_LABELS.get((entity_type, key), FIELD_LABELS.get(key))
    return str(label) if label is not None else _humanise(key)


@cache
def _columns(entity_type: str) -> dict[str, sa.Column]:
    for mapper in db.Model.registry.mappers:
        table = getattr(mapper.class_, "__table__", None)
        if table is not None and table.name == entity_type:
            return {c.key: c for c in mapper.columns}
    return {}


def value_text(entity_type: str, key: str, value) -> str | None:
    """A stored value as a person reads it (None stays None: the page shows a dash)."""
    if value is None:
        return None
    words = VALUE_TEXTS.get((entity_type, key))
    if words is not None:
        return str(words(value))
    column = _columns(entity_type).get(key)
    kind = column.type if column is not None else None
    if column is not None and column.foreign_keys and isinstance(value, int):
        return f"#{value}"  # a reference to another record, not a quantity
    if isinstance(value, bool) or isinstance(kind, sa.Boolean):
        return _("yes") if value else _("no")
    if isinstance(kind, sa.Enum) and kind.enum_class is not None:
        try:
            member = kind.enum_class(value)
        except ValueError:
            return str(value)
        return str(getattr(member, "label", value))
    if isinstance(kind, Money):
        try:
            return format_money(Decimal(str(value)), locale_code())
        except (InvalidOperation, ValueError):
            return str(value)
    if isinstance(kind, sa.Date) and isinstance(value, str):
        try:
            return format_date(date.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(kind, sa.DateTime) and isinstance(value, str):
        try:
            return format_timestamp(datetime.fromisoformat(value))
        except ValueError:
            return value
    return str(value)


def changes(event) -> list[Change]:
    """An audit event's changes, labelled, in the order they were recorded."""
    out = []
    for key, pair in (event.changes or {}).items():
        if key == "id":
            continue  # the record's own number is in the line already
        old, new = [*pair, None, None][:2] if isinstance(pair, list) else (None, pair)
        out.append(
            Change(
                field_label(event.entity_type, key),
                value_text(event.entity_type, key, old),
                value_text(event.entity_type, key, new),
            )
        )
    return out
