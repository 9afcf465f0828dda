"""Search in Russian and Kazakh on both databases: one folding of text, kept on write.

SQLite's `lower()` and `LIKE` fold ASCII letters only, so «АРМАНКЕН» cannot be found as
«арманкен» by asking the database to fold. Instead each searchable record keeps its searched
fields folded here (any case, ё = е, «» "" „“ alike, dashes and spaces as typed in Word) in one
column, `search_text`, written in the flush that changes them; a search folds its term the same
way and compares with a plain `LIKE`, which then needs no folding from either database. On
PostgreSQL a trigram (pg_trgm) GIN index on that column serves `LIKE '%…%'`.

`search_text` holds the fields in the order of `__searched__`, one per line (a folded field has
no line break), always all of them: "name\\nbin\\nemail". A term never spans two fields, and one
field can be asked about alone (`field_is`, `field_contains`): its place is known by the number
of line breaks before and after it.
"""

from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

#: Quotes people and word processors type around names: all become one plain quote.
_QUOTES = "«»„“”‟″〝〞＂‹›"
_TABLE = str.maketrans(
    {
        "ё": "е",
        **{q: '"' for q in _QUOTES},
        **{q: "'" for q in "‘’‚‛`"},
        **{d: "-" for d in "\u2010\u2011\u2012\u2013\u2014\u2212"},
    }
)
_SPACES = re.compile(r"\s+")
#: Separates the fields in `search_text`; folding turns every other break into a space.
SEPARATOR = "\n"


def fold(text: str | None) -> str:
    """Text as search compares it: «ТОО „Қызмет“ Ёлка» → 'тоо "қызмет" елка'.

    Unicode case folding (Cyrillic and Kazakh letters included: Қ→қ, Ө→ө, І→і), composed form
    (an е with a combining diaeresis is ё), ё read as е, every kind of double quote as ", of
    single quote as ', of dash as -, and runs of spaces as one space."""
    if not text:
        return ""
    folded = unicodedata.normalize("NFC", str(text)).casefold().translate(_TABLE)
    return _SPACES.sub(" ", folded).strip()


def _escape(folded: str) -> str:
    return folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def pattern(term: str) -> str:
    """The LIKE pattern finding `term` anywhere (its % and _ are taken literally)."""
    return f"%{_escape(fold(term))}%"


def contains(column, term: str):
    """`column` (a `search_text`, or a column whose values are ASCII: codes, e-mails, digits)
    contains `term`, folded alike."""
    if getattr(column, "info", {}).get("folded") or _is_folded(column):
        return column.like(pattern(term), escape="\\")
    return sa.func.lower(column).like(pattern(term), escape="\\")


def _is_folded(column) -> bool:
    prop = getattr(column, "property", None)
    columns = getattr(prop, "columns", None) or []
    return any(getattr(c, "info", {}).get("folded") for c in columns)


def _field_pattern(entity, name: str, inner: str):
    fields = sa.inspect(entity).mapper.class_.__searched__
    index = fields.index(name)
    before = f"%{SEPARATOR}" * index
    after = f"{SEPARATOR}%" * (len(fields) - 1 - index)
    return entity.search_text.like(f"{before}{inner}{after}", escape="\\")


def field_is(entity, name: str, value: str):
    """The searched field `name` of `entity` (a model or an alias) is `value`, folded alike: the
    import matches names so. (The field has as many line breaks before it as its place.)"""
    return _field_pattern(entity, name, _escape(fold(value)))


def field_contains(entity, name: str, term: str):
    """The searched field `name` of `entity` (a model or an alias) contains `term`."""
    return _field_pattern(entity, name, pattern(term))


def search_text(record) -> str:
    return SEPARATOR.join(fold(getattr(record, name)) for name in record.__searched__)


class Searchable:
    """Mixin: the record is found by the fields named in `__searched__` (first: its name).

    The mixin's class hook adds the trigram index on PostgreSQL. `search_text` is bookkeeping
    that the audit log leaves out (core.audit), like the times of a change."""

    __searched__: tuple[str, ...] = ()

    #: The fields of `__searched__`, folded (core.folding), one per line; kept on every flush.
    search_text: Mapped[str] = mapped_column(
        sa.Text, default="", server_default="", info={"folded": True}
    )

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        table = getattr(cls, "__table__", None)
        if table is not None and "search_text" in table.c:
            sa.Index(
                f"ix_{table.name}_search_trgm",
                table.c.search_text,
                postgresql_using="gin",
                postgresql_ops={"search_text": "gin_trgm_ops"},
                info={"dialect": "postgresql"},
            ).ddl_if(dialect="postgresql")


@event.listens_for(Session, "before_flush")
def _keep_search_text(session, _flush_context, _instances) -> None:
    """Refold what a flush is about to write: new records, and changed searched fields."""
    for record in list(session.new) + list(session.dirty):
        if not isinstance(record, Searchable):
            continue
        if record not in session.new:
            state = sa.inspect(record)
            if not any(state.attrs[name].history.has_changes() for name in record.__searched__):
                continue
        text = search_text(record)
        if record.search_text != text:
            record.search_text = text
